"""The one recovery flow of a client: send, read the answer, fix credentials, send again.

How this works (the shape of httpx's `Auth.auth_flow`): per call, a generator (`_flow`)
yields the requests to send - a session call when the access token is missing or stale,
then the call's own request - and receives each answer. A 401 is fixed by a session call,
then by a new session from the provider; a 403 challenge by a new clearance from the
provider (at most `auth_recoveries` / `challenge_renewals` times per call), unless only a
TLS fingerprint mismatch explains it (`TLSFingerprintError`). Every request goes through
the transient policy of `_retry.py` within the call's one deadline.

The bundle is immutable and replaced as a whole. Each fix is made under a lock by the
first thread that needs it; a thread that finds the bundle already replaced just uses
the new one (compare-before-renew): 50 threads on one expired token cause one refresh.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Generator, Mapping

from ..config import SiteProfile, Timeouts
from ..credentials import Credentials, CredentialSource
from ..errors import ClearanceRejectedError, TLSFingerprintError, UnauthorizedError
from ..redact import fingerprint
from ..site import RenewReason
from ._breaker import ChallengeBreaker
from ._deadline import Deadline, locked
from ._driver import Flow, FlowDriver, MaybeSent
from ._retry import RetryPolicy
from ._transport import Request, Response, Transport
from ._wire import apply_session_response, session_request
from .impersonate import MISMATCH_MESSAGE, impersonating, likely_tls_mismatch

log = logging.getLogger(__name__)

#: An access token closer than this to its expiry is refreshed before use.
TOKEN_MARGIN = 5.0

#: Builds the call's request from the bundle and access token (None: not needed).
Build = Callable[[Credentials, "str | None", Deadline], Request]


class CredentialFlow(FlowDriver):
    """The current bundle of one client and the flow that keeps it usable."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        transport: Transport,
        site: SiteProfile,
        allowed_hosts: frozenset[str],
        provider: CredentialSource | None,
        timeouts: Timeouts,
        policy: RetryPolicy,
        headers: Mapping[str, str],
        access_token_ttl: float,
        min_ttl: float,
        session_url: str | None = None,
        default_proxy: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(transport, policy, sleep)
        self._credentials = credentials
        self.site = site
        self.allowed_hosts = allowed_hosts
        self._provider = provider
        self.timeouts = timeouts
        self.headers = headers
        self._access_token_ttl = access_token_ttl
        self._min_ttl = min_ttl
        self._default_proxy = default_proxy
        self._sleep = sleep
        self.session_url = session_url or site.url(site.session_path)
        self.user: Mapping[str, object] | None = None
        self.breaker = ChallengeBreaker(policy.breaker_threshold, policy.breaker_cooldown)
        self._refresh_lock = threading.Lock()
        self._recover_lock = threading.RLock()
        self._stats_lock = threading.Lock()
        #: Counters: "refreshes" (session calls), "renewals" (new clearances), "resets".
        self.stats: Counter[str] = Counter()

    @property
    def credentials(self) -> Credentials:
        return self._credentials

    def proxy_for(self, credentials: Credentials) -> str | None:
        """The bundle's own proxy (its clearance is bound to that egress IP), else the option."""
        return credentials.proxy or self._default_proxy

    # -- the driver ------------------------------------------------------------------

    def send(
        self, build: Build | None, deadline: Deadline, *, maybe_sent: MaybeSent | None = None
    ) -> Response | None:
        """The 2xx answer to `build`'s request, else its typed error; recovers from 401 /
        403 once each. `maybe_sent` marks the request as not replayable. Without `build`
        the flow only makes sure of a valid access token."""
        return self.run(self._flow(build, deadline), deadline, maybe_sent)

    def reset(self, reason: RenewReason, deadline: Deadline) -> None:
        """A new session: from the provider (e.g. a new harvest), else a session call."""
        self.run(self._reset_flow(reason, deadline), deadline)

    # -- the flows -------------------------------------------------------------------

    def _flow(self, build: Build | None, deadline: Deadline) -> Flow:
        """Yield the call's request until it is answered; fix the bundle on 401 / 403."""
        self._renew_if_expired()
        auth_left, clearance_left = self.policy.auth_recoveries, self.policy.challenge_renewals
        while True:
            used = self._credentials
            self.breaker.check()
            started_at = time.monotonic()
            try:
                used = yield from self._with_access_token(deadline)
                if build is not None:
                    yield build(used, used.access_token, deadline)
                self.breaker.record_success()
                return
            except UnauthorizedError as error:
                if auth_left <= 0:
                    raise
                auth_left -= 1
                yield from self._recover_unauthorized(error, used, deadline)
            except ClearanceRejectedError as error:
                self.breaker.record_challenge(fingerprint(used.clearance_token), started_at)
                self._refuse_tls_mismatch(error, used)
                if clearance_left <= 0 or self.breaker.is_open:
                    raise
                clearance_left -= 1
                self._renew_clearance(error, used)

    def _with_access_token(self, deadline: Deadline) -> Generator[Request, Response, Credentials]:
        """The bundle with a valid access token (one session call for all threads)."""
        creds = self._credentials
        if creds.access_token and creds.access_token_valid_for(TOKEN_MARGIN):
            return creds
        with locked(self._refresh_lock, deadline):
            creds = self._credentials
            if not (creds.access_token and creds.access_token_valid_for(TOKEN_MARGIN)):
                creds = yield from self._session_call(creds, deadline)
        return creds

    def _session_call(
        self, creds: Credentials, deadline: Deadline
    ) -> Generator[Request, Response, Credentials]:
        """GET the session endpoint: a new access token and the rotated session cookie."""
        what = f"GET {self.site.session_path}"
        response = yield session_request(
            creds,
            self.site,
            self.session_url,
            self.allowed_hosts,
            extra=self.headers,
            timeout=(
                deadline.cap(self.timeouts.connect, what),
                deadline.cap(self.timeouts.read, what),
            ),
            proxy=self.proxy_for(creds),
            total=deadline.remaining(),
        )
        updated, answer = apply_session_response(
            creds, response, self.site, access_token_ttl=self._access_token_ttl, what=what
        )
        self._count("refreshes")
        self.user = answer.user
        self.adopt(updated)
        return updated

    def _recover_unauthorized(self, error: UnauthorizedError, stale: Credentials, deadline: Deadline) -> Flow:
        """401: a new access token from the live session first, else a new session."""
        with locked(self._recover_lock, deadline):
            current = self._credentials
            if current.access_token != stale.access_token or current.session_token != stale.session_token:
                return  # another thread fixed it meanwhile
            self.close_session()
            if error.code != "session_expired":
                try:  # the cheap fix first
                    with locked(self._refresh_lock, deadline):
                        yield from self._session_call(self._credentials, deadline)
                    return
                except UnauthorizedError:
                    log.info("access token refresh failed; resetting the session")
            yield from self._resetlocked(RenewReason.UNAUTHORIZED, stale, deadline)

    def _reset_flow(self, reason: RenewReason, deadline: Deadline) -> Flow:
        with locked(self._recover_lock, deadline):
            yield from self._resetlocked(reason, self._credentials, deadline)

    def _resetlocked(self, reason: RenewReason, stale: Credentials, deadline: Deadline) -> Flow:
        self._count("resets")
        self.user = None
        if self._provider is not None:
            self.adopt(self._provider.renew(reason, stale))
            if self._credentials.access_token_valid_for(TOKEN_MARGIN):
                return
        else:
            self.close_session()
        with locked(self._refresh_lock, deadline):
            yield from self._session_call(self._credentials, deadline)

    def _refuse_tls_mismatch(self, error: ClearanceRejectedError, used: Credentials) -> None:
        """A challenge on a clearance a browser earned moments ago, sent without that
        browser's TLS: the edge refuses our handshake, so a new clearance cannot help."""
        if likely_tls_mismatch(used, impersonating(self._transport)):
            raise TLSFingerprintError(
                MISMATCH_MESSAGE, status_code=403, detail="challenge", original_error=error
            ) from error

    def _renew_clearance(self, error: ClearanceRejectedError, stale: Credentials) -> None:
        """403 challenge: a new clearance from the provider (nobody else can clear it)."""
        with self._recover_lock:
            if self._credentials.clearance_token != stale.clearance_token:
                return
            if self._provider is None:
                raise error
            log.warning(
                "asking the provider for a new clearance (was %s)", fingerprint(stale.clearance_token)
            )
            self._count("renewals")
            self.adopt(self._provider.renew(RenewReason.CHALLENGE, stale))

    # -- the bundle ------------------------------------------------------------------

    def adopt(self, credentials: Credentials) -> None:
        """Use `credentials` from now on; hand a rotated session token to the provider."""
        previous, self._credentials = self._credentials, credentials
        if self._provider is not None and credentials.session_token != previous.session_token:
            try:
                self._provider.update(credentials)
            except Exception:  # keeping the new token in memory still works
                log.warning("the provider could not store the rotated session token", exc_info=True)

    def close_session(self) -> None:
        """Forget the access token and the user (the next call refreshes)."""
        self._credentials = self._credentials.replace(access_token=None, access_token_expires_at=None)
        self.user = None

    def _renew_if_expired(self) -> None:
        """Known-expired clearance or session: ask the provider first, not the site."""
        if self._provider is None or not self._credentials.expires_within(0.0):
            return
        with self._recover_lock:
            if self._credentials.expires_within(0.0):
                log.info("the bundle has expired; asking the provider for a fresh one")
                self.adopt(self._provider.get(self._min_ttl))

    def _count(self, name: str) -> None:
        with self._stats_lock:
            self.stats[name] += 1


__all__ = ["TOKEN_MARGIN", "CredentialFlow"]
