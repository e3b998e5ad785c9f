"""What goes on the wire: credential headers, the session answer, rotated cookies.

Credentials travel as the real site's browser sent them (wire-protocol.md 3-4): a
Cookie header `cf_clearance=...; __Secure-next-auth.session-token=...` built per
request, the bundle's exact User-Agent and client hints, and `Authorization: Bearer`
for backend-api. `credential_headers` refuses any host outside the allow-list, so a
token can never be sent elsewhere, whatever URL a caller configures.
"""

from __future__ import annotations

import dataclasses
import email.utils
import json
import logging
import time
from collections.abc import Mapping
from http.cookies import CookieError, Morsel, SimpleCookie
from urllib.parse import urlsplit

from ..config import SiteProfile
from ..credentials import Changes, Credentials
from ..errors import ConfigError
from ..redact import fingerprint
from ..site import (
    CLIENT_HINT_HEADERS,
    SessionAnswer,
    access_token_expiry,
    error_for_response,
    parse_session_answer,
)
from ._transport import Request, Response

log = logging.getLogger(__name__)

_MAX_BODY = 1024 * 1024


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def check_host(url: str, allowed_hosts: frozenset[str]) -> None:
    """Refuse to send credentials to a host outside the allow-list."""
    host = host_of(url)
    if host not in allowed_hosts:
        raise ConfigError(f"refusing to send credentials to {host!r}: not one of the site's hosts")


def is_bound_header(name: str) -> bool:
    """True for a header the `headers` option cannot set: it belongs to the credentials
    (the clearance's browser: User-Agent and client hints; the tokens: Cookie,
    Authorization) or to the request itself (Accept and Content-Type: the reader needs
    an event stream and the body is JSON, as in the original, which set these four
    after the caller's headers; Host, Content-Length, Transfer-Encoding)."""
    lower = name.lower()
    return lower in _BOUND_HEADERS or lower.startswith("sec-ch-ua")


_BOUND_HEADERS = frozenset(
    {
        "user-agent",
        "cookie",
        "authorization",
        "accept",
        "content-type",
        "host",
        "content-length",
        "transfer-encoding",
    }
)


def merge_headers(*layers: Mapping[str, str] | None) -> dict[str, str]:
    """Later layers win; names compare case-insensitively, so each header is sent once
    (under the spelling of the layer that set it)."""
    merged: dict[str, tuple[str, str]] = {}
    for layer in layers:
        for name, value in (layer or {}).items():
            merged[name.lower()] = (name, value)
    return dict(merged.values())


