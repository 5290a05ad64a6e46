"""The LLM gate: questions before warm-ups, and a question takes the model from a warm-up."""

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

    first = asyncio.create_task(use("first", QUESTION))
    await asyncio.sleep(0)
    tasks = [asyncio.create_task(use("warm-up", BACKGROUND)), asyncio.create_task(use("question", QUESTION))]
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(first, *tasks)
    assert order == ["first", "question", "warm-up"]


async def test_a_question_takes_the_model_from_a_warm_up():
    gate = PriorityGate(1)
    holding = asyncio.Event()

    async def warm_up() -> str:
        try:
            async with gate.hold(BACKGROUND):
                holding.set()
                await asyncio.sleep(60)  # a long prefill
            return "done"
        except asyncio.CancelledError:
            task = asyncio.current_task()
            assert task is not None and gate.preempted(task)
            task.uncancel()
            return "preempted"

    background = asyncio.create_task(warm_up())
    await holding.wait()
    async with asyncio.timeout(1):
        async with gate.hold(QUESTION):
            pass
    assert await background == "preempted"
    async with asyncio.timeout(1):  # and the gate is free again
        async with gate.hold(BACKGROUND):
            pass


async def test_a_cancelled_waiter_does_not_lose_the_slot():
    gate = PriorityGate(1)
    async with gate.hold(QUESTION):
        waiter = asyncio.create_task(gate.hold(QUESTION).__aenter__())
        await asyncio.sleep(0)
        waiter.cancel()
    async with asyncio.timeout(1):
        async with gate.hold(QUESTION):
            pass
