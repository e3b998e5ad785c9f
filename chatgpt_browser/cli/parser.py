"""The argument parser: each command takes only the flags that act for it, and every
flag's help names its environment variable and default (docs/settings.md lists all)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from .exit_codes import ExitStatus, table
from .formats import FORMATS

Command = Callable[[argparse.Namespace], int]
S = argparse.SUPPRESS


class Parser(argparse.ArgumentParser):
    """argparse with the CLI's failure contract: one line on stderr, exit 2 (no usage dump)."""

    def error(self, message: str) -> NoReturn:
        print(f"chatgpt-browser: ConfigError: {message} (see `{self.prog} --help`)", file=sys.stderr)
        raise SystemExit(ExitStatus.BAD_CONFIG)


class _RefusePassword(argparse.Action):
    """`--password` exists only to say why it does not: argv is visible to every user."""

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        parser.error(
            "passwords are never read from the command line; use --password-env NAME, "
            "--password-file FILE or --password-stdin"
        )


def h(text: str, env: str | None = None, default: str | None = None) -> str:
    """Help text with the environment variable and the default, as --help shows them."""
    extra = [f"env {env}"] if env else []
    extra += [f"default: {default}"] if default else []
    return f"{text} [{'; '.join(extra)}]" if extra else text


def _output(common: Parser) -> None:
    out = common.add_argument_group("output")
    out.add_argument(
        "-q", "--quiet", action="store_true", default=S, help="print only the result and fatal errors"
    )
    out.add_argument("--json", action="store_true", default=S, help="machine-readable output")
    out.add_argument(
        "-v", "--verbose", action="count", default=S, help="-v: log INFO, -vv: DEBUG (secrets redacted)"
    )
    out.add_argument("--debug", action="store_true", default=S, help="show tracebacks on errors")
    out.add_argument(
        "--log-file", metavar="FILE", default=S, help="also log to FILE (INFO and up, even with -q)"
    )
    out.add_argument(
        "--log-format", choices=("text", "json"), default=S, help="log lines as text or JSON (default text)"
    )


def _store(p: Parser) -> None:
    g = p.add_argument_group("configuration and store")
    g.add_argument(
        "--config",
        metavar="FILE",
        help=h(
            "TOML configuration file", "CHATGPT_BROWSER_CONFIG", "<config dir>/chatgpt-browser/config.toml"
        ),
    )
    g.add_argument(
        "--state-dir",
        metavar="DIR",
        help=h("file store and browser profiles", "CHATGPT_BROWSER_STATE_DIR", "<state dir>/chatgpt-browser"),
    )
    g.add_argument(
        "--store",
        metavar="file|redis|URL",
        help=h("credential store, or a serve URL http(s)://host:8191", "CHATGPT_BROWSER_STORE", "file"),
    )
    g.add_argument(
        "--redis-url", metavar="URL", help=h("Redis URL for --store redis", "CHATGPT_BROWSER_REDIS_URL")
    )


def _account(p: Parser) -> None:
    g = p.add_argument_group("site and account")
    g.add_argument(
        "--url",
        help=h(
            "site URL",
            "CHATGPT_BROWSER_URL",
            "the site stored with the account, else https://chat.openai.com",
        ),
    )
    g.add_argument("--email", help=h("account e-mail", "CHATGPT_BROWSER_EMAIL"))
    g.add_argument(
        "--lock-timeout",
        type=float,
        metavar="S",
        help=h("max seconds to wait for another job's renewal", default="300"),
    )


def _filter(p: Parser) -> None:
    g = p.add_argument_group("which records")
    g.add_argument("--url", help="only records of this site (default: all)")
    g.add_argument("--email", help="only records of this account (default: all)")


