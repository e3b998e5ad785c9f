"""Verification: the page itself asks the site's session endpoint whether the login took.

`fetch_session()` runs `fetch()` inside the page (same cookies, UA, IP and TLS as the
browser) and retries a 5xx answer with the shared transient policy, never past the
harvest's deadline. `session_answer()` reads one answer with the wire rules the client
uses too (`chatgpt_browser/site.py`): a live session, or the typed error the answer
means (challenge, block, server failure, not JSON); only a clean answer without a
session is a login that did not take.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

import tenacity

from ..config import SiteProfile
from ..errors import (
    ChallengeNotClearedError,
    ChatGPTTimeoutError,
    ClearanceRejectedError,
    LoginFailedError,
    ServerError,
    UnauthorizedError,
)
from ..pages import PageKind, classify_page
from ..retrying import backoff, stop_before_deadline
from ..site import SessionAnswer, error_for_response, parse_session_answer

if TYPE_CHECKING:
    from playwright.sync_api import Page

log = logging.getLogger(__name__)

#: Tries of the verification call when the site answers 5xx (transient by nature).
VERIFY_ATTEMPTS = 3

# Bounded by the deadline inside the page (page.evaluate itself takes no timeout).
_FETCH_SESSION_JS = """async ([path, ms]) => {
  try {
    const response = await fetch(path, {credentials: 'same-origin', headers: {accept: 'application/json'},
                                        signal: AbortSignal.timeout(ms)});
    return {status: response.status, headers: Object.fromEntries(response.headers.entries()),
            body: await response.text()};
  } catch (e) {
    if (e.name === 'TimeoutError') return {timedOut: true};
    throw e;
  }
}"""

#: Transient server failures: a few tries, backing off (module-level: data, not a loop).
VERIFY_STOP = tenacity.stop_after_attempt(VERIFY_ATTEMPTS)
VERIFY_RETRY = tenacity.Retrying(
    stop=VERIFY_STOP,
    wait=backoff(0.25, 2.0, 0.05),
    retry=tenacity.retry_if_exception_type(ServerError),
    reraise=True,
    before_sleep=lambda state: log.info("verification got a server error; retry %d", state.attempt_number),
)


def fetch_session(page: Page, site: SiteProfile, deadline: float) -> SessionAnswer:
    """`/api/auth/session` fetched by the page itself: same cookies, UA, IP and TLS.

    Only a clean JSON object counts as an answer; anything else is reported as what it
    is (challenge, server failure, not JSON), never as a failed login.
    """

    def pause(seconds: float) -> None:  # waits inside Playwright, which keeps serving events
        page.wait_for_timeout(seconds * 1000)

    def once() -> SessionAnswer:
        ms = max(deadline - time.monotonic(), 0.001) * 1000
        answer = page.evaluate(_FETCH_SESSION_JS, [site.session_path, ms])
        if answer.get("timedOut"):
            raise ChatGPTTimeoutError(f"verifying the login: {site.session_path} did not answer in time")
        status, headers, body = answer["status"], answer["headers"], answer["body"]
        return session_answer(site.session_path, status, headers, body)

    retrying = VERIFY_RETRY.copy(
        stop=VERIFY_STOP | stop_before_deadline(deadline),
        sleep=pause,
    )
    return retrying(once)


def session_answer(path: str, status: int, headers: Mapping[str, str], body: str) -> SessionAnswer:
    """The live session of a verification answer, or the typed error that answer means."""
    what = f"verifying the login: GET {path}"
    raw = body.encode("utf-8", "replace")
    if status != 200 or classify_page(status, headers, raw) is not PageKind.OK:
        error = error_for_response(status, headers, raw, what=what)
        if isinstance(error, ClearanceRejectedError):
            # The browser's own fresh clearance was refused: this harvest did not clear
            # the challenge (a headed attempt may still), it is not a stale client bundle.
            raise ChallengeNotClearedError(str(error)) from error
        raise error
    try:
        return parse_session_answer(raw, what=what)
    except UnauthorizedError as exc:  # a clean answer without a session: `{}` or a refresh error
        raise LoginFailedError(f"{what}: no session after the login: the login did not take") from exc


__all__ = ["VERIFY_ATTEMPTS", "VERIFY_RETRY", "fetch_session", "session_answer"]
