"""Retry policies as data: tenacity parts driven with an injected sleep and clock."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from chatgpt_browser.client.retry import (
    CallState,
    ChallengeBreaker,
    Reason,
    RetryPolicy,
    build_retrying,
    reason_for,
)
from chatgpt_browser.errors import (
    AuthenticationError,
    ChallengeRequiredError,
    ChatGPTError,
    ChatGPTTimeoutError,
    ConversationNotFoundError,
    MessageTooLongError,
    NetworkError,
    RateLimitError,
    ServerError,
    StreamError,
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
    recover: Callable[[Reason, ChatGPTError, CallState], None] | None = None,
    breaker: ChallengeBreaker | None = None,
    streamed_after: int | None = None,
) -> tuple[str | BaseException, int, FakeClock]:
    """Attempts raise `errors` in turn, then succeed; returns (result or error, attempts, clock)."""
    clock = clock or FakeClock()
    state = CallState(policy, clock, "test")
    attempts = 0

    def attempt(state: CallState) -> str:
        nonlocal attempts
        attempts += 1
        if streamed_after is not None and attempts > streamed_after:
            state.streamed = True
        if attempts <= len(errors):
            raise errors[attempts - 1]
        return "ok"

    retrying = build_retrying(policy, recover=recover, breaker=breaker, sleep=clock.sleep)
    try:
        return retrying(attempt, state), attempts, clock
    except BaseException as exc:  # the test inspects it
        return exc, attempts, clock


def test_reasons() -> None:
    assert reason_for(NetworkError("x")) is Reason.NETWORK
    assert reason_for(ChatGPTTimeoutError("x")) is Reason.NETWORK
    assert reason_for(ServerError("x", status_code=524)) is Reason.SERVER
    assert reason_for(RateLimitError("x", detail="Too many requests in 1 hour.")) is Reason.RATE_LIMIT
    assert reason_for(RateLimitError("x", detail=BUSY)) is Reason.BUSY
    assert reason_for(AuthenticationError("x")) is Reason.AUTH
    assert reason_for(ChallengeRequiredError("x", status_code=403)) is Reason.CHALLENGE
    for final in (
        StreamError("x"),
        ConversationNotFoundError("x"),
        MessageTooLongError("x"),
        ChatGPTError("x"),
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


def test_401_recovers_once_then_gives_up() -> None:
    calls: list[Reason] = []
    result, attempts, clock = run(
        RetryPolicy(),
        [AuthenticationError("a"), AuthenticationError("b")],
        recover=lambda r, e, s: calls.append(r),
    )
    assert isinstance(result, AuthenticationError) and str(result) == "b"
    assert attempts == 2 and calls == [Reason.AUTH] and clock.sleeps == [0.0]


def test_challenge_renews_once_and_success_after() -> None:
    calls: list[Reason] = []
    result, attempts, _ = run(
        RetryPolicy(), [ChallengeRequiredError("c")], recover=lambda r, e, s: calls.append(r)
    )
    assert result == "ok" and attempts == 2 and calls == [Reason.CHALLENGE]


def test_failing_recovery_propagates_its_own_error() -> None:
    def recover(reason: Reason, error: ChatGPTError, state: CallState) -> None:
        raise error

    result, attempts, _ = run(RetryPolicy(), [ChallengeRequiredError("no provider")], recover=recover)
    assert isinstance(result, ChallengeRequiredError) and attempts == 1


def test_no_replay_once_the_answer_started_streaming() -> None:
    result, attempts, clock = run(RetryPolicy(), [NetworkError("cut")], streamed_after=0)
    assert isinstance(result, NetworkError) and attempts == 1 and clock.sleeps == []


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
    with pytest.raises(ChallengeRequiredError, match="circuit breaker open"):
        breaker.check()
    clock.now += 61
    breaker.check()  # half-open: one attempt may go
    breaker.record_challenge()  # ...and it failed: open again at once
    with pytest.raises(ChallengeRequiredError):
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
    with pytest.raises(ChallengeRequiredError):
        breaker.check()
    other = ChallengeBreaker(threshold=2, cooldown=60.0, clock=clock)
    other.record_challenge("clearance-A", started)
    other.record_challenge("clearance-B", started)  # a renewed clearance challenged again
    assert other.is_open


def test_open_breaker_stops_challenge_retries() -> None:
    clock = FakeClock()
    breaker = ChallengeBreaker(threshold=1, cooldown=60.0, clock=clock)
    breaker.record_challenge()
    calls: list[Reason] = []
    result, attempts, _ = run(
        RetryPolicy(), [ChallengeRequiredError("c")], breaker=breaker, recover=lambda r, e, s: calls.append(r)
    )
    assert isinstance(result, ChallengeRequiredError) and attempts == 1 and calls == []


def test_retries_are_logged_with_reason(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="chatgpt_browser.client.retry"):
        run(RetryPolicy(backoff_initial=0.01), [ServerError("boom", status_code=502)])
    assert "test failed (server: ServerError); retry 1" in caplog.text
