"""The emulator's options: one dataclass, its command-line flags and the accounts.

`Options` holds everything configurable; the runtime-changeable subset can be altered
through the admin API (`configure`). Flags mirror the keyword arguments of
`Emulator(...)` (docs/emulator-contract.md).
"""

from __future__ import annotations

import argparse
import dataclasses
import ipaddress
import json
from collections.abc import Callable, Iterable, Sequence
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


def _number(
    kind: Callable[[str], float], low: float, high: float = float("inf"), *, open_low: bool = False
) -> Callable[[str], float]:
    """An argparse type: a `kind` number in [low, high] (or (low, high] with `open_low`)."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        # `not (...)` also refuses NaN.
        if not (low < value <= high if open_low else low <= value <= high):
            bounds = f"{'above' if open_low else 'at least'} {low:g}" + (
                f" and at most {high:g}" if high != float("inf") else ""
            )
            raise argparse.ArgumentTypeError(f"must be {bounds}, got {text!r}")
        return value

    return parse


def _ip(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an IP address: {text!r}") from None


_PORT = _number(int, 0, 65535)
_SECONDS = _number(float, 0)
_LIFETIME = _number(float, 0, open_low=True)
# Each bit doubles the browser's work: 24 is ~16 M hashes already.
_POW_BITS = _number(int, 0, 24)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="chatgpt-browser emulator",
        description="Run the local emulator of the Dec 2022 chat web stack. Prints one JSON "
        "line (url, auth_url, admin_url, admin_token, accounts, pid, ca_file) when ready.",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=_PORT, default=0, help="site port (0: any free port)")
    p.add_argument("--auth-port", type=_PORT, default=0, help="auth0-like login origin port")
    p.add_argument("--tls", action="store_true", help="serve HTTPS with a generated CA")
    p.add_argument(
        "--tls-fingerprint",
        choices=TLS_FINGERPRINT_MODES,
        default="bind",
        help="with --tls: off; score (library TLS fingerprints fail the challenge); bind "
        "(score, and each clearance only works for the TLS client family that earned it)",
    )
    p.add_argument(
        "--client-hints-check",
        choices=("on", "off"),
        default=None,
        help="refuse a sec-ch-ua that contradicts the clearance's UA (default: on with bind)",
    )
    p.add_argument("--dwell", type=_SECONDS, default=0.0, help="seconds the challenge must be shown")
    p.add_argument("--pow-difficulty", type=_POW_BITS, default=12, help="leading zero bits of the PoW")
    p.add_argument(
        "--disable-check",
        action="append",
        default=[],
        choices=sorted(ALL_CHECKS),
        metavar="NAME",
        help=f"turn one challenge check off (repeatable): {', '.join(sorted(ALL_CHECKS))}",
    )
    p.add_argument("--interactive", action="store_true", help='"Verify you are human" checkbox')
    p.add_argument("--no-challenge", action="store_true", help="no Cloudflare layer at all")
    p.add_argument("--clearance-ttl", type=_LIFETIME, default=1800.0)
    p.add_argument("--session-ttl", type=_LIFETIME, default=30 * 86400.0)
    p.add_argument("--access-token-ttl", type=_LIFETIME, default=3600.0)
    p.add_argument("--rate-limit", type=_number(int, 0), default=None, help="messages per hour per account")
    p.add_argument("--token-delay", type=_SECONDS, default=0.0, help="seconds between SSE events")
    p.add_argument("--accounts-file", help="JSON list of {email, password, totp_secret?, captcha?}")
    p.add_argument("--account", action="append", default=[], metavar="EMAIL:PASSWORD")
    p.add_argument("--block-ip", type=_ip, action="append", default=[], metavar="IP")
    p.add_argument("--at-capacity", action="store_true")
    p.add_argument("--refresh-error", action="store_true")
    p.add_argument("--captcha", action="store_true", help="captcha on every identifier page")
    p.add_argument("--flagged-word", action="append", default=None, metavar="WORD")
    p.add_argument("--max-message-chars", type=_number(int, 1), default=16000)
    p.add_argument(
        "--allow-parallel-streams",
        action="store_true",
        help="allow several streams per account (benchmarks)",
    )
    p.add_argument("--admin-token", default=None, help="fixed admin token (default: random)")
    p.add_argument("--log-level", default="WARNING")
    p.add_argument("--parent-pid", type=int, default=None, help="exit when this process exits")
    return p


def options_from_args(args: argparse.Namespace) -> Options:
    extra: list[Account] = []
    if args.accounts_file:
        extra.extend(load_accounts_file(args.accounts_file))
    for spec in args.account:
        email, sep, password = spec.partition(":")
        if not sep:
            raise ValueError(f"--account wants EMAIL:PASSWORD, got {email!r}")
        extra.append(Account.from_dict({"email": email, "password": password}))
    return Options(
        host=args.host,
        port=args.port,
        auth_port=args.auth_port,
        tls=args.tls,
        tls_fingerprint=args.tls_fingerprint,
        client_hints_check=None if args.client_hints_check is None else args.client_hints_check == "on",
        dwell=args.dwell,
        pow_difficulty=args.pow_difficulty,
        checks=ALL_CHECKS - frozenset(args.disable_check),
        interactive=args.interactive,
        challenge=not args.no_challenge,
        clearance_ttl=args.clearance_ttl,
        session_ttl=args.session_ttl,
        access_token_ttl=args.access_token_ttl,
        rate_limit=args.rate_limit,
        token_delay=args.token_delay,
        accounts=merge_accounts(extra),
        blocked_ips=frozenset(args.block_ip),
        at_capacity=args.at_capacity,
        refresh_error=args.refresh_error,
        captcha=args.captcha,
        # `--flagged-word ""` alone means: flag nothing.
        flagged_words=tuple(w.lower() for w in (args.flagged_word or ["flagme"]) if w),
        max_message_chars=args.max_message_chars,
        one_stream_per_account=not args.allow_parallel_streams,
        admin_token=args.admin_token,
        parent_pid=args.parent_pid,
    )


def parse_options(argv: Sequence[str] | None) -> tuple[Options, str]:
    args = build_parser().parse_args(argv)
    return options_from_args(args), args.log_level
