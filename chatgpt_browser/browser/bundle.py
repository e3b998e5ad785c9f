"""Pure helpers that turn what the browser saw into a `Credentials` bundle.

No Playwright here: cookies are plain dicts (Playwright's shape: name, value, domain,
path, expires), the session answer is `/api/auth/session` parsed by `site.py` (the
client's rules), headers are the lower-cased request headers the browser really sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from ..config import SiteProfile
from ..credentials import Credentials
from ..errors import LoginFailedError
from ..site import CLIENT_HINT_HEADERS, SessionAnswer, access_token_expiry, client_hints


def cookie_value(cookies: Iterable[Mapping[str, object]], name: str) -> str | None:
    """A cookie's value; a session split into `name.0`, `name.1`, ... is joined in order."""
    by_name = {str(c["name"]): str(c["value"]) for c in cookies}
    if by_name.get(name):
        return by_name[name]
    chunks: list[tuple[int, str]] = []
    for cookie_name, value in by_name.items():
        match = re.fullmatch(re.escape(name) + r"\.(\d+)", cookie_name)
        if match:
            chunks.append((int(match.group(1)), value))
    if not chunks:
        return None
    chunks.sort()
    if [index for index, _ in chunks] != list(range(len(chunks))):
        raise LoginFailedError(f"the session cookie {name} is split into chunks with gaps; cannot rebuild it")
    return "".join(value for _, value in chunks)


def build_credentials(
    *,
    site: SiteProfile,
    session: SessionAnswer,
    cookies: Iterable[Mapping[str, object]],
    sent_headers: Mapping[str, str],
    account: str | None,
    proxy: str | None,
    now: float,
    timings: Mapping[str, float],
    source: str,
) -> Credentials:
    """Assemble the bundle; raises LoginFailedError when a required part is missing."""
    cookies = list(cookies)
    session_token = cookie_value(cookies, site.session_cookie)
    if not session_token:
        raise LoginFailedError(f"logged in, but the browser holds no {site.session_cookie} cookie")
    clearance = cookie_value(cookies, site.clearance_cookie)
    lowered = {k.lower(): v for k, v in sent_headers.items()}
    user_agent = lowered.get("user-agent")
    if not user_agent:
        raise LoginFailedError("could not read the User-Agent the browser sent")
    access_expiry = access_token_expiry(session.access_token, now=now, ttl=site.access_token_ttl)
    email = session.user.get("email")
    return Credentials(
        site=site.base_url,
        user_agent=user_agent,
        session_token=session_token,
        clearance_token=clearance,
        account=account or (email if isinstance(email, str) else None),
        clearance_expires_at=now + site.clearance_ttl if clearance else None,
        session_expires_at=session.session_expires_at,
        access_token=session.access_token,
        access_token_expires_at=access_expiry,
        headers=client_hints(sent_headers),
        proxy=proxy,
        obtained_at=now,
        timings=dict(timings),
        source=source,
    )


__all__ = [
    "CLIENT_HINT_HEADERS",
    "build_credentials",
    "client_hints",
    "cookie_value",
]
