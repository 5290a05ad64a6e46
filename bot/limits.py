"""Abuse control as plain objects: a per-user cooldown and a cap on questions in flight."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Cooldown:
    seconds: float
    clock: Callable[[], float] = time.monotonic
    _last: dict[int, float] = field(default_factory=dict)

    def remaining(self, user_id: int) -> float:
        """0 when the user may ask now (and the cooldown starts), else the seconds left."""
        now = self.clock()
        last = self._last.get(user_id)
        if last is not None and now - last < self.seconds:
            return self.seconds - (now - last)
        self._last[user_id] = now
        if len(self._last) > 10_000:  # forget users whose cooldown is long over
            self._last = {u: t for u, t in self._last.items() if now - t < self.seconds}
        return 0.0


@dataclass
class InFlight:
    """Counts questions being answered; `try_enter` refuses above the cap instead of queueing."""

    cap: int
    count: int = 0

    def try_enter(self) -> bool:
        if self.count >= self.cap:
            return False
        self.count += 1
        return True

    def leave(self) -> None:
        self.count = max(0, self.count - 1)