def _browser(p: Parser) -> None:
    g = p.add_argument_group("login and browser")
    g.add_argument(
        "--password-env",
        metavar="NAME",
        help="read the password from environment variable NAME "
        "[else CHATGPT_BROWSER_PASSWORD or password_env in the config file]",
    )
    g.add_argument("--password-file", metavar="FILE", help="read the password from FILE (first line, UTF-8)")
    g.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    g.add_argument("--password", action=_RefusePassword, help=S)
    g.add_argument(
        "--profile-dir",
        metavar="DIR",
        help=h("browser profile folder", "CHATGPT_BROWSER_PROFILE_DIR", "<state dir>/profiles/<account>"),
    )
    g.add_argument(
        "--cdp-url",
        metavar="URL",
        help=h(
            "reuse a running Chrome (its DevTools endpoint, "
            "e.g. http://127.0.0.1:9222) instead of launching one",
            "CHATGPT_BROWSER_CDP_URL",
        ),
    )
    g.add_argument(
        "--executable",
        metavar="PATH",
        help=h("Chromium executable", "CHATGPT_BROWSER_EXECUTABLE", "found on PATH"),
    )
    g.add_argument("--headed", action="store_true", help="show the browser (a person solves a captcha once)")
    g.add_argument(
        "--auth-host",
        action="append",
        metavar="HOST",
        help=h(
            "a host of the site's login service that may receive the password (repeat for "
            "several; replaces the default)",
            "CHATGPT_BROWSER_AUTH_HOSTS",
            "auth0.openai.com",
        ),
    )


def _network(p: Parser) -> None:
    g = p.add_argument_group("network")
    g.add_argument(
        "--proxy",
        metavar="URL",
        help=h(
            "egress proxy for the browser and the client (with a password: use the env var)",
            "CHATGPT_BROWSER_PROXY",
        ),
    )
    g.add_argument(
        "--ca-file",
        metavar="PEM",
        help=h(
            "trust this CA for the site (TLS-inspecting proxy, emulator --tls)", "CHATGPT_BROWSER_CA_FILE"
        ),
    )
    g.add_argument(
        "--trust-env",
        action="store_true",
        default=None,
        help=h(
            "let the client use HTTPS_PROXY/NO_PROXY and REQUESTS_CA_BUNDLE",
            "CHATGPT_BROWSER_TRUST_ENV",
            "off",
        ),
    )


def _parent(*parts: Callable[[Parser], None]) -> Parser:
    common = Parser(add_help=False, allow_abbrev=False)
    _output(common)
    for part in parts:
        part(common)
    return common


def build_parser(handlers: dict[str, Command]) -> Parser:
    parser = Parser(
        prog="chatgpt-browser",
        allow_abbrev=False,
        description="Unattended credentials and a resilient client for the ChatGPT web stack.",
        epilog=f"Exit codes: {table()}. Settings: docs/settings.md.",
    )
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"chatgpt-browser {__version__}")
    _output(parser)
    for action in parser._actions:  # top-level output flags have real defaults
        if action.default is S:
            action.default = 0 if action.dest == "verbose" else None if action.dest == "log_file" else False
    parser.set_defaults(log_format="text")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    renewing = _parent(_store, _account, _browser, _network)

    def add(name: str, help_text: str, parent: Parser | None, description: str | None = None) -> Parser:
        sub = commands.add_parser(
            name, parents=[parent] if parent else [], help=help_text,
            description=description or help_text, allow_abbrev=False,
        )  # fmt: skip
        sub.set_defaults(handler=handlers[name])
        return sub

    _account_commands(add, renewing)
    _site_commands(add, renewing)
    _tool_commands(add)
    from ..serve.cli import add_parser as add_serve  # serve's flags live with serve

    add_serve(commands, renewing)
    emulator = commands.add_parser(
        "emulator", help="run the local site emulator", add_help=False, prefix_chars="\0"
    )
    emulator.add_argument("emulator_args", nargs=argparse.REMAINDER)
    emulator.set_defaults(handler=handlers["emulator"])
    return parser


Add = Callable[..., Parser]


