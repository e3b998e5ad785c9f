"""Retry policies as data, built from tenacity's stop_/wait_/retry_ parts.

Rules (what the caller would do by hand, done once and logged):
- network errors, 5xx and Cloudflare 524: exponential backoff with jitter, bounded by
  `transient_retries` and by `max_total` seconds (attempts plus waits);
- 429: wait `Retry-After` (capped at `rate_limit_max_wait`; a longer demand is raised
  at once); "Only one message at a time" without `Retry-After` waits `busy_wait`;
- 401: recover once (refresh the access token, else reset the session), then retry;
- 403 challenge: ask for a new clearance once, then retry; a `ChallengeBreaker` shared
  by the client stops all traffic for `breaker_cooldown` seconds after
  `breaker_threshold` challenges in a row, to protect the IP;
- no blind replay: once an answer has started streaming (`CallState.streamed`), a
  failure is never retried - the server has already stored the message and part of
  the reply, and a replay would post it twice and rewind `on_progress`. The caller
  gets a `StreamError` carrying the partial response and decides.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import tenacity

from ..errors import (
    AuthenticationError,
    ChallengeRequiredError,
    ChatGPTError,
    NetworkError,
    RateLimitError,
    ServerError,
    StreamError,
)
from .status import is_busy

log = logging.getLogger(__name__)


class Reason(enum.Enum):
    """Why an attempt failed, as far as retrying is concerned."""

    NETWORK = "network"
    SERVER = "server"
    RATE_LIMIT = "rate-limit"
    BUSY = "busy"
    AUTH = "401"
    CHALLENGE = "403-challenge"


def reason_for(error: BaseException) -> Reason | None:
    """The retry reason of an error, or None when it must not be retried."""
    if isinstance(error, StreamError):  # includes a cut after partial text
        return None
    if isinstance(error, NetworkError):
        return Reason.NETWORK
    if isinstance(error, ServerError):
        return Reason.SERVER
    if isinstance(error, RateLimitError):
        return Reason.BUSY if is_busy(error) else Reason.RATE_LIMIT
    if isinstance(error, AuthenticationError):
        return Reason.AUTH
    if isinstance(error, ChallengeRequiredError):
        return Reason.CHALLENGE
    return None


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
            Reason.AUTH: self.auth_recoveries,
            Reason.CHALLENGE: self.challenge_renewals,
        }[reason]

    @property
    def max_attempts(self) -> int:
        return (
            1
            + self.transient_retries
            + self.rate_limit_retries
            + self.busy_retries
            + (self.auth_recoveries + self.challenge_renewals)
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
        """Raise `ChallengeRequiredError` while open (no request leaves the machine)."""
        with self._lock:
            if self._opened_at is None:
                return
            remaining = self._opened_at + self.cooldown - self._clock()
            if remaining <= 0:  # half-open: let one attempt through
                self._opened_at = None
                self._failures = max(0, self.threshold - 1)
                return
        raise ChallengeRequiredError(
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


#: A recovery action run before retrying: (reason, error, call state) -> None; may raise.
Recover = Callable[[Reason, ChatGPTError, "CallState"], None]


class CallState:
    """Per-call retry bookkeeping; `streamed` is set once an answer started arriving."""

    def __init__(
        self, policy: RetryPolicy, clock: Callable[[], float] = time.monotonic, what: str = "request"
    ) -> None:
        self.policy = policy
        self.what = what
        self.clock = clock
        self.started_at = clock()
        self.used: Counter[Reason] = Counter()
        self.streamed = False
        #: The bundle the failing attempt used: a recovery is skipped when another
        #: thread has already replaced it.
        self.used_credentials: Any = None

    def spent(self, reason: Reason) -> int:
        """Retries used for `reason`; network and server failures share one budget."""
        if reason in (Reason.NETWORK, Reason.SERVER):
            return self.used[Reason.NETWORK] + self.used[Reason.SERVER]
        return self.used[reason]


def _call_state(retry_state: tenacity.RetryCallState) -> CallState:
    state = retry_state.args[0]
    assert isinstance(state, CallState), "call the Retrying as retrying(attempt, state)"
    return state


def _error(retry_state: tenacity.RetryCallState) -> BaseException | None:
    return retry_state.outcome.exception() if retry_state.outcome else None


def build_retrying(
    policy: RetryPolicy,
    *,
    recover: Recover | None = None,
    breaker: ChallengeBreaker | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> tenacity.Retrying:
    """A tenacity `Retrying` composed from the policy's parts, built once per client.

    Call it as `retrying(attempt, state)`: `attempt(state)` runs each try, and the parts
    read the per-call `CallState` from tenacity's call arguments, so one `Retrying`
    serves every call and thread (tenacity keeps its iteration state per thread).
    """

    class RetryIfWorthIt(tenacity.retry_base):
        """Retry what a retry can fix, within the per-reason budgets of this call."""

        def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
            state, error = _call_state(retry_state), _error(retry_state)
            reason = reason_for(error) if error is not None else None
            if reason is None or state.streamed:
                return False
            if reason is Reason.CHALLENGE and breaker is not None and breaker.is_open:
                return False
            if reason is Reason.RATE_LIMIT:
                retry_after = getattr(error, "retry_after", None)
                if retry_after is not None and retry_after > policy.rate_limit_max_wait:
                    return False
            return state.spent(reason) < policy.budget(reason)

    # initial * 2**n capped at backoff_max, plus up to `jitter` seconds of random spread.
    backoff = tenacity.wait_exponential(multiplier=policy.backoff_initial, max=policy.backoff_max) + (
        tenacity.wait_random(0, policy.jitter)
    )

    class WaitForReason(tenacity.wait.wait_base):
        """Backoff for transient failures, Retry-After for 429s, none after a recovery."""

        def __call__(self, retry_state: tenacity.RetryCallState) -> float:
            state, error = _call_state(retry_state), _error(retry_state)
            reason = reason_for(error) if error is not None else None
            if reason in (Reason.NETWORK, Reason.SERVER):
                # Backoff grows with the transient failures of this call only.
                proxy = tenacity.RetryCallState(retry_state.retry_object, None, (), {})
                proxy.attempt_number = state.spent(reason) + 1
                return float(backoff(proxy))
            retry_after = getattr(error, "retry_after", None)
            if reason is Reason.RATE_LIMIT:
                return min(
                    policy.rate_limit_max_wait, policy.backoff_max if retry_after is None else retry_after
                )
            if reason is Reason.BUSY:
                return min(
                    policy.rate_limit_max_wait, policy.busy_wait if retry_after is None else retry_after
                )
            return 0.0  # 401 / 403: the recovery itself is the wait

    class StopAfterTotal(tenacity.stop.stop_base):
        """Stop when the next wait would end past `max_total` seconds since the call began."""

        def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
            state = _call_state(retry_state)
            return state.clock() - state.started_at + retry_state.upcoming_sleep > policy.max_total

    def before_sleep(retry_state: tenacity.RetryCallState) -> None:
        state, error = _call_state(retry_state), _error(retry_state)
        assert isinstance(error, ChatGPTError)
        reason = reason_for(error)
        assert reason is not None
        state.used[reason] += 1
        log.warning(
            "%s failed (%s: %s); retry %d in %.2fs",
            state.what,
            reason.value,
            type(error).__name__,
            retry_state.attempt_number,
            retry_state.upcoming_sleep,
        )
        if recover is not None and reason in (Reason.AUTH, Reason.CHALLENGE):
            recover(reason, error, state)

    return tenacity.Retrying(
        retry=RetryIfWorthIt(),
        wait=WaitForReason(),
        stop=tenacity.stop_after_attempt(policy.max_attempts) | StopAfterTotal(),
        before_sleep=before_sleep,
        sleep=sleep,
        reraise=True,
    )


__all__ = [
    "CallState",
    "ChallengeBreaker",
    "Reason",
    "Recover",
    "RetryPolicy",
    "build_retrying",
    "reason_for",
]
