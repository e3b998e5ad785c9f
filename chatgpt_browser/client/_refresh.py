"""HTTP-only renewal of a bundle: one session call, no browser (`refresh_credentials`).

Used by the session manager's HTTP renewal (wired in app.py; the session package does
not import the client). Each call re-sets the NextAuth cookie with a new value and
expiry, so keeping the new value keeps a session alive for weeks without a browser.
The call runs through the client's recovery flow without recoveries: the transient
policy still applies, within `timeout`.
"""

from __future__ import annotations

import dataclasses

from ..config import SiteProfile, Timeouts
from ..credentials import Credentials
from ._flow import CredentialFlow
from ._retry import Deadline, RetryPolicy
from ._transport import Timeout, Transport, make_transport


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
    access token (expiry from the JWT's `exp`, capped at the site's TTL),
    `source="http-refresh"`. Raises `UnauthorizedError` when the session is dead (the
    site answers `{}`) and `ClearanceRejectedError` when the clearance no longer passes.
    """
    site = site or SiteProfile(base_url=credentials.site)
    connect, read = timeout if isinstance(timeout, tuple) else (min(10.0, timeout), timeout)
    policy = dataclasses.replace(RetryPolicy(), auth_recoveries=0, challenge_renewals=0)
    own = transport is None
    # "auto": the bundle's browser TLS family, or the edge refuses its clearance.
    active = transport or make_transport("auto", None, verify, credentials.user_agent, credentials)
    flow = CredentialFlow(
        credentials.replace(access_token=None, access_token_expires_at=None),
        transport=active,
        site=site,
        allowed_hosts=site.allowed_hosts,
        provider=None,
        timeouts=Timeouts(connect=connect, read=read),
        policy=policy,
        headers={},
        access_token_ttl=site.access_token_ttl,
        min_ttl=0.0,
    )
    try:
        flow.send(None, Deadline.after(connect + read))
        return flow.credentials
    finally:
        if own:
            active.close()


__all__ = ["refresh_credentials"]
