"""What the CLI shows besides results: logs, stage progress, the one-line error.

Rules: stdout carries the result only. stderr carries progress (a live line on a
terminal, plain lines otherwise), warnings, and the final error line. `-q` leaves only
the error that ends the run: events the run recovered from (a retry that worked) go to
the log file (`--log-file`) when there is one, and nowhere else.
Verbosity: default WARNING, `-v` INFO, `-vv` DEBUG; `--log-format json` writes one JSON
object per record (python-json-logger), to stderr or the log file.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from .redact import RedactingFormatter, redact

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress
    from rich.progress import TaskID

_TEXT_VERBOSE = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_TEXT_SHORT = "%(levelname)s: %(message)s"
_JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"


class _RedactingJsonFormatter(logging.Formatter):
    """python-json-logger's formatter with the same secret filter as the text one."""

    def __init__(self, secrets: Sequence[str]) -> None:
        super().__init__()
        from pythonjsonlogger.json import JsonFormatter

        self._inner = JsonFormatter(_JSON_FIELDS)
        self.secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        return redact(self._inner.format(record), self.secrets)


def _formatter(args: argparse.Namespace, secrets: Sequence[str], *, detailed: bool) -> logging.Formatter:
    if getattr(args, "log_format", "text") == "json" or getattr(args, "json", False):
        return _RedactingJsonFormatter(secrets)
    return RedactingFormatter(_TEXT_VERBOSE if detailed else _TEXT_SHORT, secrets)


def verbosity_level(args: argparse.Namespace) -> int:
    verbose = int(getattr(args, "verbose", 0) or 0)
    # `serve` is a service: its INFO lines (one per request) are its access log.
    service = getattr(args, "command", None) == "serve"
    return logging.DEBUG if verbose >= 2 else logging.INFO if verbose == 1 or service else logging.WARNING


def setup_logging(args: argparse.Namespace, secrets: Sequence[str]) -> None:
    """stderr: WARNING (or -v/-vv) unless -q; --log-file: everything from INFO (or -vv)."""
    level = verbosity_level(args)
    root = logging.getLogger()
    root.handlers[:] = []
    quiet = bool(getattr(args, "quiet", False))
    if not quiet:
        console = logging.StreamHandler(sys.stderr)
        console.setLevel(level)
        console.setFormatter(_formatter(args, secrets, detailed=level < logging.WARNING))
        root.addHandler(console)
    log_file = getattr(args, "log_file", None)
    if log_file:
        handler = logging.FileHandler(log_file, encoding="utf-8")
        handler.setLevel(min(level, logging.INFO))
        handler.setFormatter(_formatter(args, secrets, detailed=True))
        root.addHandler(handler)
    if not root.handlers:
        root.addHandler(logging.NullHandler())
    root.setLevel(min([h.level for h in root.handlers] + [level]))
    # Third-party chatter stays at WARNING unless -vv. asyncio's "Future exception was
    # never retrieved" after a SIGTERM is noise about a browser we are tearing down.
    for noisy in ("urllib3", "aiohttp", "charset_normalizer", "filelock"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if level <= logging.DEBUG else logging.WARNING)
    logging.getLogger("asyncio").setLevel(logging.DEBUG if level <= logging.DEBUG else logging.CRITICAL)


STAGE_TEXT = {
    "launch": "starting the browser",
    "challenge": "clearing the challenge",
    "login": "logging in",
    "verify": "verifying the session",
    "done": "done",
}


class Progress:
    """Stage display of a renewal: a live line with elapsed seconds on a terminal
    (rich), plain timestamped lines otherwise, nothing when disabled (`-q`, `--json`).

    Callable with a message (the session manager's steps) and via `stage()` (the
    harvest's `on_stage` callback). Thread-safe: the harvest may call from its thread.
    """

    def __init__(self, enabled: bool, stream: TextIO | None = None, *, live: bool | None = None) -> None:
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._display: RichProgress | None = None
        self._task: TaskID | None = None

    def __call__(self, message: str) -> None:
        if not self.enabled:
            return
        with self._lock:
            if self.live:
                self._live(message)
            else:
                elapsed = time.monotonic() - self.started
                print(f"[{elapsed:6.1f}s] {message}", file=self.stream, flush=True)
            if message.startswith("renewed"):
                self._stop()

    def stage(self, stage: str) -> None:
        """`harvest(on_stage=...)`: launch, challenge, login, verify, done."""
        self(STAGE_TEXT.get(stage, stage))

    def _live(self, message: str) -> None:
        if self._display is None:
            from rich.console import Console
            from rich.progress import Progress as RichProgress
            from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

            console = Console(file=self.stream, stderr=self.stream is sys.stderr)
            self._display = RichProgress(
                SpinnerColumn(),
                TextColumn("{task.description}", markup=False),
                TimeElapsedColumn(),
                console=console,
            )
            self._display.start()
            self._task = self._display.add_task(message, total=None)
            return
        self._finish_line(self._display)  # the new stage goes live
        if self._task is not None:
            self._display.update(self._task, description=message)

    @staticmethod
    def _finish_line(display: RichProgress) -> None:
        # The finished stage stays on screen as a plain line, as written: a message is
        # neither rich markup ("[...]" would vanish) nor highlighted (colour codes).
        display.console.print(f"  {display.tasks[0].description}", markup=False, highlight=False)

    def _stop(self) -> None:
        if self._display is not None:
            self._finish_line(self._display)
            self._display.stop()
            self._display = None

    def close(self) -> None:
        with self._lock:
            self._stop()


def error_line(exc: BaseException, secrets: Sequence[str]) -> str:
    text = str(exc)
    message = text.splitlines()[0] if text else ""
    return f"chatgpt-browser: {type(exc).__name__}: {redact(message, secrets)}"


__all__ = ["Progress", "error_line", "setup_logging", "verbosity_level"]
