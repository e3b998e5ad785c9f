"""The `chatgpt-browser` command line: wires config, browser, session and client.

Only this module (and the demo it runs) prints. Every failure maps to one line on
stderr and a distinct exit code (`errors.ExitStatus`); `--debug` adds the traceback.
Heavy modules are imported inside the commands that need them, so `session` and
`status` start fast and never load Playwright when the stored bundle is fresh.

Configuration precedence, highest first: flags > `CHATGPT_BROWSER_*` environment
variables > the TOML file (`--config`) > defaults. Passwords never come from argv:
`--password-env NAME`, `--password-stdin`, `CHATGPT_BROWSER_PASSWORD`, or a prompt.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from .cli_formats import FORMATS, format_bundle, status_table, ttl_text
from .cli_redact import known_secrets, redact, setup_logging
from .errors import ChatGPTBrowserError, ConfigError, ExitStatus
from .site import RenewReason

if TYPE_CHECKING:  # pragma: no cover
    from .config import Settings
    from .credentials import Credentials
    from .session.manager import SessionManager

Command = Callable[[argparse.Namespace], int]


# -- settings and output -----------------------------------------------------------


def _settings(args: argparse.Namespace) -> Settings:
    from .config import load_settings

    overrides = {
        "url": args.url,
        "email": args.email,
        "state_dir": args.state_dir,
        "store": args.store,
        "redis_url": args.redis_url,
        "cdp_url": args.cdp_url,
        "executable": args.executable,
        "proxy": args.proxy,
        "ca_file": args.ca_file,
        "min_ttl": getattr(args, "min_ttl", None),
        "lock": args.lock_timeout,
        "headless": False if args.headed else None,
    }
    return load_settings(overrides, config_file=args.config)


class Progress:
    """Stage lines on stderr, only for a person at a terminal (never in cron output)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.started = time.monotonic()

    def __call__(self, message: str) -> None:
        if self.enabled:
            print(f"[{time.monotonic() - self.started:6.1f}s] {message}", file=sys.stderr, flush=True)


def _progress(args: argparse.Namespace) -> Progress:
    return Progress(sys.stderr.isatty() and not args.quiet and not args.json)


def _password_provider(
    args: argparse.Namespace, *, configured: Callable[[], str | None], prompt: bool
) -> Callable[[], str | None]:
    """The password, looked up only when a login needs it (--password-stdin's line is read
    at once): --password-env / --password-stdin, then the configured one
    (CHATGPT_BROWSER_PASSWORD, password_env in the TOML file), then a prompt on a terminal."""
    from .config import secret_from_env

    cache: list[str | None] = []
    if args.password_stdin and not args.password_env:
        # Read it now: a text read later from stdin (`ask -`) must start after it, even
        # when no login ends up needing the password.
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise ConfigError("--password-stdin: nothing on standard input")
        cache.append(line)

    def provide() -> str | None:
        if cache:
            return cache[0]
        value = secret_from_env(args.password_env) if args.password_env else configured()
        if value is None and prompt and sys.stdin.isatty():
            import getpass

            value = getpass.getpass("Password: ") or None
        cache.append(value)
        return value

    return provide


def _manager(args: argparse.Namespace, settings: Settings, *, prompt: bool = False) -> SessionManager:
    """The account's manager; `prompt`: ask for a missing password on a terminal."""
    from .app import build_manager

    if not settings.email:
        raise ConfigError("no account: pass --email or set CHATGPT_BROWSER_EMAIL")
    return build_manager(
        settings,
        password=_password_provider(args, configured=settings.resolved_password, prompt=prompt),
        # --headed means a person is watching: the harvest waits for them on a captcha.
        interactive=bool(args.headed),
        progress=_progress(args),
    )


def _emit(args: argparse.Namespace, data: Any, text: str) -> None:
    if args.json:
        print(json.dumps(data, sort_keys=True))
    elif not args.quiet:
        print(text)


# -- commands ---------------------------------------------------------------------


def _summary(credentials: Credentials) -> dict[str, Any]:
    return credentials.describe()


def _cmd_login(args: argparse.Namespace) -> int:
    settings = _settings(args)
    manager = _manager(args, settings, prompt=True)
    credentials = manager.renew("login")
    info = _summary(credentials)
    _emit(
        args,
        info,
        f"logged in as {credentials.account} on {credentials.site} ({credentials.source}); "
        f"clearance {ttl_text(info['clearance_ttl'])}, session {ttl_text(info['session_ttl'])}",
    )
    return ExitStatus.OK


def _cmd_session(args: argparse.Namespace) -> int:
    settings = _settings(args)
    manager = _manager(args, settings)
    # --renew: e.g. the consumer just saw a 403; re-clear whatever the store says.
    credentials = manager.renew(RenewReason.FORCED) if args.renew else manager.get(min_ttl=settings.min_ttl)
    print(format_bundle(credentials, args.format, settings))
    return ExitStatus.OK


