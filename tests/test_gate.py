"""The LLM gate: when the model frees up, a waiting question goes before a waiting warm-up."""

from __future__ import annotations

import asyncio

import pytest

from bot.llm.gate import BACKGROUND, IDLE, QUESTION, Preempted, PriorityGate


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


async def test_a_speculative_warm_up_waits_until_questions_have_stopped_coming():
    gate = PriorityGate(1, idle_s=0.2)
    loop = asyncio.get_running_loop()
    async with gate.hold(QUESTION):
        pass
    finished = loop.time()
    async with gate.hold(IDLE):
        started = loop.time()
    assert started - finished >= 0.19  # not straight after the question
    order: list[str] = []

    async def warm_up() -> None:
        async with gate.hold(IDLE):
            order.append("warm-up")

    async def questions() -> None:
        for _ in range(3):  # each comes 0.1 s after the last: the warm-up never slips in between
            async with gate.hold(QUESTION):
                order.append("question")
            await asyncio.sleep(0.1)

    asking = asyncio.create_task(questions())
    await asyncio.sleep(0)  # the first question is in
    await asyncio.gather(warm_up(), asking)
    assert order == ["question", "question", "question", "warm-up"]


async def test_a_deliberate_warm_up_does_not_wait_for_quiet():
    gate = PriorityGate(1, idle_s=60)
    async with gate.hold(QUESTION):
        pass
    async with asyncio.timeout(1):
        async with gate.hold(BACKGROUND):
            pass


async def test_no_warm_up_step_runs_between_the_requests_of_one_question():
    gate = PriorityGate(1)
    order: list[str] = []

    async def warm_up() -> None:
        async with gate.hold(BACKGROUND):
            order.append("warm-up")

    async with asyncio.timeout(1), gate.question():
        async with gate.hold(QUESTION):
            order.append("answer")
            stepping = asyncio.create_task(warm_up())  # arrives while the answer is written
            await asyncio.sleep(0)
        await asyncio.sleep(0.05)  # the checks run: the model is free, the warm-up waits
        async with gate.hold(QUESTION):  # and the question's next request takes it
            order.append("re-ask")
    async with asyncio.timeout(1):
        await stepping  # and goes once the question is done
    assert order == ["answer", "re-ask", "warm-up"]


async def test_a_question_takes_the_model_while_held_back_warm_ups_wait():
    gate = PriorityGate(1)
    async with gate.question():
        waiting = asyncio.create_task(gate.hold(BACKGROUND).__aenter__())
        await asyncio.sleep(0)
        async with asyncio.timeout(1):  # the free slot is not kept for the warm-up
            async with gate.question(), gate.hold(QUESTION):
                pass
    async with asyncio.timeout(1):
        await waiting


async def test_every_free_slot_goes_to_a_held_back_warm_up_once_the_question_is_done():
    gate = PriorityGate(2)
    holds = [gate.hold(BACKGROUND) for _ in range(2)]  # referenced: none lets go of the model
    async with gate.question():
        warm_ups = [asyncio.create_task(hold.__aenter__()) for hold in holds]
        await asyncio.sleep(0)
        assert not any(w.done() for w in warm_ups)
    async with asyncio.timeout(1):
        await asyncio.gather(*warm_ups)


async def reading_warm_up(gate: PriorityGate, seconds: float) -> asyncio.Task[str]:
    """A warm-up holding the model, once its request (`seconds` long, then "read") is under way."""
    reading = asyncio.Event()

    async def read() -> str:
        reading.set()
        await asyncio.sleep(seconds)
        return "read"

    async def warm_up() -> str:
        async with gate.hold(BACKGROUND):
            return await gate.preemptible(read())

    stepping = asyncio.create_task(warm_up())
    await reading.wait()
    return stepping


async def test_a_question_that_comes_in_cancels_the_warm_up_request_under_way():
    gate = PriorityGate(1)
    stepping = await reading_warm_up(gate, 60)  # a long warm-up step
    async with asyncio.timeout(1), gate.question(), gate.hold(QUESTION):
        pass  # the question has the model at once
    with pytest.raises(Preempted):
        await stepping


async def test_a_warm_up_request_does_not_start_once_a_question_is_in():
    gate = PriorityGate(1)
    started: list[bool] = []

    async def read() -> None:
        started.append(True)

    async with gate.hold(BACKGROUND), gate.question():  # came in while the warm-up restored its prefix
        with pytest.raises(Preempted):
            await gate.preemptible(read())
    assert started == []


async def test_a_warm_up_cancelled_for_another_reason_is_not_preempted():
    stepping = await reading_warm_up(PriorityGate(1), 60)
    stepping.cancel()  # the bot shutting down
    with pytest.raises(asyncio.CancelledError):
        await stepping


async def test_a_question_with_a_free_slot_of_its_own_lets_the_warm_up_go_on():
    gate = PriorityGate(2)
    stepping = await reading_warm_up(gate, 0.05)
    async with asyncio.timeout(1), gate.question(), gate.hold(QUESTION):
        pass
    assert await stepping == "read"
