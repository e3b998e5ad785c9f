"""The emulator's clock: wall time plus an offset that the admin API can move forward.

Every expiry (clearances, sessions, access tokens, rate-limit windows, challenge dwell)
is judged against this clock, so tests can make an hour pass instantly.
"""

from __future__ import annotations

import time


class Clock:
    def __init__(self) -> None:
        self._offset = 0.0

    def now(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._offset += seconds
        return self.now()

    @property
    def offset(self) -> float:
        return self._offset