def _cmd_status(args: argparse.Namespace) -> int:
    from .app import open_store, status_rows

    settings = _settings(args)
    store = open_store(settings)
    rows = status_rows(settings, store=store)
    if args.json:
        print(json.dumps({"store": store.location(), "accounts": rows}, sort_keys=True))
        return ExitStatus.OK
    if not rows:
        print(f"no stored credentials in {store.location()}")
        return ExitStatus.OK
    print(status_table(rows))
    return ExitStatus.OK


def _read_text(value: str) -> str:
    text = sys.stdin.read() if value == "-" else value
    if not text.strip():
        raise ConfigError("empty message")
    return text


def _cmd_ask(args: argparse.Namespace) -> int:
    from .app import build_client

    settings = _settings(args)
    client = build_client(settings, manager=_manager(args, settings))
    if args.conversation and not args.parent:
        raise ConfigError("--conversation needs --parent (the message id printed after the last answer)")
    prompt = _read_text(args.prompt)
    stream = not args.json and not args.quiet
    printed = [0]

    def on_progress(partial: Any) -> None:
        text = getattr(partial, "response", partial)
        if stream and isinstance(text, str):
            sys.stdout.write(text[printed[0] :])
            sys.stdout.flush()
            printed[0] = len(text)

    try:
        result = client.send_message(
            prompt, conversation_id=args.conversation, parent_message_id=args.parent, on_progress=on_progress
        )
    finally:
        if stream and printed[0]:
            sys.stdout.write("\n")
        client.close()
    incomplete = bool(getattr(result, "incomplete", False))
    if incomplete:  # the text may be cut short: say so, even to cron (exit status stays 0)
        logging.getLogger(__name__).warning("the answer stream ended without [DONE]; it may be incomplete")
    data = {
        "response": result.response,
        "conversation_id": result.conversation_id,
        "message_id": result.message_id,
        "incomplete": incomplete,
    }
    if args.json:
        print(json.dumps(data, sort_keys=True))
    elif args.quiet:
        print(result.response)
    else:
        if not printed[0]:
            print(result.response)
        print(
            f"(continue with: --conversation {result.conversation_id} --parent {result.message_id})",
            file=sys.stderr,
        )
    return ExitStatus.OK


def _cmd_moderate(args: argparse.Namespace) -> int:
    from .app import build_client

    settings = _settings(args)
    client = build_client(settings, manager=_manager(args, settings))
    try:
        result = client.send_moderation(_read_text(args.text))
    finally:
        client.close()
    data = {"flagged": result.flagged, "blocked": result.blocked, "moderation_id": result.moderation_id}
    _emit(
        args,
        data,
        f"flagged: {'yes' if result.flagged else 'no'}, blocked: {'yes' if result.blocked else 'no'}",
    )
    return ExitStatus.OK


def _cmd_logout(args: argparse.Namespace) -> int:
    from .app import logout

    settings = _settings(args)
    if not settings.email:
        raise ConfigError("no account: pass --email or set CHATGPT_BROWSER_EMAIL")
    removed = logout(settings)
    text = f"logged out {settings.email}: removed {' and '.join(removed)}" if removed else "nothing stored"
    _emit(args, {"account": settings.email, "removed": removed}, text)
    return ExitStatus.OK


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(
        dwell=args.dwell,
        token_delay=args.token_delay,
        headed=args.headed,
        as_json=args.json,
        executable=args.executable,
    )


def _cmd_doctor(args: argparse.Namespace) -> int:
    from .doctor import run

    return run(_settings(args), transport=args.transport, fmt="json" if args.json else args.format)


def _cmd_emulator(args: argparse.Namespace) -> int:
    from .emulator.__main__ import main as emulator_main

    return int(emulator_main(args.emulator_args) or 0)


# -- parser -------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse with the CLI's failure contract: one line on stderr, exit 2 (no usage dump)."""

    def error(self, message: str) -> NoReturn:
        print(
            f"chatgpt-browser: ConfigError: {message} (see `{self.prog} --help`)",
            file=sys.stderr,
        )
        raise SystemExit(ExitStatus.BAD_CONFIG)


class _RefusePassword(argparse.Action):
    """`--password` exists only to say why it does not: argv is visible to every user."""

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        parser.error(
            "passwords are never read from the command line; use --password-env NAME or --password-stdin"
        )


