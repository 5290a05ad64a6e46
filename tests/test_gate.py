"""The LLM gate: when the model frees up, a waiting question goes before a waiting warm-up."""

from __future__ import annotations

import asyncio

from bot.llm.gate import BACKGROUND, QUESTION, PriorityGate


async def test_waiting_questions_go_before_waiting_warm_ups():
    gate = PriorityGate(1)
    order: list[str] = []
    release = asyncio.Event()

    async def use(name: str, priority: int) -> None:
        async with gate.hold(priority):
            order.append(name)
            if name == "first":
                await release.wait()

    first = asyncio.create_task(use("first", BACKGROUND))
    await asyncio.sleep(0)
    tasks = [asyncio.create_task(use("warm-up", BACKGROUND)), asyncio.create_task(use("question", QUESTION))]
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(first, *tasks)
    assert order == ["first", "question", "warm-up"]


async def test_a_cancelled_waiter_does_not_lose_the_slot():
    gate = PriorityGate(1)
    async with gate.hold(QUESTION):
        waiter = asyncio.create_task(gate.hold(QUESTION).__aenter__())
        await asyncio.sleep(0)
        waiter.cancel()
    async with asyncio.timeout(1):
        async with gate.hold(QUESTION):
            pass
