"""Everything the emulator remembers: clearances, sessions, access tokens, counters.

Records are kept server-side so the admin API can expire or revoke them; tokens carry
an HMAC (tokens.py) so forged or mangled ones are recognised as such. All times come
from the controllable `Clock`.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import os
import uuid
from typing import Protocol, TypeVar

from .clock import Clock
from .conversations import ConversationStore
from .edge_tls import TlsRegistry
from .faults import FaultQueue
from .options import Account, Options
from .stats import Stats, StatsSnapshot
from .tokens import Signer, TokenError

log = logging.getLogger(__name__)

#: A challenge page must be answered within this many seconds (emulator clock).
CHALLENGE_TTL = 3600.0


@dataclasses.dataclass
class Clearance:
    id: str
    ip: str
    user_agent: str
    issued_at: float
    expired: bool = False
    #: "13_h2_8daaf6152771" (TLS version, ALPN, JA4 cipher hash) of the client that earned
    #: it, and that client's full JA4 (for the logs); None: not bound to a TLS client.
    tls_binding: str | None = None
    ja4: str | None = None


@dataclasses.dataclass
class Session:
    sid: str
    email: str
    expires_at: float
    access_token: str | None = dataclasses.field(default=None, repr=False)
    access_jti: str | None = None


@dataclasses.dataclass
class AccessToken:
    jti: str
    email: str
    expires_at: float


class AuthError(Exception):
    """A bearer token the backend refuses; `code` is the wire doc's 401 code."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class State:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.clock = Clock()
        self.signer = Signer()
        self.stats = Stats()
        self.faults = FaultQueue()
        self.tls = TlsRegistry()
        self.conversations = ConversationStore(self.clock)
        self.clearances: dict[str, Clearance] = {}
        self.sessions: dict[str, Session] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        #: salt -> when its challenge was served; answers may come once, within CHALLENGE_TTL.
        self.used_challenges: dict[str, float] = {}
        self.active_streams: dict[str, int] = collections.defaultdict(int)
        self.message_times: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)
        self.user_ids: dict[str, str] = {}

    # -- accounts ---------------------------------------------------------------
    def account(self, email: str) -> Account | None:
        return self.options.account(email)

    def user_id(self, email: str) -> str:
        key = email.lower()
        if key not in self.user_ids:
            self.user_ids[key] = "user-" + self.signer.sign("user", key)[:24].replace("-", "x").replace(
                "_", "y"
            )
        return self.user_ids[key]

    # -- clearances ---------------------------------------------------------------
    def issue_clearance(
        self, ip: str, user_agent: str, *, tls_binding: str | None = None, ja4: str | None = None
    ) -> str:
        cid, issued = os.urandom(16).hex(), int(self.clock.now())
        self.clearances[cid] = Clearance(cid, ip, user_agent, float(issued), tls_binding=tls_binding, ja4=ja4)
        signature = self.signer.sign("cf", cid, str(issued))
        return f"{cid}-{issued}-0-150-{signature}"

    def clearance_record(self, value: str | None) -> Clearance | None:
        parts = (value or "").split("-", 4)
        return self.clearances.get(parts[0]) if len(parts) == 5 else None

    def check_clearance(
        self, value: str | None, ip: str, user_agent: str, tls_binding: str | None = None
    ) -> str | None:
        """None when the clearance is good for this IP, UA and TLS client, else why it is not.

        `tls_binding` is the requesting connection's; it is compared only when the edge
        binds clearances (`--tls-fingerprint bind`) and the clearance was bound.
        """
        if not value:
            return "missing"
        parts = value.split("-", 4)
        if len(parts) != 5 or not self.signer.verify(parts[4], "cf", parts[0], parts[1]):
            return "invalid"
        record = self.clearances.get(parts[0])
        if record is None:
            return "revoked"
        if record.expired or self.clock.now() >= record.issued_at + self.options.clearance_ttl:
            return "expired"
        if record.ip != ip:
            return "ip_mismatch"
        if record.user_agent != user_agent:
            return "ua_mismatch"
        bound = record.tls_binding
        if self.options.fingerprint_mode == "bind" and bound is not None and bound != tls_binding:
            return "tls_mismatch"
        return None

    def use_challenge(self, salt: str, issued_at: float) -> str | None:
        """Mark a challenge answered; why it may not be (stale, replayed), else None."""
        now = self.clock.now()
        if now - issued_at > CHALLENGE_TTL:
            return "stale_token"
        if salt in self.used_challenges:
            return "replayed"
        if len(self.used_challenges) > 10_000:  # forget those too old to be answered anyway
            self.used_challenges = {s: t for s, t in self.used_challenges.items() if now - t <= CHALLENGE_TTL}
        self.used_challenges[salt] = issued_at
        return None

    # -- sessions -------------------------------------------------------------------
    def new_session(self, email: str) -> Session:
        session = Session(uuid.uuid4().hex, email, self.clock.now() + self.options.session_ttl)
        self.sessions[session.sid] = session
        self.stats.sessions_issued += 1
        return session

    def session_token(self, session: Session) -> str:
        return self.signer.seal(
            {"sid": session.sid, "exp": int(session.expires_at), "n": os.urandom(4).hex()}
        )

    def session_from_token(self, token: str | None) -> Session | None:
        if not token:
            return None
        try:
            payload = self.signer.open(token)
        except TokenError:
            return None
        session = self.sessions.get(str(payload.get("sid")))
        if session is None or self.clock.now() >= session.expires_at:
            return None
        return session

    # -- access tokens ------------------------------------------------------------------
    def issue_access_token(self, email: str) -> tuple[str, AccessToken]:
        now = self.clock.now()
        record = AccessToken(uuid.uuid4().hex, email, now + self.options.access_token_ttl)
        self.access_tokens[record.jti] = record
        self.stats.access_tokens_issued += 1
        claims = {
            "https://api.openai.com/profile": {"email": email, "email_verified": True},
            "https://api.openai.com/auth": {"user_id": self.user_id(email)},
            "iss": "https://auth0.openai.com/",
            "sub": "auth0|" + self.user_id(email)[5:],
            "aud": ["https://api.openai.com/v1", "https://openai.openai.auth0app.com/userinfo"],
            "iat": int(now),
            "exp": int(record.expires_at),
            "azp": "TdJIcbe16WoTHtN95nyywh5E4yOo6ItG",
            "scope": "openid email profile model.read model.request organization.read offline_access",
            "jti": record.jti,
        }
        return self.signer.make_jwt(claims), record

    def check_bearer(self, authorization: str | None) -> str:
        """The account e-mail for a valid `Authorization: Bearer` header; else AuthError."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthError("invalid_api_key")
        try:
            claims = self.signer.read_jwt(token)
        except TokenError:
            raise AuthError("invalid_jwt") from None
        record = self.access_tokens.get(str(claims.get("jti")))
        if record is None:
            raise AuthError("invalid_jwt")
        if self.clock.now() >= record.expires_at:
            raise AuthError("token_expired")
        return record.email

    # -- admin: expire / revoke -------------------------------------------------------
    def expire(self, what: str, email: str | None = None) -> int:
        return self._invalidate(what, email, revoke=False)

    def revoke(self, what: str, email: str | None = None) -> int:
        return self._invalidate(what, email, revoke=True)

    def _invalidate(self, what: str, email: str | None, *, revoke: bool) -> int:
        now = self.clock.now()
        if what == "clearance":
            targets = list(self.clearances.values())
            for clearance in targets:
                if revoke:
                    del self.clearances[clearance.id]
                else:
                    clearance.expired = True
            return len(targets)
        if what == "session":
            return _invalidate_in(self.sessions, email, now, revoke=revoke)
        if what == "access_token":
            return _invalidate_in(self.access_tokens, email, now, revoke=revoke)
        raise ValueError("what must be 'clearance', 'session' or 'access_token'")

    # -- rate limit and one stream per account ------------------------------------------
    def rate_limited(self, email: str) -> float | None:
        """Seconds to wait when the hourly limit is used up, else None (and counts one)."""
        limit = self.options.rate_limit
        times = self.message_times[email]
        now = self.clock.now()
        while times and times[0] <= now - 3600.0:
            times.popleft()
        if limit is not None and len(times) >= limit:
            # rate_limit=0 allows nothing: wait a full window.
            oldest = times[0] if times else now
            return max(1.0, oldest + 3600.0 - now)
        times.append(now)
        return None

    def snapshot(self) -> StatsSnapshot:
        s = self.stats
        return {
            "requests": dict(s.requests),
            "challenges": {
                "served": s.challenges_served,
                "passed": s.challenges_passed,
                "failed": s.challenges_failed,
                "failures": list(s.challenge_failures),
                "clearance_rejections": dict(s.clearance_rejections),
                "tls_mismatches": list(s.tls_mismatches),
                "client_hint_mismatches": s.client_hint_mismatches,
            },
            "logins": {"ok": s.logins_ok, "failed": s.logins_failed},
            "active_streams": sum(self.active_streams.values()),
            "sessions_issued": s.sessions_issued,
            "access_tokens_issued": s.access_tokens_issued,
            "conversations": s.conversations,
            "messages": s.messages,
            "faults_applied": s.faults_applied,
            "tls": {"mode": self.options.fingerprint_mode, **self.tls.snapshot(limit=0)},
            "faults_pending": self.faults.pending(),
            "clock_offset": self.clock.offset,
            "now": self.clock.now(),
        }


def _owned(owner: str, email: str | None) -> bool:
    return email is None or owner.lower() == email.lower()


class _Expiring(Protocol):
    email: str
    expires_at: float


_Record = TypeVar("_Record", bound=_Expiring)


def _invalidate_in(table: dict[str, _Record], email: str | None, now: float, *, revoke: bool) -> int:
    """Expire (or, revoking, forget) the records of `table` that `email` owns (None: all)."""
    keys = [key for key, record in table.items() if _owned(record.email, email)]
    for key in keys:
        if revoke:
            del table[key]
        else:
            table[key].expires_at = min(table[key].expires_at, now)
    return len(keys)