def _common() -> _Parser:
    common = _Parser(add_help=False, allow_abbrev=False)
    S = argparse.SUPPRESS
    out = common.add_argument_group("output")
    out.add_argument("-q", "--quiet", action="store_true", default=S, help="print only the result")
    out.add_argument("--json", action="store_true", default=S, help="machine-readable output")
    out.add_argument(
        "-v", "--verbose", action="store_true", default=S, help="log progress (secrets redacted)"
    )
    out.add_argument("--debug", action="store_true", default=S, help="show tracebacks on errors")
    site = common.add_argument_group("site and account")
    site.add_argument("--config", metavar="FILE", help="TOML configuration file")
    site.add_argument("--url", help="site URL (default: the real site; see also `demo`)")
    site.add_argument("--email", help="account e-mail")
    site.add_argument(
        "--password-env", metavar="NAME", help="read the password from environment variable NAME"
    )
    site.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    site.add_argument("--password", action=_RefusePassword, help=argparse.SUPPRESS)
    site.add_argument("--state-dir", metavar="DIR", help="where the file store and browser profiles live")
    site.add_argument("--store", metavar="file|redis|URL", help="credential store, or a serve URL http(s)://host:8191")
    site.add_argument("--redis-url", metavar="URL", help="Redis URL for --store redis")
    site.add_argument("--cdp-url", metavar="URL", help="harvest in a remote Chromium over CDP")
    site.add_argument("--executable", metavar="PATH", help="Chromium executable")
    site.add_argument(
        "--proxy", metavar="URL", help="egress proxy (with a password: use CHATGPT_BROWSER_PROXY)"
    )
    site.add_argument("--ca-file", metavar="PEM", help="trust this CA for the site (e.g. emulator --tls)")
    site.add_argument("--headed", action="store_true", help="show the browser (solve a captcha once)")
    site.add_argument("--lock-timeout", type=float, metavar="S", help="max seconds to wait for another job")
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="chatgpt-browser",
        allow_abbrev=False,
        description="Unattended credentials and a resilient client for the ChatGPT web stack.",
        epilog="Exit codes: " + ", ".join(f"{s.value} {s.name.lower()}" for s in ExitStatus),
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="print only the result")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress (secrets redacted)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    common = _common()

    def add(name: str, handler: Command, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name, parents=[common], help=help_text, description=help_text, allow_abbrev=False
        )
        sub.set_defaults(handler=handler)
        return sub

    add("login", _cmd_login, "log in (or re-clear with the saved profile) and store the bundle")
    session = add("session", _cmd_session, "print a fresh credential bundle (for cron)")
    session.add_argument("--format", choices=FORMATS, default="json", help="output format (default json)")
    session.add_argument(
        "--min-ttl", type=float, metavar="S", help="renew unless valid this many more seconds"
    )
    session.add_argument(
        "--renew", action="store_true", help="renew now (re-clear) even if the stored bundle looks fresh"
    )
    add("status", _cmd_status, "show stored accounts and remaining lifetimes (never opens a browser)")
    ask = add("ask", _cmd_ask, "send a message and stream the answer")
    ask.add_argument("prompt", help="the message ('-' reads standard input)")
    ask.add_argument("--conversation", metavar="ID", help="continue this conversation")
    ask.add_argument("--parent", metavar="ID", help="the message to answer after (with --conversation)")
    moderate = add("moderate", _cmd_moderate, "run the moderation endpoint on a text")
    moderate.add_argument("text", help="the text ('-' reads standard input)")
    add("logout", _cmd_logout, "forget the account's stored bundle and browser profile")
    doctor = add("doctor", _cmd_doctor, "check browser, driver, stealth, TLS fingerprint, clock, store")
    doctor.add_argument("--format", choices=("text", "json"), default="text")
    doctor.add_argument("--transport", choices=("auto", "requests", "curl_cffi"), default="auto")
    demo = commands.add_parser("demo", help="run the end-to-end demo on the embedded emulator")
    demo.add_argument("--dwell", type=float, default=2.0, help="challenge dwell seconds (default 2)")
    demo.add_argument("--token-delay", type=float, default=0.05, help="seconds between streamed events")
    demo.add_argument("--headed", action="store_true", help="show the browser")
    demo.add_argument("--executable", metavar="PATH", help="Chromium executable")
    demo.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="timings as JSON")
    demo.set_defaults(handler=_cmd_demo)
    emulator = commands.add_parser(
        "emulator", help="run the local site emulator", add_help=False, prefix_chars="\0"
    )
    emulator.add_argument("emulator_args", nargs=argparse.REMAINDER)
    emulator.set_defaults(handler=_cmd_emulator)
    from .serve.cli import add_parser as add_serve  # serve's flags live with serve

    add_serve(commands, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    secrets = known_secrets(args)
    setup_logging(args, secrets)
    handler: Command = args.handler
    try:
        return int(handler(args))
    except KeyboardInterrupt:
        print("chatgpt-browser: interrupted", file=sys.stderr)
        return ExitStatus.INTERRUPTED
    except ChatGPTBrowserError as exc:
        if args.debug:
            print(redact(traceback.format_exc(), secrets), end="", file=sys.stderr)
        message = str(exc).splitlines()[0] if str(exc) else ""
        print(f"chatgpt-browser: {type(exc).__name__}: {redact(message, secrets)}", file=sys.stderr)
        return int(exc.exit_code)
    except BrokenPipeError:  # `chatgpt-browser session | head -c 10`
        return ExitStatus.OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