def _account_commands(add: Add, renewing: Parser) -> None:
    login = add(
        "login",
        "log in and store the bundle",
        renewing,
        "Log in and store the bundle. With a password (or --force) this is a full login, "
        "so a wrong password fails (exit 3); without one it re-clears the saved profile.",
    )
    login.add_argument("--force", action="store_true", help="full login even if the profile holds a session")
    session = add("session", "print a fresh credential bundle (for cron)", renewing)
    session.add_argument("--format", choices=FORMATS, default="json", help="output format (default: json)")
    session.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write the bundle to FILE (atomic, mode 0600, untouched on failure)",
    )
    session.add_argument(
        "--min-ttl",
        type=float,
        metavar="S",
        help=h(
            "renew unless valid this many more seconds (below the clearance lifetime)",
            "CHATGPT_BROWSER_MIN_TTL",
            "300",
        ),
    )
    session.add_argument(
        "--renew", action="store_true", help="renew now (re-clear) even if the bundle looks fresh"
    )
    status = add(
        "status",
        "show stored accounts and remaining lifetimes (never opens a browser)",
        _parent(_store, _filter),
    )
    status.add_argument(
        "--check",
        action="store_true",
        help="exit 14 when a record is unreadable, expired or expires within --min-ttl",
    )
    status.add_argument(
        "--min-ttl",
        type=float,
        metavar="S",
        help=h("with --check: the lifetime each record must still have", "CHATGPT_BROWSER_MIN_TTL", "300"),
    )
    status.add_argument(
        "--format", choices=("table", "json"), default="table", help="output (default: table)"
    )
    logout = add(
        "logout", "forget the account's stored bundle and browser profile", _parent(_store, _account)
    )
    logout.add_argument(
        "--profile-dir",
        metavar="DIR",
        help=h("browser profile folder", "CHATGPT_BROWSER_PROFILE_DIR", "<state dir>/profiles/<account>"),
    )


def _site_commands(add: Add, renewing: Parser) -> None:
    ask = add("ask", "send a message and stream the answer", renewing)
    ask.add_argument("prompt", help="the message ('-' reads standard input; its final newline is dropped)")
    ask.add_argument("--conversation", metavar="ID", help="continue this conversation")
    ask.add_argument("--parent", metavar="ID", help="the message to answer after (with --conversation)")
    ask.add_argument(
        "--timeout",
        type=float,
        metavar="S",
        help="deadline of the whole call in seconds: retries, renewals and the streamed answer",
    )
    moderate = add("moderate", "run the moderation endpoint on a text (exit 13 when flagged)", renewing)
    moderate.add_argument("text", help="the text ('-' reads standard input)")
    moderate.add_argument(
        "--no-fail-on-flag", action="store_true", help="exit 0 even when the text is flagged"
    )
    doctor = add(
        "doctor",
        "check browser, driver, stealth, TLS fingerprint, clock, store (exit 14 on a failed check)",
        renewing,
    )
    doctor.add_argument("--format", choices=("text", "json"), default="text", help="output (default: text)")
    doctor.add_argument(
        "--transport",
        choices=("auto", "requests", "curl_cffi"),
        default="auto",
        help="HTTP transport whose TLS fingerprint is checked (default: auto)",
    )


def _tool_commands(add: Add) -> None:
    demo = add(
        "demo",
        "run the end-to-end demo on the embedded emulator",
        _parent(),
        "Start the embedded site emulator, harvest credentials in a real Chromium, then "
        "ask a question and renew after a 403 and a 401: the whole product in ~10 s, offline.",
    )
    demo.add_argument("--dwell", type=float, default=2.0, help="challenge dwell seconds (default: 2)")
    demo.add_argument(
        "--token-delay", type=float, default=0.05, help="seconds between streamed events (default: 0.05)"
    )
    demo.add_argument("--headed", action="store_true", help="show the browser")
    demo.add_argument("--executable", metavar="PATH", help="Chromium executable (default: found on PATH)")
    completion = add(
        "completion",
        "print a shell completion script",
        None,
        'Print a completion script: `eval "$(chatgpt-browser completion bash)"`, or save the '
        "zsh one as _chatgpt-browser in a folder of $fpath.",
    )
    completion.add_argument("shell", choices=("bash", "zsh"))


__all__ = ["Command", "Parser", "build_parser"]
