"""The "at capacity" retry policy: bounded, backing off, never past the deadline."""

from __future__ import annotations

import time

import pytest

from chatgpt_browser.browser.login import capacity_policy
from chatgpt_browser.errors import InvalidCredentialsError, SiteAtCapacityError


def _run(policy: object, outcomes: list[BaseException | None]) -> int:
    calls = 0
    for attempt in policy:  # type: ignore[attr-defined]
        with attempt:
            outcome = outcomes[min(calls, len(outcomes) - 1)]
            calls += 1
            if outcome is not None:
                raise outcome
    return calls


def test_retries_are_bounded_and_back_off() -> None:
    slept: list[float] = []
    with pytest.raises(SiteAtCapacityError):
        _run(capacity_policy(3, time.monotonic() + 60, slept.append), [SiteAtCapacityError("full")])
    # Exponential backoff plus a little jitter (wait_exponential + wait_random).
    assert len(slept) == 3
    for pause, base in zip(slept, [0.5, 1.0, 2.0], strict=True):
        assert base <= pause <= base + 0.1


def test_success_after_a_retry() -> None:
    slept: list[float] = []
    assert (
        _run(capacity_policy(3, time.monotonic() + 60, slept.append), [SiteAtCapacityError("full"), None])
        == 2
    )
    assert len(slept) == 1 and 0.5 <= slept[0] <= 0.6


def test_other_errors_are_not_retried() -> None:
    slept: list[float] = []
    with pytest.raises(InvalidCredentialsError):
        _run(capacity_policy(3, time.monotonic() + 60, slept.append), [InvalidCredentialsError("no")])
    assert slept == []


def test_no_retry_past_the_deadline() -> None:
    slept: list[float] = []
    with pytest.raises(SiteAtCapacityError):
        _run(capacity_policy(3, time.monotonic() - 1, slept.append), [SiteAtCapacityError("full")])
    assert slept == []


def test_verification_retries_server_errors_within_its_budget() -> None:
    from chatgpt_browser.browser.verify import VERIFY_RETRY
    from chatgpt_browser.errors import ServerError

    slept: list[float] = []
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ServerError("502", status_code=502)
        return "ok"

    assert VERIFY_RETRY.copy(sleep=slept.append)(flaky) == "ok"
    assert len(calls) == 3 and len(slept) == 2 and slept[0] < slept[1]
