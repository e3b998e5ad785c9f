"""One `/api/auth/session` call: a new access token and a rotated session cookie.

Used by `ChatGPTAPI.refresh_session()` and, through `refresh_credentials()`, by the
session manager's HTTP-only renewal (wired in cli.py; the session package does not
import the client). Each call re-sets the NextAuth cookie with a new value and
expiry, so keeping the new value keeps a session alive for weeks without a browser.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

from ..config import SiteProfile
from ..credentials import Credentials, fingerprint
from .status import error_for_response
from .transport import Timeout, Transport, make_transport
from .wire import (
    SessionAnswer,
    apply_session_answer,
    credential_headers,
    host_of,
    parse_session_answer,
    rotated_session_cookie,
)

log = logging.getLogger(__name__)

_MAX_BODY = 1024 * 1024


def session_call(
    transport: Transport,
    credentials: Credentials,
    site: SiteProfile,
    *,
    url: str | None = None,
    allowed_hosts: frozenset[str] | None = None,
    timeout: Timeout = (10.0, 30.0),
    access_token_ttl: float | None = None,
    extra_headers: Mapping[str, str] | None = None,
    source: str = "http-refresh",
    proxy: str | None = None,
) -> tuple[Credentials, SessionAnswer]:
    """GET the session endpoint once; typed errors on failure (no retries here).

    Sent through the bundle's own proxy (its clearance's egress IP), else `proxy`."""
    url = url or site.url(site.session_path)
    allowed = allowed_hosts or site.allowed_hosts
    defaults = {"Accept": "*/*", "Referer": site.url(site.chat_path)}
    headers = credential_headers(url, credentials, site, allowed, extra=extra_headers, defaults=defaults)
    what = f"GET {host_of(url)}{site.session_path}"
    response = transport.request(
        "GET",
        url,
        headers=headers,
        body=None,
        timeout=timeout,
        stream=False,
        proxy=credentials.proxy or proxy,
    )
    try:
        body = response.read()[:_MAX_BODY]
        status = response.status_code
        if status != 200:
            raise error_for_response(status, response.headers, body, what=what)
        if body.lstrip()[:1] == b"<":  # HTML where JSON was expected (challenge, capacity, ...)
            raise error_for_response(status, response.headers, body, what=what)
        rotated = rotated_session_cookie(response.set_cookies(), site.session_cookie)
    finally:
        response.close()
    answer = parse_session_answer(body, what=what)
    now = time.time()
    ttl = site.access_token_ttl if access_token_ttl is None else access_token_ttl
    updated = apply_session_answer(credentials, answer, rotated, access_token_ttl=ttl, now=now, source=source)
    if updated.session_token != credentials.session_token:
        log.debug(
            "session token rotated %s -> %s",
            fingerprint(credentials.session_token),
            fingerprint(updated.session_token),
        )
    return updated, answer


def refresh_credentials(
    credentials: Credentials,
    *,
    site: SiteProfile | None = None,
    timeout: float | Timeout = 30.0,
    transport: Transport | None = None,
    verify: bool | str = True,
) -> Credentials:
    """Renew a bundle over HTTP only (no browser): one session call.

    Returns the bundle with the rotated session token, its new expiry, and a fresh
    access token (expiry from the JWT's `exp`), `source="http-refresh"`. Raises
    `AuthenticationError` when the session is dead (the site answers `{}`) and
    `ChallengeRequiredError` when the clearance no longer passes Cloudflare.
    """
    site = site or SiteProfile(base_url=credentials.site)
    timeouts: Timeout = timeout if isinstance(timeout, tuple) else (min(10.0, timeout), timeout)
    own = transport is None
    # "auto": the bundle's browser TLS family, or the edge refuses the clearance.
    active = transport or make_transport("auto", None, verify, credentials.user_agent, credentials)
    try:
        updated, _ = session_call(active, credentials, site, timeout=timeouts)
        return updated
    finally:
        if own:
            active.close()


__all__ = ["refresh_credentials", "session_call"]
