"""Keeps one client's credential bundle usable: access-token refresh, the rotated
session cookie, and renewals from the provider - each done once for all threads.

The bundle is immutable and replaced as a whole. Each fix is made under a lock by the
first thread that needs it; a thread that finds the bundle already replaced by the
time it gets the lock just uses the new one (compare-before-renew), so 50 threads
hitting one expired token cause one refresh, and one dead clearance one renewal.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from ..config import SiteProfile, Timeouts
from ..credentials import Credentials, CredentialSource, fingerprint
from ..errors import AuthenticationError, ChatGPTError
from .refresh import session_call
from .retry import Reason
from .transport import Transport

log = logging.getLogger(__name__)

#: An access token closer than this to its expiry is refreshed before use.
TOKEN_MARGIN = 5.0


class CallableSource:
    """Adapts a plain callable returning `Credentials` to the `CredentialSource` protocol."""

    def __init__(self, factory: Callable[[], Credentials]) -> None:
        self._factory = factory

    def get(self, min_ttl: float = 0.0) -> Credentials:
        return self._factory()

    def renew(self, reason: str, stale: Credentials | None = None) -> Credentials:
        return self._factory()

    def update(self, credentials: Credentials) -> None:
        """A callable has nowhere to keep a rotated bundle; the client keeps it."""


def as_source(provider: CredentialSource | Callable[[], Credentials] | None) -> CredentialSource | None:
    """A `CredentialSource` from a source, a plain callable, or None."""
    if provider is None or isinstance(provider, CredentialSource):
        return provider
    if callable(provider):
        return CallableSource(provider)
    raise TypeError("provider must be a CredentialSource or a callable returning Credentials")


class CredentialKeeper:
    """The current bundle of one client and everything that replaces it."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        provider: CredentialSource | None,
        site: SiteProfile,
        session_url: str,
        allowed_hosts: frozenset[str],
        transport: Transport,
        timeouts: Timeouts,
        access_token_ttl: float,
        headers: Mapping[str, str],
        min_ttl: float,
        default_proxy: str | None = None,
    ) -> None:
        self._credentials = credentials
        self._provider = provider
        self._site = site
        self._session_url = session_url
        self._allowed_hosts = allowed_hosts
        self._transport = transport
        self._timeouts = timeouts
        self._access_token_ttl = access_token_ttl
        self._headers = headers
        self._min_ttl = min_ttl
        self._default_proxy = default_proxy
        self.user: Mapping[str, Any] | None = None
        self._refresh_lock = threading.Lock()
        self._recover_lock = threading.RLock()
        self._stats_lock = threading.Lock()
        self.stats: Counter[str] = Counter()

    @property
    def credentials(self) -> Credentials:
        return self._credentials

    # -- access token --------------------------------------------------------------------

    def access_token(self) -> tuple[str, Credentials]:
        """A valid access token and the bundle it belongs to (refreshing at most once)."""
        creds = self._credentials
        if creds.access_token and creds.access_token_valid_for(TOKEN_MARGIN):
            return creds.access_token, creds
        with self._refresh_lock:  # one refresh at a time; the others reuse its result
            creds = self._credentials
            if not (creds.access_token and creds.access_token_valid_for(TOKEN_MARGIN)):
                creds = self._refresh_now(creds)
        assert creds.access_token is not None
        return creds.access_token, creds

    def _refresh_now(self, creds: Credentials) -> Credentials:
        updated, answer = session_call(
            self._transport,
            creds,
            self._site,
            url=self._session_url,
            allowed_hosts=self._allowed_hosts,
            timeout=(self._timeouts.connect, self._timeouts.read),
            access_token_ttl=self._access_token_ttl,
            extra_headers=self._headers,
            proxy=self._default_proxy,
        )
        self._count("refreshes")
        self.user = answer.user
        self.adopt(updated)
        return updated

    def close_session(self) -> None:
        """Forget the access token and the user (the next call refreshes)."""
        self._credentials = self._credentials.replace(access_token=None, access_token_expires_at=None)
        self.user = None

    # -- the bundle ----------------------------------------------------------------------

    def adopt(self, credentials: Credentials) -> None:
        """Use `credentials` from now on; hand a rotated session token to the provider."""
        previous, self._credentials = self._credentials, credentials
        if self._provider is not None and credentials.session_token != previous.session_token:
            try:
                self._provider.update(credentials)
            except Exception:  # keeping the new token in memory still works
                log.warning("the provider could not store the rotated session token", exc_info=True)

    def renew_if_expired(self) -> None:
        """Known-expired clearance or session: ask the provider first, not the site."""
        if self._provider is None or not self._credentials.expires_within(0.0):
            return
        with self._recover_lock:
            if self._credentials.expires_within(0.0):
                log.info("the bundle has expired; asking the provider for a fresh one")
                self.adopt(self._provider.get(self._min_ttl))

    def reset(self, reason: str = "reset") -> Credentials:
        """A fresh session: from the provider (e.g. a new harvest), else close + init."""
        with self._recover_lock:
            self._reset_locked(reason, self._credentials)
        return self._credentials

    def _reset_locked(self, reason: str, stale: Credentials) -> None:
        self._count("resets")
        self.user = None
        if self._provider is not None:
            self.adopt(self._provider.renew(reason, stale))
            if self._credentials.access_token_valid_for(TOKEN_MARGIN):
                return
        else:
            self.close_session()
        with self._refresh_lock:
            self._refresh_now(self._credentials)

    def recover(self, reason: Reason, error: ChatGPTError, stale: Credentials) -> None:
        """Fix what made an attempt with `stale` fail, unless another thread already did."""
        with self._recover_lock:
            current = self._credentials
            if reason is Reason.AUTH:
                if current.access_token != stale.access_token or current.session_token != stale.session_token:
                    return
                self.close_session()
                if isinstance(error, AuthenticationError) and error.code != "session_expired":
                    try:  # the cheap fix first: a new access token from the live session
                        with self._refresh_lock:
                            self._refresh_now(self._credentials)
                        return
                    except AuthenticationError:
                        log.info("access token refresh failed; resetting the session")
                self._reset_locked("401", stale)
            elif reason is Reason.CHALLENGE:
                if current.clearance_token != stale.clearance_token:
                    return
                if self._provider is None:
                    raise error  # nobody can clear the challenge again
                log.warning(
                    "asking the provider for a new clearance (was %s)", fingerprint(stale.clearance_token)
                )
                self._count("renewals")
                self.adopt(self._provider.renew("403-challenge", stale))

    def _count(self, name: str) -> None:
        with self._stats_lock:
            self.stats[name] += 1


__all__ = ["TOKEN_MARGIN", "CallableSource", "CredentialKeeper", "as_source"]
