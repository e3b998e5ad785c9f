"""The argument parser: each command takes only the flags that act for it (the flag
groups live in `flags`)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from .exit_codes import table
from .flags import (
    Parser,
    S,
    account_flags,
    browser_flags,
    filter_flags,
    h,
    network_flags,
    output_flags,
    parent,
    store_flags,
)
from .formats import FORMATS

Command = Callable[[argparse.Namespace], int]


def build_parser(handlers: dict[str, Command]) -> Parser:
    parser = Parser(
        prog="chatgpt-browser",
        allow_abbrev=False,
        description="Unattended credentials and a resilient client for the ChatGPT web stack.",
        epilog=f"Exit codes: {table()}. Settings: docs/settings.md.",
    )
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"chatgpt-browser {__version__}")
    output_flags(parser)
    for action in parser._actions:  # top-level output flags have real defaults
        if action.default is S:
            action.default = 0 if action.dest == "verbose" else None if action.dest == "log_file" else False
    parser.set_defaults(log_format="text")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    renewing = parent(store_flags, account_flags, browser_flags, network_flags)

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
        parent(store_flags, filter_flags),
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
        "logout", "forget the account's stored bundle and browser profile", parent(store_flags, account_flags)
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
        parent(),
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
