"""The emulator's command-line flags (they mirror the keyword arguments of `Emulator`)."""

from __future__ import annotations

import argparse
import ipaddress
from collections.abc import Callable, Sequence

from .options import (
    ALL_CHECKS,
    TLS_FINGERPRINT_MODES,
    Account,
    Options,
    load_accounts_file,
    merge_accounts,
)


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
