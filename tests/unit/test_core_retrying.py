"""The shared retry parts: never start a sleep that would end past the deadline."""

from __future__ import annotations

import contextlib

import tenacity

from chatgpt_browser.retrying import backoff, stop_before_deadline


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _attempts(stop: tenacity.stop.stop_base, clock: FakeClock, wait: float = 0.4) -> list[float]:
    seen: list[float] = []

    def fail() -> None:
        seen.append(clock.now)
        raise OSError("transient")

    retrying = tenacity.Retrying(stop=stop, wait=tenacity.wait_fixed(wait), sleep=clock.sleep, reraise=True)
    with contextlib.suppress(OSError):
        retrying(fail)
    return seen


def test_no_sleep_crosses_the_deadline() -> None:
    clock = FakeClock()
    seen = _attempts(stop_before_deadline(clock() + 1.0, clock=clock), clock)
    # attempts at +0, +0.4, +0.8; a third sleep would end at +1.2, past the deadline
    assert [round(t - 100.0, 3) for t in seen] == [0.0, 0.4, 0.8]
    assert clock.now < 101.0


def test_no_deadline_leaves_the_other_stops_in_charge() -> None:
    clock = FakeClock()
    seen = _attempts(stop_before_deadline(None, clock=clock) | tenacity.stop_after_attempt(5), clock)
    assert len(seen) == 5


def test_the_deadline_can_be_read_from_each_call() -> None:
    clock = FakeClock()
    stop = stop_before_deadline.per_call(lambda state: state.kwargs["deadline"] - clock())
    retrying = tenacity.Retrying(stop=stop, wait=tenacity.wait_fixed(0.3), sleep=clock.sleep, reraise=True)
    calls: list[float] = []

    def fail(*, deadline: float) -> None:
        calls.append(clock.now)
        raise OSError

    for budget, expected in ((0.5, 2), (1.0, 4)):
        calls.clear()
        with contextlib.suppress(OSError):
            retrying(fail, deadline=clock() + budget)
        assert len(calls) == expected


def test_backoff_grows_caps_and_spreads() -> None:
    wait = backoff(0.5, 2.0, 0.1)
    clock = FakeClock()
    for attempt, low in ((1, 0.5), (2, 1.0), (3, 2.0), (6, 2.0)):
        state = tenacity.RetryCallState(tenacity.Retrying(sleep=clock.sleep), fn=None, args=(), kwargs={})
        state.attempt_number = attempt
        value = wait(state)
        assert low <= value <= low + 0.1
