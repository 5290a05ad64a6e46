"""Who may use the model next: live questions first, background prefills (cache warm-ups) after.

On 2 cores one request at a time is fastest, so requests wait at a gate. When the model frees
up, a waiting question always goes before a waiting warm-up. Warm-ups come in short steps
(`Answerer` reads a long article a few passages at a time), and the warm-up goes on between
questions. A speculative warm-up (IDLE: an article a question was routed to, which may never be
asked about again) starts a step only once no question has reached the model for `idle_s`:
questions that come one after another (a busy channel, a batch) never wait behind one of its steps.

A question makes several requests (its answer, the model's doubt, the re-ask). Inside
`question()` no warm-up step starts between them: each step it let in meant a wait of a few
seconds and the question's prompt read back into the server, so a question asked while an article
was being warmed waited for up to three steps (bench/answer_latency.py --during-warm-up).

A question does not wait for the warm-up step under way either: a warm-up's request runs
`preemptible`, and a question that comes in cancels it (`Preempted`). The server stops reading at
the end of its current batch (`llm.batch_tokens`), and the warm-up sends the step again once
questions are done, resuming from what the server had read. Asked while an article was warmed,
the first checked sentence p50 went from 5.8–7.0 s to 2.6–2.7 s (bench/answer_latency.py
--during-warm-up, README).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections.abc import AsyncIterator, Awaitable
from typing import TypeVar

QUESTION, BACKGROUND, IDLE = 0, 1, 2
T = TypeVar("T")


class Preempted(Exception):
    """A warm-up's request was cancelled because a question came in: send it again later."""


class PriorityGate:
    def __init__(self, capacity: int, idle_s: float = 0.0):
        self._free = capacity
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._idle_s = idle_s
        self._questions = 0  # questions waiting or being answered
        self._last_question = -float("inf")  # loop time a question last finished
        self._preemptible: set[asyncio.Future[object]] = set()  # warm-ups' requests under way

    @contextlib.asynccontextmanager
    async def hold(self, priority: int = QUESTION) -> AsyncIterator[None]:
        """The model, for one request."""
        if priority == QUESTION:
            self._question_in()
        elif priority == IDLE:
            await self._quiet()
        try:
            await self._acquire(priority)
            try:
                yield
            finally:
                self._release()
        finally:
            if priority == QUESTION:
                self._question_done()

    @contextlib.asynccontextmanager
    async def question(self) -> AsyncIterator[None]:
        """A question being answered, from its first request to its last: warm-ups wait until it
        is done (its own requests still `hold` the model one at a time)."""
        self._question_in()
        try:
            yield
        finally:
            self._question_done()

    async def preemptible(self, request: Awaitable[T]) -> T:
        """Await a warm-up's `request` (made inside `hold`), cancelled when a question comes in
        meanwhile: then raise Preempted. A question already in lets no warm-up hold the model."""
        running = asyncio.ensure_future(request)
        if self._questions and self._free == 0:
            running.cancel()  # one came in while the warm-up got ready (a slot restore)
        self._preemptible.add(running)
        try:
            return await running
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if running.cancelled() and task is not None and not task.cancelling():
                raise Preempted from None  # the request was cancelled, not this warm-up
            raise
        finally:
            self._preemptible.discard(running)

    def _question_in(self) -> None:
        self._questions += 1
        if self._free == 0:  # else the question has a slot of its own
            for running in self._preemptible:
                running.cancel()

    def _question_done(self) -> None:
        self._questions -= 1
        self._last_question = asyncio.get_running_loop().time()
        # Warm-ups held back while questions were answered may go now, one a free slot.
        while self._questions == 0 and self._free > 0 and self._live_waiters():
            self._free -= 1
            self._release()

    async def _quiet(self) -> None:
        """Return once no question is in, and none has been for `idle_s`."""
        loop = asyncio.get_running_loop()
        while True:
            idle_for = loop.time() - self._last_question
            if self._questions == 0 and idle_for >= self._idle_s:
                return
            await asyncio.sleep(max(self._idle_s - idle_for, 0.05))

    async def _acquire(self, priority: int) -> None:
        if self._may_take_free_slot(priority):
            self._free -= 1
            return
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, next(self._order), granted))
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                self._release()  # granted just as we were cancelled: pass the slot on
            raise

    def _may_take_free_slot(self, priority: int) -> bool:
        """A question goes first unless another question waits; a warm-up only when nothing
        waits and no question is being answered (warm-ups held back wait with a free slot)."""
        if self._free == 0:
            return False
        live = self._live_waiters()
        if priority == QUESTION:
            return QUESTION not in live
        return not live and self._questions == 0

    def _live_waiters(self) -> list[int]:
        """The priorities of the waiters not cancelled meanwhile."""
        return [priority for priority, _, granted in self._waiting if not granted.done()]

    def _release(self) -> None:
        while self._waiting:
            if self._waiting[0][0] != QUESTION and self._questions > 0:
                break  # only warm-ups wait, and a question is still being answered
            _, _, granted = heapq.heappop(self._waiting)
            if not granted.done():  # skip waiters that were cancelled meanwhile
                granted.set_result(None)
                return
        self._free += 1
