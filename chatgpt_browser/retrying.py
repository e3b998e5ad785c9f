"""The retry parts every layer shares: one backoff shape and one deadline rule.

The client's transient retries (`client/_retry.py`), the harvest's verification and
"at capacity" retries (`browser/verify.py`, `browser/landing.py`) and the lock waits
(`session/locks.py`) are tenacity compositions of these parts plus their own `retry=`
and attempt limit, so "how long may we wait" is written once: never start a sleep that
would end at or after the operation's deadline.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import tenacity

#: Seconds left before the deadline (None: no limit), read from a retry state: the client
#: keeps one `Retrying` per client and passes each call's own deadline as a keyword.
RemainingOf = Callable[[tenacity.RetryCallState], float | None]


def backoff(initial: float, maximum: float, jitter: float) -> tenacity.wait.wait_base:
    """`initial * 2**n` seconds capped at `maximum`, plus up to `jitter` seconds of spread."""
    return tenacity.wait_exponential(multiplier=initial, max=maximum) + tenacity.wait_random(0, jitter)


class stop_before_deadline(tenacity.stop.stop_base):
    """Stop when the next sleep would end at or after the deadline (`time.monotonic()`
    seconds, None: no limit), or, built with `per_call`, the deadline each call carries."""

    def __init__(self, deadline: float | None, clock: Callable[[], float] = time.monotonic) -> None:
        self._remaining: RemainingOf = lambda _state: None if deadline is None else deadline - clock()

    @classmethod
    def per_call(cls, remaining: RemainingOf) -> stop_before_deadline:
        stop = cls(None)
        stop._remaining = remaining
        return stop

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        left = self._remaining(retry_state)
        return left is not None and retry_state.upcoming_sleep >= left


__all__ = ["RemainingOf", "backoff", "stop_before_deadline"]
