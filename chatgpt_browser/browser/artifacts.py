"""What a failed harvest leaves for a person to look at, collected within a small budget.

The folder (`<state>/artifacts/<yyyymmdd-hhmmss>-<ErrorClass>`, 0700) gets:
`trace.zip` (a Playwright trace: `playwright show-trace trace.zip`), `page.html`,
`console.log`, `screenshot.png` of the page that failed (none when the page never left
about:blank: a blank picture helps nobody) and `url.txt`. Known secrets (password,
one-time code, captcha answer, TOTP key, session and clearance cookies) are replaced by
`<redacted>` in every file, the trace included.

Collection is best-effort and bounded: a page stuck in a navigation that never commits
makes `page.content()` wait forever, so the pending load is stopped first, and a watchdog
kills the driver and browser if the whole collection overruns its budget (the harvest is
failing anyway; every pending call then returns at once).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
import zipfile
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

from .interrupts import kill_after, kill_driver_and_browser

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, ConsoleMessage, Page

log = logging.getLogger(__name__)

#: Seconds the whole collection may take (the harvest's deadline comes first).
BUDGET = 5.0
_REDACTED = "<redacted>"
_COOKIE_VALUE = re.compile(r"((?:__Secure-next-auth\.session-token|cf_clearance)(?:\.\d+)?=)[^;\s\"'\\]+")


class ConsoleLog:
    """Console messages and page errors of a page, kept in memory (bounded)."""

    def __init__(self, page: Page, limit: int = 500) -> None:
        self.lines: list[str] = []
        self._limit = limit
        page.on("console", self._on_console)
        page.on("pageerror", self._on_error)

    def _add(self, line: str) -> None:
        if len(self.lines) < self._limit:
            self.lines.append(line)

    def _on_console(self, message: ConsoleMessage) -> None:
        self._add(f"{time.strftime('%H:%M:%S')} {message.type}: {message.text}")

    def _on_error(self, error: Exception) -> None:
        self._add(f"{time.strftime('%H:%M:%S')} pageerror: {error}")


def scrub(text: str, secrets: Collection[str]) -> str:
    """`text` with every known secret and session/clearance cookie value replaced."""
    for secret in sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, _REDACTED)
    return _COOKIE_VALUE.sub(r"\1" + _REDACTED, text)


def scrub_zip(path: Path, secrets: Collection[str]) -> None:
    """Rewrite a trace zip with `scrub` applied to every entry that decodes as text."""
    scrubbed = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(scrubbed, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            with contextlib.suppress(UnicodeDecodeError):  # images stay as they are
                data = scrub(data.decode("utf-8"), secrets).encode("utf-8")
            target.writestr(info, data)
    os.replace(scrubbed, path)


def new_folder(root: Path, error: BaseException) -> Path:
    base = root / f"{time.strftime('%Y%m%d-%H%M%S')}-{type(error).__name__}"
    target, suffix = base, 1
    while target.exists():
        target = base.with_name(f"{base.name}-{suffix}")
        suffix += 1
    target.mkdir(parents=True, mode=0o700)
    return target


def collect(
    target: Path,
    *,
    page: Page,
    context: BrowserContext,
    console: ConsoleLog | None,
    tracing: bool,
    secrets: Collection[str],
    budget: float,
    profile_dir: Path | None,
) -> None:
    """Save the trace, HTML, console log, URL and screenshot of `page` into `target`."""
    # Past the budget the driver and browser are killed: that unblocks every call.
    with kill_after(max(budget, 0.5), lambda: kill_driver_and_browser(profile_dir)):
        _stop_loading(context, page)
        steps = (
            ("url.txt", lambda: page.url + "\n"),
            ("console.log", lambda: "\n".join(console.lines) + "\n" if console else ""),
            ("page.html", page.content),
        )
        for name, read in steps:
            try:
                (target / name).write_text(scrub(read(), secrets), encoding="utf-8")
            except Exception as exc:  # a dead page must not hide the original failure
                log.debug("could not save %s: %s", name, exc)
        if page.url not in ("about:blank", ""):
            with contextlib.suppress(Exception):
                page.screenshot(path=str(target / "screenshot.png"), timeout=max(budget / 2, 0.5) * 1000)
        if tracing:
            try:
                context.tracing.stop(path=str(target / "trace.zip"))
                scrub_zip(target / "trace.zip", secrets)
            except Exception as exc:
                log.debug("could not save the trace: %s", exc)


def _stop_loading(context: BrowserContext, page: Page) -> None:
    """Stop a navigation that never commits (a site that accepts and never answers):
    until then the page answers no `content()` call."""
    try:
        cdp = context.new_cdp_session(page)
        try:
            cdp.send("Page.stopLoading")
        finally:
            cdp.detach()
    except Exception as exc:
        log.debug("could not stop the page's loading: %s", exc)


__all__ = ["BUDGET", "ConsoleLog", "collect", "new_folder", "scrub", "scrub_zip"]
