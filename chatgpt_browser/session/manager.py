"""`SessionManager`: fresh credentials on demand, renewed by the cheapest path that works.

How this works: `get(min_ttl)` reads the store; a bundle that stays valid for
`max(min_ttl, renew_margin)` more seconds is returned as is (no lock, no browser).
Otherwise the manager takes the account's single-flight lock (a file lock or a Redis
lock, from the store), reads the store *again* - another job may have renewed it while
we waited - and only then renews, choosing the cheapest path that can fix the problem:

1. HTTP (`http_refresher`, one /api/auth/session call) when only the access token or
   the rolling session cookie needs it and the clearance is still good;
2. the browser (`harvester`) with the account's persistent profile, which re-clears the
   challenge and reuses the profile's session ("reclear"), or logs in when that session
   is gone (a full login).

When HTTP fails because the session is dead or a challenge came back, the browser path
follows. In front of a shared store (Redis), an optional `LocalFlight` lets the jobs of
one machine ask it one at a time and share the answer (`flight.py`). The session
package knows nothing of Playwright or requests: both are callables handed in by
`chatgpt_browser.app`.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from ..credentials import Credentials, fingerprint
from ..errors import ClearanceRejectedError, UnauthorizedError
from ..site import RenewReason
from .flight import LocalFlight
from .locks import Lock
from .store import CredentialStore

log = logging.getLogger(__name__)


class Harvester(Protocol):
    """A browser harvest for one account: a re-clear with the profile, or a full login."""

    def __call__(
        self, *, profile_dir: Path | None, reason: str, stale: Credentials | None
    ) -> Credentials: ...


#: One /api/auth/session call: a rotated session cookie and a new access token.
HttpRefresher = Callable[[Credentials], Credentials]
Progress = Callable[[str], None]

_UPDATE_LOCK_TIMEOUT = 10.0
#: `SessionManager(proxy=...)` default: the egress is not known, so it is not checked.
ANY_PROXY = "*"


@dataclasses.dataclass(frozen=True)
class Renewal:
    """What the last renewal did (for progress displays, the demo and benchmarks)."""

    reason: str
    path: str  # "http" or "browser"
    seconds: float
    source: str  # the new bundle's source: harvest, reclear, refresh ...


class SessionManager:
    """The `CredentialSource` of one account, backed by a durable store."""

    def __init__(
        self,
        store: CredentialStore,
        harvester: Harvester,
        *,
        key: str,
        account: str | None = None,
        http_refresher: HttpRefresher | None = None,
        profile_dir: Path | None = None,
        renew_margin: float = 300.0,
        lock_timeout: float = 300.0,
        progress: Progress | None = None,
        clock: Callable[[], float] = time.time,
        proxy: str | None = ANY_PROXY,
        on_stage: Callable[[str], None] | None = None,
        flight: LocalFlight | None = None,
    ) -> None:
        # `flight`: for a shared store (Redis), the jobs of this machine ask it one at a
        # time and share the answer (flight.py); a local store needs none.
        self.flight = flight
        # `proxy`: the egress this process uses (None: direct). A stored bundle earned
        # through another one is renewed in the browser: its clearance is bound to that IP.
        self.proxy = proxy
        self.store = store
        self.harvester = harvester
        self.key = key
        self.account = account
        self.http_refresher = http_refresher
        self.profile_dir = profile_dir
        self.renew_margin = renew_margin
        self.lock_timeout = lock_timeout
        self.progress = progress
        self.clock = clock
        # Passed to the harvester (harvest(on_stage=...)): launch, challenge, login, verify, done.
        self.on_stage = on_stage
        self.last_renewal: Renewal | None = None

    # -- CredentialSource ----------------------------------------------------------

    def get(self, min_ttl: float = 0.0) -> Credentials:
        """Credentials valid for at least `min_ttl` seconds (renewing `renew_margin` early)."""
        if self.flight is None:
            return self._get(min_ttl)
        need = max(min_ttl, self.renew_margin)
        return self.flight.run(
            self.key,
            self.lock_timeout,
            fresh=lambda credentials: self.why_renew(credentials, need) is None,
            fetch=lambda: self._get(min_ttl),
        )

    def _get(self, min_ttl: float) -> Credentials:
        need = max(min_ttl, self.renew_margin)
        current = self.store.load(self.key)
        if self.why_renew(current, need) is None:
            assert current is not None
            return current
        self._say("waiting for the account lock")
        log.debug("%s: needs renewal; waiting for the account lock", self.key)
        found: list[Credentials] = []

        def renewed_elsewhere() -> bool:
            # Another job's renewal landed while we waited: no need for the lock at all.
            stored = self.store.load(self.key)
            if stored is not None and self.why_renew(stored, need) is None:
                found.append(stored)
                return True
            return False

        lock = self.store.lock(self.key, self.lock_timeout)
        if not _acquire(lock, renewed_elsewhere):
            log.debug("%s: renewed by another job while we waited", self.key)
            return found[-1]
        try:
            current = self.store.load(self.key)  # another job may have renewed meanwhile
            reason = self.why_renew(current, need)
            if reason is None:
                assert current is not None
                log.debug("%s: renewed by another job while we waited", self.key)
                return current
            renewed = self._renew_locked(current, reason, need)
        finally:
            lock.__exit__(None, None, None)
        if renewed.expires_within(min_ttl, self.clock()):
            log.warning(
                "%s: a fresh bundle lives %.0fs, less than the %.0fs asked for",
                self.key,
                renewed.ttl(self.clock()) or 0.0,
                min_ttl,
            )
        return renewed

    def renew(self, reason: str, stale: Credentials | None = None) -> Credentials:
        """New credentials because `stale` failed; one renewal however many callers report it."""
        with self.store.lock(self.key, self.lock_timeout):
            current = self.store.load(self.key)
            renewed_meanwhile = stale is not None and current is not None and not _same_tokens(current, stale)
            if renewed_meanwhile and self.why_renew(current, 0.0) is None:
                assert current is not None
                log.debug("%s: %s already handled by another caller", self.key, reason)
                return current
            return self._renew_locked(current if current is not None else stale, reason, self.renew_margin)

    def update(self, credentials: Credentials) -> None:
        """Persist a bundle the client refreshed itself (e.g. a rotated session cookie).

        A bundle whose clearance is older than the stored one (another job re-cleared
        meanwhile) is not written back over it. The wait for the lock is short: the
        caller is in the middle of a request and keeps its bundle in memory anyway.
        """
        with self.store.lock(self.key, min(self.lock_timeout, _UPDATE_LOCK_TIMEOUT)):
            current = self.store.load(self.key)
            if current is not None and _has_newer_clearance(current, credentials):
                log.debug("%s: not storing a bundle older than the stored clearance", self.key)
                return
            self.store.save(self.key, self._label(credentials))

    # -- the rest of the public surface ---------------------------------------------

    def peek(self) -> Credentials | None:
        """The stored bundle as it is, without renewing (None: nothing stored)."""
        return self.store.load(self.key)

    def invalidate(self) -> bool:
        """Forget the stored bundle (the browser profile is kept); True when there was one."""
        with self.store.lock(self.key, self.lock_timeout):
            if self.flight is not None:
                self.flight.forget(self.key)
            return self.store.delete(self.key)

    def why_renew(self, credentials: Credentials | None, need: float) -> str | None:
        """Why `credentials` cannot serve for `need` more seconds (None: they can)."""
        if credentials is None:
            return RenewReason.EMPTY
        if self.proxy != ANY_PROXY and (credentials.proxy or None) != (self.proxy or None):
            return RenewReason.CLEARANCE_PROXY_CHANGED
        now = self.clock()
        if credentials.clearance_expires_at is not None and credentials.clearance_expires_at - now <= need:
            return RenewReason.CLEARANCE_EXPIRING
        if credentials.session_expires_at is not None and credentials.session_expires_at - now <= need:
            return RenewReason.SESSION_EXPIRING
        if credentials.access_token and not credentials.access_token_valid_for(need, now):
            return RenewReason.ACCESS_TOKEN_EXPIRING
        return None

    # -- renewal -------------------------------------------------------------------

    def _renew_locked(self, current: Credentials | None, reason: str, need: float) -> Credentials:
        started = time.monotonic()
        renewed: Credentials | None = None
        path = "browser"
        if current is not None and self._http_can_fix(current, reason, need):
            renewed = self._try_http(current, reason)
            path = "http" if renewed is not None else "browser"
        if renewed is None:
            self._say(f"opening the browser ({reason})")
            renewed = self._harvest(current, reason)
        renewed = self._label(renewed)
        self.store.save(self.key, renewed)
        self.last_renewal = Renewal(reason, path, time.monotonic() - started, renewed.source)
        self._say(f"renewed by {path} ({renewed.source}) in {self.last_renewal.seconds:.1f}s")
        log.info(
            "%s: renewed by %s (%s) in %.2fs: session %s, clearance %s",
            self.key,
            path,
            reason,
            self.last_renewal.seconds,
            fingerprint(renewed.session_token),
            fingerprint(renewed.clearance_token),
        )
        return renewed

    def _harvest(self, current: Credentials | None, reason: str) -> Credentials:
        if self.on_stage is None or "on_stage" not in inspect.signature(self.harvester).parameters:
            return self.harvester(profile_dir=self.profile_dir, reason=reason, stale=current)
        # Only harvesters that take `on_stage` get it (a plain callable still works).
        return self.harvester(  # type: ignore[call-arg]
            profile_dir=self.profile_dir, reason=reason, stale=current, on_stage=self.on_stage
        )

    def _http_can_fix(self, current: Credentials, reason: str, need: float) -> bool:
        """HTTP helps only while the clearance is good and the problem is the session side."""
        known = RenewReason.of(reason)
        if self.http_refresher is None or (known is not None and known.needs_browser):
            return False
        clearance_end = current.clearance_expires_at
        return clearance_end is None or clearance_end - self.clock() > need

    def _try_http(self, current: Credentials, reason: str) -> Credentials | None:
        assert self.http_refresher is not None
        self._say(f"refreshing over HTTP ({reason})")
        try:
            return self.http_refresher(current)
        except UnauthorizedError as exc:
            log.info("%s: HTTP refresh found the session dead (%s); logging in again", self.key, exc)
        except ClearanceRejectedError as exc:
            log.info("%s: HTTP refresh met a challenge (%s); re-clearing in the browser", self.key, exc)
        return None

    def _label(self, credentials: Credentials) -> Credentials:
        if credentials.account is None and self.account is not None:
            return credentials.replace(account=self.account)
        return credentials

    def _say(self, message: str) -> None:
        if self.progress is not None:
            self.progress(message)

    def __repr__(self) -> str:
        return f"SessionManager(key={self.key!r}, store={self.store!r})"


def _acquire(lock: Lock, until: Callable[[], bool]) -> bool:
    """`lock.acquire(until=...)`, or a plain acquire for a store's lock without it."""
    acquire = getattr(lock, "acquire", None)
    if acquire is not None and "until" in inspect.signature(acquire).parameters:
        return bool(acquire(until=until))
    lock.__enter__()  # a third-party lock: a plain context manager
    return True


def _has_newer_clearance(stored: Credentials, incoming: Credentials) -> bool:
    if stored.clearance_token == incoming.clearance_token:
        return False
    return (stored.clearance_expires_at or 0.0) > (incoming.clearance_expires_at or 0.0)


def _same_tokens(a: Credentials, b: Credentials) -> bool:
    return (a.clearance_token, a.session_token, a.access_token) == (
        b.clearance_token,
        b.session_token,
        b.access_token,
    )


__all__ = ["ANY_PROXY", "Harvester", "HttpRefresher", "Renewal", "SessionManager"]
