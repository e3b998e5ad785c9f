"""Retry policies as data: tenacity parts driven with an injected sleep and clock."""

from __future__ import annotations

from collections import Counter

import pytest

from chatgpt_browser.client._retry import (
    ChallengeBreaker,
    Deadline,
    Reason,
    RetryPolicy,
    proves_nothing_processed,
    reason_for,
    transient_retrying,
)
from chatgpt_browser.errors import (
    ChatGPTError,
    ChatGPTTimeoutError,
    ClearanceRejectedError,
    ConnectError,
    ConversationNotFoundError,
    MessageTooLongError,
    NetworkError,
    RateLimitError,
    ServerError,
    SiteAtCapacityError,
    StreamError,
    UnauthorizedError,
)

BUSY = (
    "Only one message at a time. Please allow any other responses to complete before sending another message."
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def run(
    policy: RetryPolicy,
    errors: list[BaseException],
    *,
    clock: FakeClock | None = None,
    timeout: float | None = None,
    replayable: bool = True,
) -> tuple[str | BaseException, int, FakeClock]:
    """Attempts raise `errors` in turn, then succeed; returns (result or error, attempts, clock)."""
    clock = clock or FakeClock()
    attempts = 0

    def attempt(request: str, *, what: str, deadline: Deadline, used: Counter[Reason]) -> str:
        nonlocal attempts
        attempts += 1
        if attempts <= len(errors):
            raise errors[attempts - 1]
        return "ok"

    deadline = Deadline.after(timeout, clock).earlier(policy.max_total)
    retrying = transient_retrying(policy, replayable=replayable, sleep=clock.sleep)
    try:
        return retrying(attempt, "request", what="test", deadline=deadline, used=Counter()), attempts, clock
    except BaseException as exc:  # the test inspects it
        return exc, attempts, clock


def test_reasons() -> None:
    assert reason_for(NetworkError("x")) is Reason.NETWORK
    assert reason_for(ChatGPTTimeoutError("x")) is Reason.NETWORK
    assert reason_for(ServerError("x", status_code=524)) is Reason.SERVER
    assert reason_for(RateLimitError("x", detail="Too many requests in 1 hour.")) is Reason.RATE_LIMIT
    assert reason_for(RateLimitError("x", detail=BUSY)) is Reason.BUSY
    for final in (
        StreamError("x"),
        ConversationNotFoundError("x"),
        MessageTooLongError("x"),
        ChatGPTError("x"),
        UnauthorizedError("x"),  # the recovery flow's business, not a transient failure
        ClearanceRejectedError("x"),
    ):
        assert reason_for(final) is None


def test_transient_errors_back_off_exponentially_with_bounded_jitter() -> None:
    policy = RetryPolicy(transient_retries=3, backoff_initial=1.0, backoff_max=100.0, jitter=0.5)
    result, attempts, clock = run(
        policy, [NetworkError("a"), ServerError("b"), ServerError("c", status_code=524)]
    )
    assert result == "ok" and attempts == 4
    assert len(clock.sleeps) == 3
    for n, slept in enumerate(clock.sleeps):
        assert 2**n <= slept <= 2**n + 0.5


def test_transient_retries_are_bounded_in_attempts() -> None:
    policy = RetryPolicy(transient_retries=2, backoff_initial=0.01, jitter=0)
    result, attempts, _ = run(policy, [NetworkError(str(i)) for i in range(10)])
    assert isinstance(result, NetworkError) and str(result) == "2"
    assert attempts == 3


def test_transient_retries_are_bounded_in_total_time() -> None:
    policy = RetryPolicy(transient_retries=50, backoff_initial=4.0, backoff_max=4.0, jitter=0, max_total=10.0)
    result, attempts, clock = run(policy, [ServerError(str(i)) for i in range(50)])
    assert isinstance(result, ServerError)
    assert sum(clock.sleeps) <= 10.0
    assert attempts == 3  # 4 + 4 seconds of waiting fit; a third wait would pass 10


def test_rate_limit_honours_retry_after() -> None:
    policy = RetryPolicy(rate_limit_retries=2)
    result, attempts, clock = run(
        policy, [RateLimitError("x", retry_after=7.0), RateLimitError("y", retry_after=3)]
    )
    assert result == "ok" and attempts == 3
    assert clock.sleeps == [7.0, 3.0]


def test_rate_limit_longer_than_allowed_is_raised_at_once() -> None:
    policy = RetryPolicy(rate_limit_max_wait=60)
    result, attempts, clock = run(policy, [RateLimitError("x", retry_after=3600.0)])
    assert isinstance(result, RateLimitError) and attempts == 1 and clock.sleeps == []


def test_busy_waits_and_retries() -> None:
    policy = RetryPolicy(busy_wait=5.0, busy_retries=3)
    busy = [RateLimitError("busy", detail=BUSY) for _ in range(2)]
    result, attempts, clock = run(policy, [*busy, RateLimitError("busy", detail=BUSY, retry_after=1.5)])
    assert result == "ok" and attempts == 4
    assert clock.sleeps == [5.0, 5.0, 1.5]


def test_a_non_replayable_request_is_retried_only_when_nothing_was_processed() -> None:
    policy = RetryPolicy(backoff_initial=0.01, jitter=0)
    for safe in (
        ConnectError("refused"),
        RateLimitError("x", retry_after=1),
        SiteAtCapacityError("x", status_code=503),
    ):
        assert proves_nothing_processed(safe)
        result, attempts, _ = run(policy, [safe], replayable=False)
        assert result == "ok" and attempts == 2
    for unsafe in (
        ChatGPTTimeoutError("read timed out"),
        NetworkError("reset"),
        ServerError("x", status_code=500),
        ServerError("x", status_code=524),
    ):
        assert not proves_nothing_processed(unsafe)
        result, attempts, _ = run(policy, [unsafe], replayable=False)
        assert result is unsafe and attempts == 1


def test_waits_never_pass_the_call_deadline() -> None:
    policy = RetryPolicy(rate_limit_retries=5)
    result, attempts, clock = run(policy, [RateLimitError("x", retry_after=7.0)] * 3, timeout=10.0)
    assert isinstance(result, RateLimitError) and attempts == 2 and clock.sleeps == [7.0]
    result, attempts, clock = run(policy, [RateLimitError("x", retry_after=30.0)], timeout=5.0)
    assert isinstance(result, RateLimitError) and attempts == 1 and clock.sleeps == []


def test_a_deadline_caps_each_wait_and_refuses_once_passed() -> None:
    clock = FakeClock()
    deadline = Deadline.after(5.0, clock)
    assert deadline.cap(30.0, "x") == 5.0 and deadline.cap(2.0, "x") == 2.0
    clock.now += 5.0
    with pytest.raises(ChatGPTTimeoutError, match="timeout passed"):
        deadline.cap(1.0, "x")
    assert Deadline.after(None, clock).cap(30.0, "x") == 30.0


def test_final_errors_are_not_retried() -> None:
    for error in (ConversationNotFoundError("x"), MessageTooLongError("y"), StreamError("z")):
        result, attempts, _ = run(RetryPolicy(), [error])
        assert result is error and attempts == 1


def test_no_retries_policy() -> None:
    result, attempts, _ = run(RetryPolicy.no_retries(), [NetworkError("x")])
    assert isinstance(result, NetworkError) and attempts == 1


def test_circuit_breaker_opens_after_repeated_challenges_and_half_opens() -> None:
    clock = FakeClock()
    breaker = ChallengeBreaker(threshold=3, cooldown=60.0, clock=clock)
    breaker.check()
    for _ in range(3):
        breaker.record_challenge()
    assert breaker.is_open
    with pytest.raises(ClearanceRejectedError, match="circuit breaker open"):
        breaker.check()
    clock.now += 61
    breaker.check()  # half-open: one attempt may go
    breaker.record_challenge()  # ...and it failed: open again at once
    with pytest.raises(ClearanceRejectedError):
        breaker.check()
    clock.now += 61
    breaker.check()
    breaker.record_success()
    breaker.record_challenge()
    breaker.check()  # one challenge after a success does not open it


def test_breaker_counts_in_flight_attempts_with_one_clearance_once() -> None:
    clock = FakeClock()
    breaker = ChallengeBreaker(threshold=2, cooldown=60.0, clock=clock)
    started = clock()
    for n in range(20):  # 20 threads that sent with the same clearance at about the same time
        clock.now = started + n * 0.01
        breaker.record_challenge("clearance-A", clock())
    breaker.check()
    clock.now += 5
    breaker.record_challenge("clearance-A", clock())  # a later attempt, same clearance: counts
    with pytest.raises(ClearanceRejectedError):
        breaker.check()
    other = ChallengeBreaker(threshold=2, cooldown=60.0, clock=clock)
    other.record_challenge("clearance-A", started)
    other.record_challenge("clearance-B", started)  # a renewed clearance challenged again
    assert other.is_open


def test_retries_are_logged_with_reason(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="chatgpt_browser.client._retry"):
        run(RetryPolicy(backoff_initial=0.01), [ServerError("boom", status_code=502)])
    assert "test failed (server: ServerError); retry 1" in caplog.text
