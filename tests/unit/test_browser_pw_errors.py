"""Reading Playwright's error messages, in the one place that does (`browser/pw_errors.py`)."""

from __future__ import annotations

from chatgpt_browser.browser.pw_errors import (
    BLOCKED_BY_CLIENT,
    browser_gone,
    error_line,
    net_error,
    replaced_by_navigation,
)


def test_net_error_is_the_chromium_code_or_none() -> None:
    assert net_error(Exception("Page.goto: net::ERR_CONNECTION_REFUSED at http://127.0.0.1:9/")) == (
        "ERR_CONNECTION_REFUSED"
    )
    assert net_error(Exception("net::ERR_BLOCKED_BY_CLIENT")) == BLOCKED_BY_CLIENT
    assert net_error(Exception("Timeout 30000ms exceeded.")) is None
    assert net_error(Exception("the page says net:: nothing")) is None


def test_navigation_and_closed_browser_are_told_apart() -> None:
    navigated = Exception("Execution context was destroyed, most likely because of a navigation")
    assert replaced_by_navigation(navigated) and not browser_gone(navigated)
    closed = Exception("Target page, context or browser has been closed")
    assert browser_gone(closed) and not replaced_by_navigation(closed)
    assert not replaced_by_navigation(Exception("Timeout 250ms exceeded.")) and not browser_gone(
        Exception("Timeout 250ms exceeded.")
    )


def test_error_line_is_the_first_line_with_urls_redacted() -> None:
    exc = Exception("connect ECONNREFUSED http://user:secret@127.0.0.1:9/json?token=abc\ncall log: ...")
    line = error_line(exc)
    assert line.startswith("connect ECONNREFUSED http://127.0.0.1:9/json")
    assert "secret" not in line and "abc" not in line and "call log" not in line
    assert error_line(TimeoutError()) == "TimeoutError"
