"""The `chatgpt-browser` command line: wires config, browser, session and client.

Only this module prints. Every failure maps to one line on stderr and a distinct exit
code (`errors.ExitStatus`); `--debug` adds the traceback. Heavy modules are imported
inside the commands that need them, so `session` and `status` start fast.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Callable, Sequence

from .errors import ChatGPTBrowserError, ExitStatus

Command = Callable[[argparse.Namespace], int]


def _cmd_emulator(args: argparse.Namespace) -> int:
    from .emulator.__main__ import main as emulator_main

    return emulator_main(args.emulator_args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chatgpt-browser",
        description="Unattended credentials and a resilient client for the ChatGPT web stack.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress (secrets redacted)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    emulator = commands.add_parser(
        "emulator", help="run the local site emulator", add_help=False, prefix_chars="\0"
    )
    emulator.add_argument("emulator_args", nargs=argparse.REMAINDER)
    emulator.set_defaults(handler=_cmd_emulator)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    handler: Command = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        print("chatgpt-browser: interrupted", file=sys.stderr)
        return ExitStatus.INTERRUPTED
    except ChatGPTBrowserError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"chatgpt-browser: {type(exc).__name__}: {exc}", file=sys.stderr)
        return int(exc.exit_code)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
