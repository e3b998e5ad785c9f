"""Transient failures: retried by tenacity, within the call's one deadline.

Only failures a retry can fix are retried here - network errors, 5xx and Cloudflare
524 (exponential backoff with jitter, `wait_exponential + wait_random`), 429 (wait
`Retry-After`, capped at `rate_limit_max_wait`; a longer demand is raised at once) and
"Only one message at a time" (`busy_wait`). Each has its own budget of retries; every
wait ends before the call's deadline (`stop_at_deadline`) and within `max_total`.
401 and 403 are not transient: the recovery flow (`_flow.py`) fixes the credentials.

A request that must not be replayed (a conversation POST) is retried only after a
failure that proves the server processed nothing: no connection was made, or it
answered 429 / 503. The parts below are plain module-level tenacity parts; each call
composes them with its own policy and deadline (`transient_retrying`).
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable

import tenacity

from ..errors import (
    ChatGPTTimeoutError,
    ClearanceRejectedError,
    ConnectError,
    NetworkError,
    RateLimitError,
    ServerError,
    StreamError,
)
from ..site import is_busy

log = logging.getLogger(__name__)


class Reason(enum.Enum):
    """Why an attempt failed, as far as transient retrying is concerned."""

    NETWORK = "network"
    SERVER = "server"
    RATE_LIMIT = "rate-limit"
    BUSY = "busy"


def reason_for(error: BaseException | None) -> Reason | None:
    """The transient reason of an error, or None when a retry cannot fix it."""
    if isinstance(error, StreamError):  # includes a cut after partial text
        return None
    if isinstance(error, NetworkError):
        return Reason.NETWORK
    if isinstance(error, ServerError):
        return Reason.SERVER
    if isinstance(error, RateLimitError):
        return Reason.BUSY if is_busy(error) else Reason.RATE_LIMIT
    return None


def proves_nothing_processed(error: BaseException) -> bool:
    """True when the failure shows the server did not act on the request."""
    if isinstance(error, ConnectError):
        return True
    status = getattr(error, "status_code", None)
    return isinstance(error, (RateLimitError, ServerError)) and status in (429, 503)


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """All retry limits of a client, in one value (seconds, counts)."""

    transient_retries: int = 3
    max_total: float = 90.0
    backoff_initial: float = 0.5
    backoff_max: float = 10.0
    jitter: float = 0.5
    rate_limit_retries: int = 2
    rate_limit_max_wait: float = 60.0
    busy_wait: float = 5.0
    busy_retries: int = 6
    auth_recoveries: int = 1
    challenge_renewals: int = 1
    breaker_threshold: int = 3
    breaker_cooldown: float = 300.0

    @classmethod
    def no_retries(cls) -> RetryPolicy:
        """Fail on the first error (the original JS client's behaviour)."""
        return cls(
            transient_retries=0, rate_limit_retries=0, busy_retries=0, auth_recoveries=0, challenge_renewals=0
        )

    def budget(self, reason: Reason) -> int:
        return {
            Reason.NETWORK: self.transient_retries,
            Reason.SERVER: self.transient_retries,
            Reason.RATE_LIMIT: self.rate_limit_retries,
            Reason.BUSY: self.busy_retries,
        }[reason]


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


def _error(retry_state: tenacity.RetryCallState) -> BaseException | None:
    return retry_state.outcome.exception() if retry_state.outcome else None


class retry_if_transient(tenacity.retry_base):
    """Retry what a retry can fix; a non-replayable request only when nothing was processed."""

    def __init__(self, policy: RetryPolicy, replayable: bool) -> None:
        self.policy = policy
        self.replayable = replayable

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        error = _error(retry_state)
        reason = reason_for(error)
        if reason is None or error is None:
            return False
        if not self.replayable and not proves_nothing_processed(error):
            return False
        retry_after = getattr(error, "retry_after", None)
        return not (
            reason is Reason.RATE_LIMIT
            and retry_after is not None
            and retry_after > self.policy.rate_limit_max_wait
        )


class wait_for_reason(tenacity.wait.wait_base):
    """Backoff for transient failures, `Retry-After` (or a fixed wait) for 429s."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        # initial * 2**n capped at backoff_max, plus up to `jitter` seconds of random spread.
        exponential = tenacity.wait_exponential(multiplier=policy.backoff_initial, max=policy.backoff_max)
        self.backoff = exponential + tenacity.wait_random(0, policy.jitter)

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        error = _error(retry_state)
        reason = reason_for(error)
        retry_after = getattr(error, "retry_after", None)
        cap = self.policy.rate_limit_max_wait
        if reason is Reason.RATE_LIMIT:
            return min(cap, self.policy.backoff_max if retry_after is None else retry_after)
        if reason is Reason.BUSY:
            return min(cap, self.policy.busy_wait if retry_after is None else retry_after)
        return float(self.backoff(retry_state))


class stop_after_budget(tenacity.stop.stop_base):
    """Stop when this failure's reason has used its retries (network and 5xx share one).

    The counts are the call's own: the `used` keyword of the retried function."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        reason = reason_for(_error(retry_state))
        used: Counter[Reason] = retry_state.kwargs["used"]
        if reason is None:
            return True
        key = Reason.NETWORK if reason is Reason.SERVER else reason
        if used[key] >= self.policy.budget(reason):
            return True
        used[key] += 1
        return False


class stop_at_deadline(tenacity.stop.stop_base):
    """Stop when the next wait would end at or after the call's deadline (the
    `deadline` keyword of the retried function)."""

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        deadline: Deadline = retry_state.kwargs["deadline"]
        left = deadline.remaining()
        return left is not None and retry_state.upcoming_sleep >= left


def _log_retry(retry_state: tenacity.RetryCallState) -> None:
    error = _error(retry_state)
    reason = reason_for(error)
    what = retry_state.kwargs.get("what", "request")
    log.warning(
        "%s failed (%s: %s); retry %d in %.2fs",
        what,
        reason.value if reason else "?",
        type(error).__name__,
        retry_state.attempt_number,
        retry_state.upcoming_sleep,
    )


def transient_retrying(
    policy: RetryPolicy,
    *,
    replayable: bool = True,
    sleep: Callable[[float], None] = time.sleep,
) -> tenacity.Retrying:
    """The tenacity `Retrying` of a client's requests, built once. Call it as
    `retrying(send, request, what=..., deadline=..., used=Counter())`: the keywords
    carry each call's own deadline and retry counts."""
    return tenacity.Retrying(
        retry=retry_if_transient(policy, replayable),
        wait=wait_for_reason(policy),
        stop=stop_after_budget(policy) | stop_at_deadline(),
        before_sleep=_log_retry,
        sleep=sleep,
        reraise=True,
    )


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


__all__ = [
    "ChallengeBreaker",
    "Deadline",
    "Reason",
    "RetryPolicy",
    "proves_nothing_processed",
    "reason_for",
    "retry_if_transient",
    "stop_after_budget",
    "stop_at_deadline",
    "transient_retrying",
    "wait_for_reason",
]