def browser_headers(
    credentials: Credentials,
    extra: Mapping[str, str] | None = None,
    *,
    defaults: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The headers of one request without the tokens (rules: `credential_headers`)."""
    hints = {n: v for n, v in credentials.headers.items() if n.lower() in CLIENT_HINT_HEADERS}
    caller = {n: v for n, v in (extra or {}).items() if not is_bound_header(n)}
    # UA last: the caller can never contradict the UA the clearance is bound to.
    return merge_headers(defaults, hints, caller, {"User-Agent": credentials.user_agent})


def cookie_header(credentials: Credentials, site: SiteProfile) -> str:
    parts = []
    if credentials.clearance_token:
        parts.append(f"{site.clearance_cookie}={credentials.clearance_token}")
    parts.append(f"{site.session_cookie}={credentials.session_token}")
    return "; ".join(parts)


def credential_headers(
    url: str,
    credentials: Credentials,
    site: SiteProfile,
    allowed_hosts: frozenset[str],
    *,
    bearer: str | None = None,
    extra: Mapping[str, str] | None = None,
    defaults: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Full headers for a request to `url` (which must be an allowed host).

    Merge rules, names compared case-insensitively, later wins: the request's
    `defaults` (Accept, Content-Type, Origin, Referer, ...), the bundle's client hints
    and Accept-Language, the caller's `extra` (the `headers` option: it may replace
    Origin, Referer, Accept-Language or add its own, as the original's `headers` did),
    and last User-Agent, Cookie and Authorization from the bundle. The caller can
    never set a bound header (`is_bound_header`).
    """
    check_host(url, allowed_hosts)
    headers = browser_headers(credentials, extra, defaults=defaults)
    headers["Cookie"] = cookie_header(credentials, site)
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
    return headers


@dataclasses.dataclass(frozen=True)
class RotatedCookie:
    value: str | None  # None: the server cleared it
    expires_at: float | None


def rotated_session_cookie(
    set_cookies: list[str], name: str, now: float | None = None
) -> RotatedCookie | None:
    """The new session cookie from `Set-Cookie` headers (joining `.0`, `.1` chunks)."""
    now = time.time() if now is None else now
    whole: RotatedCookie | None = None
    chunks: dict[int, str] = {}
    chunk_expiry: float | None = None
    for header in set_cookies:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(header)
        except CookieError:
            continue
        for key, morsel in jar.items():
            expires_at = _morsel_expiry(morsel, now)
            cleared = not morsel.value or (expires_at is not None and expires_at <= now)
            if key == name:
                whole = RotatedCookie(None if cleared else morsel.value, expires_at)
            elif key.startswith(name + ".") and key[len(name) + 1 :].isdigit() and not cleared:
                chunks[int(key[len(name) + 1 :])] = morsel.value
                chunk_expiry = expires_at
    if whole is None and chunks:
        whole = RotatedCookie("".join(chunks[i] for i in sorted(chunks)), chunk_expiry)
    return whole


def _morsel_expiry(morsel: Morsel[str], now: float) -> float | None:
    max_age = morsel.get("max-age")
    if max_age:
        try:
            return now + float(max_age)
        except ValueError:
            pass
    expires = morsel.get("expires")
    if expires:
        try:
            return email.utils.parsedate_to_datetime(expires).timestamp()
        except (TypeError, ValueError):
            return None
    return None


def apply_session_answer(
    credentials: Credentials,
    answer: SessionAnswer,
    rotated: RotatedCookie | None,
    *,
    access_token_ttl: float,
    now: float,
    source: str,
) -> Credentials:
    """The bundle after a session call: new access token and, if rotated, session token."""
    changes: Changes = {
        "access_token": answer.access_token,
        "access_token_expires_at": access_token_expiry(answer.access_token, now=now, ttl=access_token_ttl),
        "source": source,
    }
    if rotated is not None and rotated.value:
        changes["session_token"] = rotated.value
        changes["session_expires_at"] = rotated.expires_at or answer.session_expires_at
    elif answer.session_expires_at is not None:
        changes["session_expires_at"] = answer.session_expires_at
    return credentials.replace(**changes)


def read_body(response: Response, limit: int = _MAX_BODY) -> bytes:
    """A bounded part of the body (error pages can be large); closes the response."""
    try:
        body = b""
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > limit:
                break
        return body
    finally:
        response.close()


def session_request(
    creds: Credentials,
    site: SiteProfile,
    url: str,
    allowed_hosts: frozenset[str],
    *,
    extra: Mapping[str, str] | None,
    timeout: tuple[float, float],
    proxy: str | None,
    total: float | None = None,
) -> Request:
    """The GET of the session endpoint, with the bundle's cookies and browser headers."""
    defaults = {"Accept": "*/*", "Referer": site.url(site.chat_path)}
    headers = credential_headers(url, creds, site, allowed_hosts, extra=extra, defaults=defaults)
    return Request("GET", url, headers, timeout=timeout, proxy=proxy, total=total)


def apply_session_response(
    creds: Credentials, response: Response, site: SiteProfile, *, access_token_ttl: float, what: str
) -> tuple[Credentials, SessionAnswer]:
    """The bundle after a session answer (2xx); typed errors for anything but a live session."""
    rotated = rotated_session_cookie(response.set_cookies(), site.session_cookie)
    body = read_body(response)
    if body.lstrip()[:1] == b"<":  # HTML where JSON was expected (challenge, capacity, ...)
        raise error_for_response(response.status_code, response.headers, body, what=what)
    answer = parse_session_answer(body, what=what)
    updated = apply_session_answer(
        creds, answer, rotated, access_token_ttl=access_token_ttl, now=time.time(), source="http-refresh"
    )
    if updated.session_token != creds.session_token:
        log.debug(
            "session token rotated %s -> %s",
            fingerprint(creds.session_token),
            fingerprint(updated.session_token),
        )
    return updated, answer


def json_body(response: Response, what: str) -> object:
    """The JSON document of a 2xx answer, else the typed error."""
    data = read_body(response)
    try:
        return json.loads(data)
    except ValueError:
        raise error_for_response(200, response.headers, data, what=what) from None


__all__ = [
    "RotatedCookie",
    "apply_session_answer",
    "apply_session_response",
    "browser_headers",
    "check_host",
    "cookie_header",
    "credential_headers",
    "host_of",
    "is_bound_header",
    "json_body",
    "merge_headers",
    "read_body",
    "rotated_session_cookie",
    "session_request",
]
