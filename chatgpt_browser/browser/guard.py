"""Credentials go only to the site: an origin guard for the login.

The landing page must be on an allowed origin (`check_page()` right after it opens, so a
redirect elsewhere stops there). From the login button on, every request of the browser
context that may leave the allowed hosts passes `_on_route` (a regular expression,
matched inside Playwright's driver, lets the site's own requests through without a round
trip to Python): a top-level navigation, or a request that carries data (any method but
GET/HEAD) from a top-level document, to a host outside the allowed set is aborted before
it leaves the browser, and the guard remembers it; the login then stops with
`SecurityError`. Before typing anything (e-mail, password, one-time code, captcha
answer) the login asks `check_page()`, which refuses a page whose own origin is not
allowed. Subresource GETs (images, scripts, a captcha's iframe) stay allowed: real login
pages load them from CDNs.

Allowed hosts: the site's host, the profile's auth hosts (`SiteProfile.auth_hosts`, the
auth0 tenant of the real site) and any given to `harvest(login_hosts=...)`. An https
site never lets its login fall back to plain http.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ..config import SiteProfile
from ..errors import SecurityError
from .inputs import redact_urls

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page, Request, Route

log = logging.getLogger(__name__)

_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class OriginGuard:
    """Which origins may see the credentials, and whether the login tried another one."""

    def __init__(self, site: SiteProfile, extra_hosts: Iterable[str] = ()) -> None:
        self.hosts = frozenset(h.lower() for h in (site.host, *site.auth_hosts, *extra_hosts) if h)
        self.https_only = site.base_url.startswith("https:")
        self.violation: str | None = None
        self._armed = False

    def allows(self, url: str) -> bool:
        """True for an http(s) URL on an allowed host (https only, for an https site)."""
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
        except ValueError:
            return False
        if parts.scheme not in ("http", "https") or (self.https_only and parts.scheme != "https"):
            return False
        return host in self.hosts

    def _on_route(self, route: Route, request: Request) -> None:
        url = request.url
        if not self._armed or not url.startswith(("http:", "https:")) or self.allows(url):
            route.fallback()
            return
        top_level = _is_top_level(request)
        if top_level and (request.is_navigation_request() or request.method not in _SAFE_METHODS):
            if self.violation is None:
                self.violation = redact_urls(url)
            log.warning("blocked a login request to a foreign origin: %s", redact_urls(url))
            route.abort("blockedbyclient")
            return
        route.fallback()

    def maybe_foreign(self) -> re.Pattern[str]:
        """Matches every http(s) URL that is not plainly on an allowed host (scheme, host,
        optional port, then the path): only those need `_on_route`, which decides with
        `allows`. Anything unusual (user info, another scheme for an https site) matches."""
        hosts = "|".join(re.escape(f"[{host}]" if ":" in host else host) for host in sorted(self.hosts))
        schemes = "https" if self.https_only else "https?"
        return re.compile(rf"^(?!{schemes}://(?:{hosts})(?::\d+)?(?:[/?#]|$))https?:", re.IGNORECASE)

    def arm(self, context: BrowserContext) -> None:
        """Start watching the context's requests (call `disarm` when the login is over)."""
        self._armed = True
        context.route(self.maybe_foreign(), self._on_route)

    def disarm(self) -> None:
        """Let every request through from now on. The route stays installed: removing it
        waits for every paused request, forever for a site that never answers."""
        self._armed = False

    def check(self) -> None:
        """Raise SecurityError if the login tried to leave the allowed origins."""
        if self.violation is not None:
            raise SecurityError(
                f"the login tried to go to {self.violation}, which is not one of the site's "
                f"hosts ({', '.join(sorted(self.hosts))}); nothing was typed or sent there. If that "
                "host is the site's own login service, allow it (harvest(login_hosts=...))"
            )

    def check_page(self, page: Page) -> None:
        """Raise SecurityError unless `page` is on an allowed origin (call before typing)."""
        self.check()
        if not self.allows(page.url):
            self.violation = redact_urls(page.url)
            self.check()


def _is_top_level(request: Request) -> bool:
    try:
        return request.frame.parent_frame is None
    except Exception:  # a service worker's request has no frame: treat it as top level
        return True


__all__ = ["OriginGuard"]
