"""The credential bundle a harvest produces and every other part consumes.

A `Credentials` value is a *matching set*: the Cloudflare clearance is only good
together with the exact User-Agent (and egress IP, i.e. `proxy`) that earned it, so
they travel together and are never mixed with another bundle's parts.

Secrets (`clearance_token`, `session_token`, `access_token`) never appear in
`repr()`/`str()`; they show as a short SHA-256 fingerprint instead.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol, TypedDict, TypeVar, runtime_checkable

from .errors import StoreError
from .redact import fingerprint, redact_proxy
from .token_times import jwt_expiry, parse_iso8601  # re-exported

if TYPE_CHECKING:  # only annotations use it (typing.Unpack is Python 3.11+)
    from typing_extensions import Unpack

#: Version of the JSON form written by `Credentials.to_json()`.
FORMAT_VERSION = 1

_SECRET_FIELDS = ("clearance_token", "session_token", "access_token")


_V = TypeVar("_V")


def _frozen_mapping(value: Mapping[str, _V] | None) -> Mapping[str, _V]:
    return MappingProxyType(dict(value or {}))


def _is_text(value: object) -> bool:
    return isinstance(value, str)


def _is_optional_text(value: object) -> bool:
    return value is None or isinstance(value, str)


def _is_optional_time(value: object) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


def _is_str_mapping(value: object) -> bool:
    return isinstance(value, Mapping) and all(isinstance(k, str) for k in value)


class Changes(TypedDict, total=False):
    """Fields `Credentials.replace` may change (all of them, by name)."""

    site: str
    user_agent: str
    session_token: str
    clearance_token: str | None
    account: str | None
    clearance_expires_at: float | None
    session_expires_at: float | None
    access_token: str | None
    access_token_expires_at: float | None
    headers: Mapping[str, str]
    proxy: str | None
    obtained_at: float
    timings: Mapping[str, float]
    source: str


@dataclasses.dataclass(frozen=True, repr=False)
class Credentials:
    """A matching credential bundle for one account on one site.

    Times are Unix epoch seconds (floats). `headers` holds the client-hint headers
    (`sec-ch-ua`, `sec-ch-ua-mobile`, `sec-ch-ua-platform`, `accept-language`) that the
    browser sent with `user_agent`; an HTTP client must send the same ones.
    `timings` maps stage names (launch, challenge, login, verify, total) to seconds.
    """

    site: str
    user_agent: str
    session_token: str
    clearance_token: str | None = None
    account: str | None = None
    clearance_expires_at: float | None = None
    session_expires_at: float | None = None
    access_token: str | None = None
    access_token_expires_at: float | None = None
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)
    proxy: str | None = None
    obtained_at: float = dataclasses.field(default_factory=time.time)
    timings: Mapping[str, float] = dataclasses.field(default_factory=dict)
    source: str = "harvest"

    def __post_init__(self) -> None:
        # Freeze the mappings too, so a bundle shared between threads cannot change.
        object.__setattr__(self, "headers", _frozen_mapping(self.headers))
        object.__setattr__(self, "timings", _frozen_mapping(self.timings))

    # -- lifetimes -----------------------------------------------------------------

    def expires_at(self) -> float | None:
        """The earliest expiry of the clearance and the session (None: unknown)."""
        known = [t for t in (self.clearance_expires_at, self.session_expires_at) if t is not None]
        return min(known) if known else None

    def ttl(self, now: float | None = None) -> float | None:
        """Seconds until the first of clearance/session expires (negative: expired)."""
        expires = self.expires_at()
        if expires is None:
            return None
        return expires - (time.time() if now is None else now)

    def expires_within(self, seconds: float, now: float | None = None) -> bool:
        """True when the clearance or the session expires within `seconds` from now.

        A bundle with no known expiry never "expires within" anything.
        """
        remaining = self.ttl(now)
        return remaining is not None and remaining <= seconds

    def access_token_valid_for(self, seconds: float = 0.0, now: float | None = None) -> bool:
        """True when there is an access token that stays valid for `seconds` more."""
        if not self.access_token:
            return False
        if self.access_token_expires_at is None:
            return True
        return self.access_token_expires_at - (time.time() if now is None else now) > seconds

    def replace(self, **changes: Unpack[Changes]) -> Credentials:
        """A copy with some fields changed (e.g. a rotated session token)."""
        return dataclasses.replace(self, **changes)

    # -- serialisation -------------------------------------------------------------

    def to_dict(self) -> dict[str, object]:
        """Plain dict including the secrets (for stores only: never log it)."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["headers"] = dict(self.headers)
        data["timings"] = dict(self.timings)
        return data

    def to_json(self) -> str:
        """Versioned JSON form, including the secrets (for stores only)."""
        return json.dumps({"version": FORMAT_VERSION, "credentials": self.to_dict()}, sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Credentials:
        """Build from `to_dict()` output; unknown keys are ignored (forward compatible)."""
        names = {f.name for f in dataclasses.fields(cls)}
        missing = [n for n in ("site", "user_agent", "session_token") if not data.get(n)]
        if missing:
            raise StoreError(f"credential record lacks {', '.join(missing)}")
        values = {k: v for k, v in data.items() if k in names}
        wrong = [name for name, value in values.items() if not _FIELD_CHECKS[name](value)]
        if wrong:
            raise StoreError(f"credential record has fields of the wrong type: {', '.join(sorted(wrong))}")
        build: Callable[..., Credentials] = cls  # each value was checked for its field above
        return build(**values)

    @classmethod
    def from_json(cls, text: str | bytes) -> Credentials:
        """Parse `to_json()` output, or the flat object of `to_dict()` and of the CLI's
        `session --format json`; raises `StoreError` for anything else."""
        try:
            document = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise StoreError(f"credential record is not valid JSON: {exc}") from exc
        if isinstance(document, dict) and "credentials" not in document and "session_token" in document:
            try:
                return cls.from_dict(document)  # the flat form
            except TypeError as exc:
                raise StoreError(f"credential record is malformed: {exc}") from exc
        if not isinstance(document, dict) or not isinstance(document.get("credentials"), dict):
            raise StoreError("credential record has no 'credentials' object")
        version = document.get("version")
        if version != FORMAT_VERSION:
            raise StoreError(f"credential record has unsupported version {version!r}")
        try:
            return cls.from_dict(document["credentials"])
        except TypeError as exc:
            raise StoreError(f"credential record is malformed: {exc}") from exc

    # -- safe display --------------------------------------------------------------

    def describe(self, now: float | None = None) -> dict[str, object]:
        """A secret-free summary (fingerprints and remaining lifetimes) for status output."""
        now = time.time() if now is None else now

        def remaining(t: float | None) -> float | None:
            return None if t is None else round(t - now, 1)

        return {
            "site": self.site,
            "account": self.account,
            "user_agent": self.user_agent,
            "proxy": redact_proxy(self.proxy),
            "clearance": fingerprint(self.clearance_token),
            "session": fingerprint(self.session_token),
            "access_token": fingerprint(self.access_token),
            "clearance_ttl": remaining(self.clearance_expires_at),
            "session_ttl": remaining(self.session_expires_at),
            "access_token_ttl": remaining(self.access_token_expires_at),
            "obtained_at": self.obtained_at,
            "source": self.source,
        }

    def __repr__(self) -> str:
        parts = [f"site={self.site!r}", f"account={self.account!r}"]
        parts += [f"{name}={fingerprint(getattr(self, name))}" for name in _SECRET_FIELDS]
        parts += [
            f"clearance_expires_at={self.clearance_expires_at!r}",
            f"session_expires_at={self.session_expires_at!r}",
            f"proxy={redact_proxy(self.proxy)!r}",
            f"source={self.source!r}",
        ]
        return f"Credentials({', '.join(parts)})"

    __str__ = __repr__


# What each stored field must be, checked once when a record is read back.
_FIELD_CHECKS = {
    "site": _is_text,
    "user_agent": _is_text,
    "session_token": _is_text,
    "clearance_token": _is_optional_text,
    "account": _is_optional_text,
    "clearance_expires_at": _is_optional_time,
    "session_expires_at": _is_optional_time,
    "access_token": _is_optional_text,
    "access_token_expires_at": _is_optional_time,
    "headers": _is_str_mapping,
    "proxy": _is_optional_text,
    "obtained_at": lambda value: value is not None and _is_optional_time(value),
    "timings": _is_str_mapping,
    "source": _is_text,
}


@runtime_checkable
class CredentialSource(Protocol):
    """Anything that hands out fresh credentials: the session manager, or a harvest.

    The client (`ChatGPTAPI`) depends on this protocol only, never on the browser or
    the session package.
    """

    def get(self, min_ttl: float = 0.0) -> Credentials:
        """Credentials valid for at least `min_ttl` more seconds."""
        ...

    def renew(self, reason: str, stale: Credentials | None = None) -> Credentials:
        """New credentials because `stale` failed (`reason`: "401", "403-challenge", ...).

        Implementations renew by the cheapest path that fixes `reason` (a re-clear for a
        challenge, a full login for a dead session) and must not renew twice when
        several callers report the same stale bundle at once.
        """
        ...

    def update(self, credentials: Credentials) -> None:
        """Persist a bundle the caller refreshed itself (e.g. a rotated session cookie)."""
        ...


__all__ = [
    "FORMAT_VERSION",
    "CredentialSource",
    "Credentials",
    "fingerprint",
    "jwt_expiry",
    "parse_iso8601",
    "redact_proxy",
]
