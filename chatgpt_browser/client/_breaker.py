"""A circuit breaker for Cloudflare challenges: stop asking once the IP looks burnt.

After `threshold` challenges in a row no request leaves the machine for `cooldown`
seconds (then one attempt goes through), so a dead clearance cannot get the IP banned.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ..errors import ClearanceRejectedError

log = logging.getLogger(__name__)


class ChallengeBreaker:
    """Opens after `threshold` challenges in a row; stays open for `cooldown` seconds."""

    def __init__(
        self,
        threshold: int,
        cooldown: float,
        clock: Callable[[], float] = time.monotonic,
        dedupe_window: float = 2.0,
    ) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self.dedupe_window = dedupe_window
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._last_key: str | None = None
        self._last_counted_at = float("-inf")

    def check(self) -> None:
        """Raise `ClearanceRejectedError` while open (no request leaves the machine)."""
        with self._lock:
            if self._opened_at is None:
                return
            remaining = self._opened_at + self.cooldown - self._clock()
            if remaining <= 0:  # half-open: let one attempt through
                self._opened_at = None
                self._failures = max(0, self.threshold - 1)
                return
        raise ClearanceRejectedError(
            f"circuit breaker open after {self.threshold} Cloudflare challenges in a row; "
            f"not contacting the site for another {remaining:.0f}s to protect the IP",
            status_code=403,
            detail="circuit-open",
        )

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._opened_at is not None and self._clock() < self._opened_at + self.cooldown

    def record_challenge(self, key: str | None = None, started_at: float | None = None) -> None:
        """Count a challenge answered to an attempt that used clearance `key` and began at
        `started_at`. Many threads sharing one bundle all meet the same dead clearance at
        about the same time: attempts with the same clearance that began within
        `dedupe_window` seconds of the last counted one are one failure, not one each."""
        with self._lock:
            recent = started_at is not None and started_at < self._last_counted_at + self.dedupe_window
            if key is not None and key == self._last_key and recent:
                return
            self._last_key = key
            self._last_counted_at = self._clock()
            self._failures += 1
            if self._failures >= self.threshold and self._opened_at is None:
                self._opened_at = self._clock()
                log.error("challenge circuit breaker opened for %.0fs", self.cooldown)

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._last_key = None


__all__ = ["ChallengeBreaker"]
