"""Who may use the model now: live questions first, background prefills (cache warm-ups) after.

On 2 cores one request at a time is fastest, so requests wait at a gate. A waiting question
goes before every waiting warm-up, and a question that finds a warm-up holding the gate takes
it over: the warm-up's request is cancelled (llama.cpp keeps what it had read of the prompt,
so the warm-up resumes from there when it gets the gate again).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections.abc import AsyncIterator

QUESTION, BACKGROUND = 0, 1


class PriorityGate:
    def __init__(self, capacity: int):
        self._free = capacity
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._holders: dict[asyncio.Task[object], int] = {}
        self._preempted: set[asyncio.Task[object]] = set()

    @contextlib.asynccontextmanager
    async def hold(self, priority: int = QUESTION) -> AsyncIterator[None]:
        task = asyncio.current_task()
        assert task is not None
        await self._acquire(priority)
        self._holders[task] = priority
        try:
            yield
        finally:
            del self._holders[task]
            self._release()

    def preempted(self, task: asyncio.Task[object]) -> bool:
        """Was `task` cancelled by the gate for a question (not by its owner)? Forgets it."""
        if task in self._preempted:
            self._preempted.discard(task)
            return True
        return False

    async def _acquire(self, priority: int) -> None:
        if self._free > 0 and not self._waiting:
            self._free -= 1
            return
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, next(self._order), granted))
        if priority == QUESTION:
            for holder, held_priority in self._holders.items():
                if held_priority == BACKGROUND and holder not in self._preempted:
                    self._preempted.add(holder)
                    holder.cancel()
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                self._release()  # granted just as we were cancelled: pass the slot on
            raise

    def _release(self) -> None:
        while self._waiting:
            _, _, granted = heapq.heappop(self._waiting)
            if not granted.done():  # skip waiters that were cancelled meanwhile
                granted.set_result(None)
                return
        self._free += 1
