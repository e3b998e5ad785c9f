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
import time
from collections import Counter
from collections.abc import Callable

import tenacity

from ..errors import (
    ConnectError,
    NetworkError,
    RateLimitError,
    ServerError,
    StreamError,
)
from ..retrying import backoff, stop_before_deadline
from ..site import is_busy
from ._breaker import ChallengeBreaker  # re-exported
from ._deadline import Deadline  # re-exported

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
        self.backoff = backoff(policy.backoff_initial, policy.backoff_max, policy.jitter)

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


def _call_remaining(retry_state: tenacity.RetryCallState) -> float | None:
    deadline: Deadline = retry_state.kwargs["deadline"]
    return deadline.remaining()


def stop_at_deadline() -> stop_before_deadline:
    """The shared deadline rule, reading each call's own `deadline` keyword."""
    return stop_before_deadline.per_call(_call_remaining)


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
