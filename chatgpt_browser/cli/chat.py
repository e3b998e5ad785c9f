"""The site commands: ask (stream an answer) and moderate (exit 13 when flagged)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import TYPE_CHECKING

from .. import errors
from .commands import emit
from .exit_codes import ExitStatus
from .wiring import manager_for, progress_for, settings_from

if TYPE_CHECKING:
    from ..client import ChatGPTAPI, ChatResponse
    from .output import Progress

log = logging.getLogger(__name__)


def read_text(value: str) -> str:
    """The message: the argument, or standard input for '-' (UTF-8; the final newline
    that `echo` and here-docs add is not part of the message)."""
    if value == "-":
        data = sys.stdin.buffer.read()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise errors.InputError(f"standard input is not valid UTF-8 (byte {exc.start})") from None
        text = text[:-2] if text.endswith("\r\n") else text[:-1] if text.endswith("\n") else text
    else:
        text = value
    if not text.strip():
        raise errors.InputError("empty message")
    return text


def _client(args: argparse.Namespace) -> tuple[ChatGPTAPI, Progress]:
    from ..app import build_client

    settings = settings_from(args)
    progress = progress_for(args)
    return build_client(settings, manager=manager_for(args, settings, progress)), progress


def _whole_call_timeout(value: float | None) -> float | None:
    """`ask --timeout S`: the one deadline of the call (retries, renewal, the answer)."""
    if value is not None and not 0 < value < float("inf"):  # also rejects NaN
        raise errors.ConfigError(f"--timeout must be a number of seconds > 0, got {value!r}")
    return value


def cmd_ask(args: argparse.Namespace) -> int:
    if args.conversation and not args.parent:
        raise errors.ConfigError(
            "--conversation needs --parent (the message id printed after the last answer)"
        )
    timeout = _whole_call_timeout(args.timeout)
    client, progress = _client(args)
    prompt = read_text(args.prompt)
    stream = not args.json and not args.quiet
    printed = [0]

    def on_progress(partial: ChatResponse) -> None:
        text = partial.response
        if stream:
            progress.close()  # the answer takes over the terminal
            sys.stdout.write(text[printed[0] :])
            sys.stdout.flush()
            printed[0] = len(text)

    try:
        result = client.send_message(
            prompt,
            conversation_id=args.conversation,
            parent_message_id=args.parent,
            on_progress=on_progress,
            timeout=timeout,
        )
    finally:
        progress.close()
        if stream and printed[0]:
            sys.stdout.write("\n")
        client.close()
    incomplete = bool(getattr(result, "incomplete", False))
    if incomplete:  # the text may be cut short: say so, even to cron (exit status stays 0)
        log.warning("the answer stream ended without [DONE]; it may be incomplete")
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


def cmd_moderate(args: argparse.Namespace) -> int:
    text = read_text(args.text)
    client, progress = _client(args)
    try:
        result = client.send_moderation(text)
    finally:
        progress.close()
        client.close()
    data = {"flagged": result.flagged, "blocked": result.blocked, "moderation_id": result.moderation_id}
    emit(
        args,
        data,
        f"flagged: {'yes' if result.flagged else 'no'}, blocked: {'yes' if result.blocked else 'no'}",
    )
    if result.flagged and not args.no_fail_on_flag:
        # A failure status even with -q: a pipeline must not treat flagged text as clean.
        print("chatgpt-browser: flagged: the moderation endpoint flagged the text", file=sys.stderr)
        return ExitStatus.FLAGGED
    return ExitStatus.OK


__all__ = ["cmd_ask", "cmd_moderate", "read_text"]
