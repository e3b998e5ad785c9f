"""The one deadline of a call, and waiting on a lock no longer than it."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections.abc import Callable, Iterator

from ..errors import ChatGPTTimeoutError


@dataclasses.dataclass(frozen=True)
class Deadline:
    """The one deadline of a call (monotonic seconds; None: no limit)."""

    at: float | None
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def after(cls, seconds: float | None, clock: Callable[[], float] = time.monotonic) -> Deadline:
        return cls(None if seconds is None else clock() + seconds, clock)

    def earlier(self, seconds: float) -> Deadline:
        """This deadline, or `seconds` from now if that comes first."""
        limit = self.clock() + seconds
        return Deadline(limit if self.at is None else min(self.at, limit), self.clock)

    def remaining(self) -> float | None:
        return None if self.at is None else self.at - self.clock()

    def cap(self, seconds: float, what: str) -> float:
        """`seconds`, or less if the deadline is nearer; raises once it has passed."""
        left = self.remaining()
        if left is None:
            return seconds
        if left <= 0:
            raise ChatGPTTimeoutError(f"{what}: the call's timeout passed")
        return min(seconds, left)


@contextlib.contextmanager
def locked(lock: threading.Lock | threading.RLock, deadline: Deadline) -> Iterator[None]:
    """Hold `lock`, waiting for another thread's fix no longer than the call's deadline."""
    left = deadline.remaining()
    if not lock.acquire(timeout=-1 if left is None else max(left, 0.0)):
        raise ChatGPTTimeoutError("the call's timeout passed while another thread renewed the credentials")
    try:
        yield
    finally:
        lock.release()


__all__ = ["Deadline", "locked"]
