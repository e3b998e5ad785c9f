"""Wait for a Cloudflare-style challenge to clear in a live page, clicking its checkbox.

How this works: the page is classified with the pure `pages.classify_page()` (shared with
the HTTP client). `navigate_past_challenge()` is the fast path for a page we only need to
*read* (the warm re-clear): it follows the main frame's document responses on the network
(status, headers, body) and returns at the first one past the challenge, without waiting
for the page to render or for Playwright's DOM helpers to load into each new document.
`wait_until_cleared()` is the general path, for pages we go on to use: while the page is
a challenge, we wait in short slices for the document to stop looking like one (a
`wait_for_function` predicate polled by the browser on every animation frame, so we
react within a frame of the challenge's redirect), and between slices we re-classify:
a hard block raises at once, an interactive variant gets one trusted click on its
"Verify you are human" box. Everything runs against one deadline.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from ..errors import BlockedError, ChallengeNotClearedError
from ..pages import PageKind, classify_page
from ..redact import safe_url
from .pw_errors import replaced_by_navigation

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page, Response

log = logging.getLogger(__name__)

# True once the document is parsed and is not a challenge page (any variant).
_NOT_CHALLENGE_JS = """() => document.readyState !== 'loading' && !(
  document.getElementById('challenge-form') || document.getElementById('challenge-running') ||
  document.getElementById('cf-please-wait') || window._cf_chl_opt ||
  document.title === 'Just a moment...')"""

#: Where the "Verify you are human" control may be (plain page, hCaptcha box, Turnstile iframe).
CHECKBOX_SELECTORS = (
    "input[type=checkbox]",
    "[role=checkbox]",
    "label:has-text('Verify you are human')",
    "#challenge-stage button",
)
_SLICE_MS = 250
# Shown (instead of "Checking if the site connection is secure") once a challenge failed.
_FAILED_MARKER = "verification failed"


def where(page: Page) -> str:
    """The page's URL without its query, for messages: queries carry one-time tokens."""
    return safe_url(str(page.url))  # one redaction rule: chatgpt_browser.redact


def current_kind(page: Page) -> tuple[PageKind, str]:
    """Classify what the page shows now; (kind, html). Mid-navigation counts as a challenge."""
    from playwright.sync_api import Error as PlaywrightError

    try:
        html = page.content()
    except PlaywrightError as exc:
        if replaced_by_navigation(exc):
            return PageKind.CHALLENGE, ""
        raise
    return classify_page(None, {"content-type": "text/html"}, html), html


def _click_checkbox(page: Page) -> bool:
    """One trusted click (real input events via CDP) on the first checkbox we can see."""
    from playwright.sync_api import Error as PlaywrightError

    for frame in page.frames:
        for selector in CHECKBOX_SELECTORS:
            try:
                target = frame.locator(selector).first
                if target.is_visible():
                    target.click(timeout=2000)
                    log.debug("clicked the challenge checkbox (%s)", selector)
                    return True
            except PlaywrightError:
                continue
    return False


def wait_until_cleared(page: Page, *, deadline: float, click: bool = True) -> bool:
    """Block until the page is past the challenge; True if a challenge was seen.

    Raises `BlockedError` for a hard block and `ChallengeNotClearedError` when `deadline`
    (a `time.monotonic()` value) passes first.
    """
    return _until_cleared(page, deadline, click, wait_first=False)[0]


def past_challenge(page: Page, *, deadline: float, ready: Locator | None = None) -> tuple[PageKind, bool]:
    """Like `wait_until_cleared` for a page just opened: what it shows then, and whether
    `ready` was seen visible.

    Waits first and classifies after: a challenge page keeps the renderer busy (its
    proof of work), so reading it right away would only be slow and say "challenge".
    With `ready` (what the page past the challenge shows), each wait is for it to be
    visible: the page is then read once, settled, as a person would see it.
    """
    _, kind, shown = _until_cleared(page, deadline, True, wait_first=True, ready=ready)
    return kind, shown


