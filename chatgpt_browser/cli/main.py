"""`main()`: parse, set up output, run one command, map any failure to one line and
one exit code (exit_codes.py). SIGINT -> 130, SIGTERM -> 143, both one quiet line."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import traceback
from collections.abc import Sequence
from types import FrameType

from ..errors import ChatGPTBrowserError
from .chat import cmd_ask, cmd_moderate
from .commands import cmd_login, cmd_logout, cmd_session, cmd_status
from .exit_codes import ExitStatus, exit_status_for
from .output import error_line, setup_logging
from .parser import Command, Parser, build_parser
from .redact import known_secrets, redact


def cmd_demo(args: argparse.Namespace) -> int:
    from ..demo import run_demo

    return run_demo(
        dwell=args.dwell,
        token_delay=args.token_delay,
        headed=args.headed,
        as_json=args.json,
        executable=args.executable,
    )


def cmd_emulator(args: argparse.Namespace) -> int:
    from ..emulator.__main__ import main as emulator_main

    return int(emulator_main(args.emulator_args) or 0)


def cmd_doctor(args: argparse.Namespace) -> int:
    from ..doctor import run
    from .wiring import settings_from

    return run(settings_from(args), transport=args.transport, fmt="json" if args.json else args.format)


def cmd_completion(args: argparse.Namespace) -> int:
    import shtab

    print(shtab.complete(parser(), shell=args.shell))
    return ExitStatus.OK


HANDLERS: dict[str, Command] = {
    "login": cmd_login,
    "session": cmd_session,
    "status": cmd_status,
    "ask": cmd_ask,
    "moderate": cmd_moderate,
    "logout": cmd_logout,
    "demo": cmd_demo,
    "emulator": cmd_emulator,
    "completion": cmd_completion,
    "doctor": cmd_doctor,
}


def parser() -> Parser:
    return build_parser(HANDLERS)


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    # SystemExit unwinds through every `finally` (browser, lock, temp files) like Ctrl-C.
    raise SystemExit(ExitStatus.TERMINATED)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    secrets = known_secrets(args)
    setup_logging(args, secrets)
    handler: Command = args.handler
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return int(handler(args))
    except KeyboardInterrupt:
        print("chatgpt-browser: interrupted (SIGINT)", file=sys.stderr)
        return ExitStatus.INTERRUPTED
    except SystemExit as exc:
        if exc.code != ExitStatus.TERMINATED:
            raise
        print("chatgpt-browser: terminated (SIGTERM)", file=sys.stderr)
        return ExitStatus.TERMINATED
    except ChatGPTBrowserError as exc:
        if args.debug:
            print(redact(traceback.format_exc(), secrets), end="", file=sys.stderr)
        status = exit_status_for(exc)
        if args.json:  # a machine reading stdout as JSON reads the failure as JSON too
            line = error_line(exc, secrets).split(": ", 2)[-1]
            error = {"error": type(exc).__name__, "message": line, "exit_code": int(status)}
            # MessageMaybeSentError (16): the ids a script needs to look or continue.
            for name in ("message_id", "conversation_id", "parent_message_id"):
                if isinstance(value := getattr(exc, name, None), str):
                    error[name] = value
            print(json.dumps(error), file=sys.stderr)
        else:
            print(error_line(exc, secrets), file=sys.stderr)
        return int(status)
    except BrokenPipeError:  # `chatgpt-browser session | head -c 10`
        return ExitStatus.OK
    except Exception as exc:  # a bug: still one line (cron mails it), the traceback on --debug
        if args.debug:
            print(redact(traceback.format_exc(), secrets), end="", file=sys.stderr)
        hint = "(unexpected: please report it; --debug shows where)"
        print(f"{error_line(exc, secrets)} {hint}", file=sys.stderr)
        return ExitStatus.ERROR
    finally:
        signal.signal(signal.SIGTERM, previous)


__all__ = ["main", "parser"]
