"""One FlareSolverr-style fetch in a warm browser context: open a URL (GET, or a form
POST), get past the challenge, and report the page, its cookies and the User-Agent.

Runs on the `WarmBrowser`'s thread (as a job). The page is read once the document is
parsed; the challenge is passed with `challenge.navigate_past_challenge()` (the same
fast path as the harvest), so a warm context pays only the challenge's own dwell.
"""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING, TypedDict
from urllib.parse import urlsplit

from ..errors import ChallengeNotClearedError, ChatGPTBrowserError, NetworkError
from .challenge import navigate_past_challenge, wait_until_cleared
from .contexts import Context, WarmBrowser
from .launch import translate_error
from .pw_errors import BLOCKED_BY_CLIENT, error_line, net_error

if TYPE_CHECKING:
    from playwright.sync_api import Cookie, Page, Response

# Builds and submits a form from `postData` (application/x-www-form-urlencoded).
_SUBMIT_FORM_JS = """([action, body]) => {
  const form = document.createElement('form');
  form.method = 'POST';
  form.action = action;
  for (const [name, value] of new URLSearchParams(body)) {
    const input = document.createElement('input');
    input.type = 'hidden'; input.name = name; input.value = value;
    form.appendChild(input);
  }
  document.body.appendChild(form);
  form.submit();
}"""


@dataclasses.dataclass(frozen=True)
class SolveRequest:
    url: str
    deadline: float  # time.monotonic()
    session: str | None = None
    post_data: str | None = None
    cookies: tuple[tuple[str, str], ...] = ()
    return_only_cookies: bool = False
    proxy: str | None = dataclasses.field(default=None, repr=False)
    ignore_https_errors: bool = False
    clearance_cookie: str = "cf_clearance"


@dataclasses.dataclass(frozen=True)
class Solution:
    url: str
    status: int
    headers: dict[str, str]
    response: str | None
    cookies: list[FlareCookie]
    user_agent: str
    challenged: bool


def solve(browser: WarmBrowser, request: SolveRequest) -> Solution:
    """Fetch `request.url` in the session's context (or a throwaway one)."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    name = request.session or f"request-{id(request)}"
    entry = browser.contexts.get(name)
    if entry is None:
        entry = browser.open_context(
            name, proxy=request.proxy, ignore_https_errors=request.ignore_https_errors
        )
    entry.used = time.monotonic()
    try:
        return _fetch(browser, entry, request)
    except ChatGPTBrowserError:
        raise
    except PlaywrightError as exc:
        text = error_line(exc)
        code = net_error(exc)
        if code == BLOCKED_BY_CLIENT:
            raise NetworkError("the page went to a host outside the allow-list; not followed") from None
        if code is not None:
            raise NetworkError(f"the browser could not reach the site ({text})") from None
        if isinstance(exc, PlaywrightTimeoutError):
            raise ChallengeNotClearedError(f"the page did not load in time ({text})") from None
        raise translate_error(exc, "fetching the page") from None
    finally:
        if request.session is None:
            browser.close_context(name)


def _clearance(entry: Context, url: str, name: str) -> str | None:
    for cookie in entry.context.cookies(url):
        if cookie["name"] == name:
            return str(cookie["value"])
    return None


def _remaining_ms(deadline: float) -> float:
    return max(deadline - time.monotonic(), 0.001) * 1000


def _fetch(browser: WarmBrowser, entry: Context, request: SolveRequest) -> Solution:
    page, url = entry.page, request.url
    if request.cookies:
        entry.context.add_cookies([{"name": n, "value": v, "url": url} for n, v in request.cookies])
    before = _clearance(entry, url, request.clearance_cookie)
    response: Response | None
    if request.post_data is None:
        response = navigate_past_challenge(page, url, deadline=request.deadline)
    else:
        response = _post(page, entry, request, before)
    page.wait_for_load_state("domcontentloaded", timeout=_remaining_ms(request.deadline))
    after = _clearance(entry, url, request.clearance_cookie)
    headers = dict(response.headers) if response is not None else {}
    return Solution(
        url=page.url,
        status=int(response.status) if response is not None else 200,
        headers=headers,
        response=None if request.return_only_cookies else page.content(),
        cookies=[_cookie(c) for c in entry.context.cookies()],
        user_agent=browser.user_agent,
        challenged=after is not None and after != before,
    )


def _post(page: Page, entry: Context, request: SolveRequest, clearance: str | None) -> Response | None:
    """A form POST from a page of the same origin, once the challenge is cleared there."""
    parts = urlsplit(request.url)
    origin = f"{parts.scheme}://{parts.netloc}"
    if clearance is None or not page.url.startswith(origin):
        navigate_past_challenge(page, origin + "/", deadline=request.deadline)
    with page.expect_navigation(timeout=_remaining_ms(request.deadline)) as navigation:
        page.evaluate(_SUBMIT_FORM_JS, [request.url, request.post_data or ""])
    response: Response | None = navigation.value
    if wait_until_cleared(page, deadline=request.deadline):
        response = None  # the challenge re-submitted the page: what we see is its answer
    return response


class FlareCookie(TypedDict):
    """A cookie in FlareSolverr's shape."""

    name: str
    value: str
    domain: str
    path: str
    expires: float
    httpOnly: bool
    secure: bool
    sameSite: str


def _cookie(cookie: Cookie) -> FlareCookie:
    """A Playwright cookie in FlareSolverr's shape."""
    return {
        "name": cookie.get("name", ""),
        "value": cookie.get("value", ""),
        "domain": cookie.get("domain", ""),
        "path": cookie.get("path", "/"),
        "expires": cookie.get("expires", -1),
        "httpOnly": bool(cookie.get("httpOnly", False)),
        "secure": bool(cookie.get("secure", False)),
        "sameSite": cookie.get("sameSite", "Lax"),
    }


__all__ = ["Solution", "SolveRequest", "solve"]