def _until_cleared(
    page: Page, deadline: float, click: bool, *, wait_first: bool, ready: Locator | None = None
) -> tuple[bool, PageKind, bool]:
    """(a challenge was seen, what the page shows, `ready` showed in the last wait)."""
    seen = False
    clicked = False
    shown = False
    wait = wait_first
    while True:
        if wait:
            shown = _wait_slice(page, deadline, ready)
        wait = True
        kind, html = current_kind(page)
        if kind is PageKind.BLOCKED:
            raise BlockedError(f"the site blocked this client (Access denied, error 1020) at {where(page)}")
        if not kind.is_challenge:
            return seen, kind, shown
        seen = True
        if _FAILED_MARKER in html.lower():
            # A failed challenge never clears by waiting; the caller may retry headed.
            raise ChallengeNotClearedError(
                f"the site rejected this browser's challenge answer at {where(page)}"
            )
        if kind is PageKind.INTERACTIVE_CHALLENGE and click and not clicked:
            clicked = _click_checkbox(page)
        if deadline - time.monotonic() <= 0:
            raise ChallengeNotClearedError(f"the challenge at {where(page)} did not clear in time")


def _wait_slice(page: Page, deadline: float, ready: Locator | None) -> bool:
    """Wait (at most a slice, never past `deadline`) for `ready` to show, or else for the
    document to stop looking like a challenge; the caller classifies it either way.
    True when `ready` showed."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    timeout = min(max(deadline - time.monotonic(), 0.001), _SLICE_MS / 1000) * 1000
    try:
        if ready is not None:
            ready.wait_for(state="visible", timeout=timeout)
            return True
        page.wait_for_function(_NOT_CHALLENGE_JS, timeout=timeout)
    except PlaywrightTimeoutError:
        pass  # still a challenge: classify again
    except PlaywrightError as exc:
        # The challenge's own redirect replaced the document under the predicate.
        if not replaced_by_navigation(exc):
            raise
    return False


def _is_main_document(page: Page, response: Response) -> bool:
    """A final (non-redirect) response to a navigation of the page's main frame."""
    from playwright.sync_api import Error as PlaywrightError

    request = response.request
    if request.resource_type != "document" or 300 <= response.status < 400:
        return False
    try:
        return bool(request.frame == page.main_frame)
    except PlaywrightError:  # no frame (e.g. a service worker's request): not ours
        return False


def _body(response: Response) -> str | None:
    """The response body, or None when the browser no longer has it."""
    from playwright.sync_api import Error as PlaywrightError

    try:
        return str(response.text())
    except PlaywrightError:
        return None


def navigate_past_challenge(page: Page, url: str, *, deadline: float) -> Response:
    """Open `url` and return the first main-frame document response past the challenge.

    Reads the network, not the DOM: the caller gets the response (its body, and its
    request's headers) as soon as it arrives. A hard block raises `BlockedError`, a
    rejected answer `ChallengeNotClearedError` at once; an interactive challenge (it needs a
    trusted click in the page) is handed to `wait_until_cleared()`.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    documents: list[Response] = []

    def on_response(response: Response) -> None:  # stores only: no Playwright calls in a handler
        if _is_main_document(page, response):
            documents.append(response)

    page.on("response", on_response)
    try:
        page.goto(url, wait_until="commit", timeout=max(deadline - time.monotonic(), 0.001) * 1000)
        checked = 0
        while True:
            while checked < len(documents):
                response = documents[checked]
                checked += 1
                body = _body(response)
                kind = classify_page(response.status, response.headers, body or "")
                if kind is PageKind.BLOCKED:
                    raise BlockedError(
                        f"the site blocked this client (Access denied, error 1020) at {where(page)}"
                    )
                if not kind.is_challenge:
                    if body is None:
                        break  # cannot read it from the network: let the DOM path decide
                    return response
                if body is not None and _FAILED_MARKER in body.lower():
                    raise ChallengeNotClearedError(
                        f"the site rejected this browser's challenge answer at {where(page)}"
                    )
                if kind is PageKind.INTERACTIVE_CHALLENGE or body is None:
                    break
            else:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ChallengeNotClearedError(f"the challenge at {where(page)} did not clear in time")
                try:
                    seen = page.wait_for_event(
                        "response",
                        predicate=lambda r: _is_main_document(page, r),
                        timeout=min(remaining, _SLICE_MS / 1000) * 1000,
                    )
                except PlaywrightTimeoutError:
                    continue
                if not any(seen is known for known in documents):
                    documents.append(seen)
                continue
            # Needs the page itself (a trusted click, or a body the browser dropped).
            wait_until_cleared(page, deadline=deadline)
            return documents[-1]
    finally:
        page.remove_listener("response", on_response)


__all__ = [
    "CHECKBOX_SELECTORS",
    "current_kind",
    "navigate_past_challenge",
    "past_challenge",
    "wait_until_cleared",
    "where",
]
