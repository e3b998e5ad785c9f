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
    assert slept == [0.5, 1.0, 2.0]


def test_success_after_a_retry() -> None:
    slept: list[float] = []
    assert (
        _run(capacity_policy(3, time.monotonic() + 60, slept.append), [SiteAtCapacityError("full"), None])
        == 2
    )
    assert slept == [0.5]


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
