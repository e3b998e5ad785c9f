"""The site's landing page: through the challenge, past "at capacity", and is it the site?

`open_login_page()` opens the login path, waits for the challenge to clear, retries "at
capacity" with a tenacity policy (module-level data; each use adds a stop at the
harvest's deadline), and then requires a sign of the site: its login button or the
chat, or else a JSON session endpoint. A URL showing none of them within a few seconds
is `NotTheSiteError`, never a long wait ending as "wrong password".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import tenacity

from ..config import SiteProfile
from ..errors import NotTheSiteError, SiteAtCapacityError
from ..pages import PageKind
from ..retrying import backoff, stop_before_deadline
from .challenge import past_challenge
from .inputs import redact_urls

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

log = logging.getLogger(__name__)


def _remaining_ms(deadline: float) -> float:
    return max(deadline - time.monotonic(), 0.001) * 1000


#: "At capacity" is retried a few times, backing off (module-level: data, not a loop);
#: each use adds a stop at the harvest's deadline and the page's own sleep.
CAPACITY_RETRY = tenacity.Retrying(
    stop=tenacity.stop_after_attempt(4),
    wait=backoff(0.5, 5.0, 0.1),
    retry=tenacity.retry_if_exception_type(SiteAtCapacityError),
    reraise=True,
    before_sleep=lambda state: log.info("site at capacity; retry %d", state.attempt_number),
)
#: Seconds a landing page may show none of the site's markers before we call it not the site.
NOT_THE_SITE_AFTER = 5.0


def capacity_policy(retries: int, deadline: float, sleep: Callable[[float], None]) -> tenacity.Retrying:
    """CAPACITY_RETRY with `retries` retries, never sleeping past `deadline`."""
    return CAPACITY_RETRY.copy(
        stop=tenacity.stop_after_attempt(retries + 1) | stop_before_deadline(deadline),
        sleep=sleep,
    )


def open_login_page(
    page: Page,
    site: SiteProfile,
    *,
    deadline: float,
    capacity_retries: int = 3,
    not_the_site_after: float = NOT_THE_SITE_AFTER,
) -> None:
    """Go to the landing page, through the challenge, retrying while the site is at capacity.

    A page past the challenge that shows no login button (nor the chat) within
    `not_the_site_after` seconds, and whose session endpoint is not JSON, raises
    NotTheSiteError: a wrong URL must not wait out the login and look like a bad password.
    """

    def pause(seconds: float) -> None:  # waits inside Playwright, which keeps serving events
        page.wait_for_timeout(seconds * 1000)

    for attempt in capacity_policy(capacity_retries, deadline, pause):
        with attempt:
            page.goto(
                site.url(site.login_path), wait_until="domcontentloaded", timeout=_remaining_ms(deadline)
            )
            kind, shows_markers = past_challenge(page, deadline=deadline, ready=_markers(page, site))
            if kind is PageKind.AT_CAPACITY:
                raise SiteAtCapacityError(
                    f"the site is at capacity (gave up after {capacity_retries} retries)", status_code=503
                )
    if not shows_markers:
        _require_the_site(page, site, min(deadline, time.monotonic() + not_the_site_after))


_SESSION_PROBE_JS = """async ([path, ms]) => {
  try {
    const response = await fetch(path, {credentials: 'same-origin', headers: {accept: 'application/json'},
                                        signal: AbortSignal.timeout(ms)});
    const data = JSON.parse(await response.text());
    return data !== null && typeof data === 'object' && !Array.isArray(data);
  } catch (e) { return false; }
}"""


def _markers(page: Page, site: SiteProfile) -> Locator:
    """What the site's landing page shows past the challenge: its login button, or the
    chat for a profile still logged in."""
    return page.locator(site.login_button).first.or_(page.locator(site.chat_ready).first).first


def _require_the_site(page: Page, site: SiteProfile, deadline: float) -> None:
    """NotTheSiteError when the landing page has no login button or chat and no session JSON."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    try:
        _markers(page, site).wait_for(state="visible", timeout=_remaining_ms(deadline))
        return
    except PlaywrightTimeoutError:
        pass
    probe_ms = max(_remaining_ms(deadline), 2000.0)  # a short grace of its own: it is one GET
    if page.evaluate(_SESSION_PROBE_JS, [site.session_path, probe_ms]):
        return  # the site's API answers: let the login report what is missing
    raise NotTheSiteError(
        f"{redact_urls(page.url.split('?', 1)[0])} does not look like the site: no challenge, no login "
        f"page ({site.login_button!r}) and no session endpoint ({site.session_path}); check the URL"
    )


__all__ = ["CAPACITY_RETRY", "NOT_THE_SITE_AFTER", "capacity_policy", "open_login_page"]
