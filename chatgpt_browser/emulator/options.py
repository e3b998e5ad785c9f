"""The emulator's options: one dataclass and the accounts (command-line flags: flags.py).

`Options` holds everything configurable; the runtime-changeable subset can be altered
through the admin API (`configure`). Flags mirror the keyword arguments of
`Emulator(...)` (docs/emulator-contract.md).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from .jsontypes import JSONMapping, JSONObject, to_float, to_int

#: `--tls-fingerprint`: ignore TLS; fail library fingerprints on the challenge; also bind
#: each clearance to the TLS client family that earned it.
TLS_FINGERPRINT_MODES = ("off", "score", "bind")
ALL_CHECKS = frozenset({"webdriver", "headless", "ua_match", "pow", "dwell"})
DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-password"

#: Options the admin API may change while the server runs.
RUNTIME_OPTIONS = frozenset(
    {
        "at_capacity",
        "interactive",
        "dwell",
        "checks",
        "rate_limit",
        "token_delay",
        "refresh_error",
        "blocked_ips",
        "clearance_ttl",
        "session_ttl",
        "access_token_ttl",
        "pow_difficulty",
        "challenge",
        "captcha",
        "flagged_words",
        "max_message_chars",
        "one_stream_per_account",
        "client_hints_check",
    }
)


@dataclasses.dataclass(frozen=True)
class Account:
    """A login the emulator accepts. The password and TOTP secret never show in reprs."""

    email: str
    password: str = dataclasses.field(repr=False)
    totp_secret: str | None = dataclasses.field(default=None, repr=False)
    captcha: bool = False

    @classmethod
    def from_dict(cls, data: JSONMapping) -> Account:
        try:
            email, password = str(data["email"]), str(data["password"])
        except KeyError as exc:
            raise ValueError(f"account needs 'email' and 'password', missing {exc}") from None
        if "@" not in email or not password:
            raise ValueError(f"bad account entry for {email!r}")
        secret = data.get("totp_secret")
        return cls(email, password, str(secret) if secret else None, bool(data.get("captcha", False)))

    def to_dict(self) -> JSONObject:
        return {
            "email": self.email,
            "password": self.password,
            "totp_secret": self.totp_secret,
            "captcha": self.captcha,
        }


DEMO_ACCOUNT = Account(DEMO_EMAIL, DEMO_PASSWORD)


@dataclasses.dataclass
class Options:
    host: str = "127.0.0.1"
    port: int = 0
    auth_port: int = 0
    tls: bool = False
    #: off | score | bind (only with `tls`); see TLS_FINGERPRINT_MODES.
    tls_fingerprint: str = "bind"
    #: Refuse a `sec-ch-ua` contradicting the clearance's UA; None: on when binding TLS.
    client_hints_check: bool | None = None
    dwell: float = 0.0
    pow_difficulty: int = 12
    checks: frozenset[str] = ALL_CHECKS
    interactive: bool = False
    challenge: bool = True
    clearance_ttl: float = 1800.0
    session_ttl: float = 30 * 86400.0
    access_token_ttl: float = 3600.0
    rate_limit: int | None = None
    token_delay: float = 0.0
    accounts: tuple[Account, ...] = (DEMO_ACCOUNT,)
    blocked_ips: frozenset[str] = frozenset()
    at_capacity: bool = False
    refresh_error: bool = False
    captcha: bool = False
    flagged_words: tuple[str, ...] = ("flagme",)
    max_message_chars: int = 16000
    one_stream_per_account: bool = True
    admin_token: str | None = None
    #: Stop when this process is gone (set by `Emulator`, so no server outlives its test).
    parent_pid: int | None = None

    def account(self, email: str) -> Account | None:
        for account in self.accounts:
            if account.email.lower() == email.lower():
                return account
        return None

    @property
    def fingerprint_mode(self) -> str:
        """The TLS fingerprint mode in force ("off" without --tls: there is no ClientHello)."""
        return self.tls_fingerprint if self.tls else "off"

    @property
    def checks_client_hints(self) -> bool:
        if self.client_hints_check is None:
            return self.fingerprint_mode == "bind"
        return self.client_hints_check

    def update(self, changes: JSONMapping) -> None:
        """Apply admin `configure` changes, converting JSON values to the field types."""
        unknown = set(changes) - RUNTIME_OPTIONS
        if unknown:
            raise ValueError(f"not changeable at runtime: {sorted(unknown)}")
        for name, value in changes.items():
            setattr(self, name, _coerce(name, value))


def _coerce(name: str, value: object) -> object:
    if name == "tls_fingerprint":
        if value not in TLS_FINGERPRINT_MODES:
            raise ValueError(f"tls_fingerprint must be one of {', '.join(TLS_FINGERPRINT_MODES)}")
        return str(value)
    if name == "client_hints_check":
        return None if value is None else bool(value)
    if name == "checks":
        checks = ALL_CHECKS if value is None else frozenset(_items(value))
        if checks - ALL_CHECKS:
            raise ValueError(f"unknown checks: {sorted(map(str, checks - ALL_CHECKS))}")
        return checks
    if name == "blocked_ips":
        return frozenset(_items(value or ()))
    if name == "flagged_words":
        return tuple(str(word).lower() for word in _items(value) if word)
    if name in ("rate_limit",):
        return None if value is None else to_int(value)
    if name in ("pow_difficulty", "max_message_chars"):
        return to_int(value)
    if name in ("dwell", "clearance_ttl", "session_ttl", "access_token_ttl", "token_delay"):
        return to_float(value)
    return bool(value)


def _items(value: object) -> Iterable[object]:
    if not isinstance(value, Iterable):
        raise TypeError(f"expected a list, got {type(value).__name__}")
    return value


def merge_accounts(extra: Iterable[Account]) -> tuple[Account, ...]:
    """The demo account first, then the given ones (a repeated e-mail replaces the earlier)."""
    accounts: dict[str, Account] = {DEMO_EMAIL: DEMO_ACCOUNT}
    for account in extra:
        accounts[account.email.lower()] = account
    return tuple(accounts.values())


def load_accounts_file(path: str | Path) -> list[Account]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if isinstance(data, dict):
        data = data.get("accounts", [])
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list of accounts")
    return [Account.from_dict(entry) for entry in data]


def parse_options(argv: Sequence[str] | None) -> tuple[Options, str]:
    """The options and log level of an emulator command line (the flags live in flags.py)."""
    from .flags import parse_options as parse  # flags.py imports this module

    return parse(argv)
