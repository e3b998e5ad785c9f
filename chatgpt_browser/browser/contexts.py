"""`WarmBrowser`: one Chromium kept running, with a light context per session.

How this works: Playwright's sync API is bound to the thread that started it, so each
warm browser owns a thread; callers hand it jobs (`submit(fn)`) and get a
`concurrent.futures.Future`. Contexts share the browser process (a context costs a
renderer, not a launch), so a new challenge in an existing context costs about the
challenge's dwell. Every request the pages make goes through a route guard: only URLs
the caller allows (`host_allowed`) leave the browser, so neither a redirect nor a
sub-resource carries the session to a foreign host.

Teardown: `close()` closes the contexts, the browser and the driver; whatever Chromium
process is left (found by a marker switch on its command line) is killed.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import itertools
import logging
import os
import queue
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

from ..errors import BrowserError
from . import stealth
from .executable import browser_version, find_browser
from .inputs import proxy_settings
from .launch import group_members, launch_args, translate_error

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Playwright

log = logging.getLogger(__name__)
T = TypeVar("T")
_counter = itertools.count(1)


def marked_processes(marker: str) -> list[int]:
    """PIDs whose command line carries `marker` (Linux; elsewhere [])."""
    needle = marker.encode()
    pids = []
    proc = Path("/proc")
    for entry in proc.iterdir() if proc.is_dir() else []:
        if entry.name.isdigit():
            try:
                if needle in (entry / "cmdline").read_bytes().split(b"\0"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


class _PausedRequest(TypedDict):
    url: str


class _FetchPaused(TypedDict):
    """The fields of CDP's `Fetch.requestPaused` event that the guard reads."""

    requestId: str
    request: _PausedRequest


class Context:
    """One isolated browser context (a FlareSolverr session, or one request)."""

    def __init__(self, context: BrowserContext, page: Page) -> None:
        self.context = context
        self.page = page
        self.created = time.monotonic()
        self.used = time.monotonic()


class WarmBrowser:
    """A Chromium with its own thread; jobs run there in order."""

    def __init__(
        self,
        *,
        executable: str | None = None,
        headless: bool = True,
        launch_timeout: float = 30.0,
        host_allowed: Callable[[str], bool] = lambda url: True,
    ) -> None:
        self.marker = f"--chatgpt-browser-serve={os.getpid()}-{next(_counter)}"
        self.host_allowed = host_allowed
        self.contexts: dict[str, Context] = {}
        self.user_agent = ""
        self.busy = 0
        self.last_used = time.monotonic()
        self._jobs: queue.Queue[tuple[Callable[[WarmBrowser], Any], concurrent.futures.Future[Any]] | None]
        self._jobs = queue.Queue()
        self._browser: Browser | None = None
        self._playwright: Playwright | None = None
        self._thread = threading.Thread(target=self._run, name=f"warm-browser{self.marker[-4:]}", daemon=True)
        self._started: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._launch = (executable, headless, launch_timeout)

    # -- lifetime ------------------------------------------------------------------

    def start(self, timeout: float) -> WarmBrowser:
        """Launch the browser (blocks until it runs, or raises a `BrowserError`)."""
        self._thread.start()
        try:
            self._started.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            self.close()
            raise BrowserError(f"the browser did not start within {timeout:.0f}s") from None
        except BaseException:
            self.close()
            raise
        return self

    def close(self, timeout: float = 10.0) -> None:
        """Close everything; kill what did not exit. Safe to call twice."""
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join(timeout)
        self._kill_leftovers()

    def _kill_leftovers(self, grace: float = 5.0) -> None:
        groups = set()
        for pid in marked_processes(self.marker):
            with contextlib.suppress(OSError):
                groups.add(os.getpgid(pid))
        groups.discard(os.getpgrp())
        deadline = time.monotonic() + grace
        while (marked_processes(self.marker) or group_members(groups)) and time.monotonic() < deadline:
            time.sleep(0.02)
        for group in groups:
            if group_members({group}):
                log.warning("warm browser group %s did not exit; killing it", group)
                with contextlib.suppress(OSError):
                    os.killpg(group, signal.SIGKILL)
        for pid in marked_processes(self.marker):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)

    def submit(self, job: Callable[[WarmBrowser], T]) -> concurrent.futures.Future[T]:
        """Run `job(self)` on the browser's thread."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        if not self._thread.is_alive():
            future.set_exception(BrowserError("the warm browser is closed"))
        else:
            self._jobs.put((job, future))
        return future

    def _run(self) -> None:
        try:
            self._open()
        except BaseException as exc:
            self._started.set_exception(exc)
            self._shutdown()
            return
        self._started.set_result(None)
        while True:
            item = self._jobs.get()
            if item is None:
                break
            job, future = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(job(self))
            except BaseException as exc:
                future.set_exception(exc)
        self._shutdown()

    def _open(self) -> None:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright

        executable, headless, timeout = self._launch
        path = find_browser(executable)
        version = browser_version(path)
        if version is None:
            raise BrowserError(f"{path} did not report a version; is it a Chromium/Chrome binary?")
        self.user_agent = stealth.desktop_user_agent(version)
        self._playwright = playwright = sync_playwright().start()
        try:
            self._browser = playwright.chromium.launch(
                executable_path=path,
                headless=headless,
                args=[*launch_args(), "--disable-site-isolation-trials", self.marker],
                ignore_default_args=list(stealth.STEALTH_IGNORED_DEFAULT_ARGS),
                timeout=timeout * 1000,
                handle_sigint=False,
                handle_sigterm=False,
                handle_sighup=False,
            )
        except PlaywrightError as exc:
            raise translate_error(exc, "starting the browser") from None

    def _shutdown(self) -> None:
        for entry in list(self.contexts.values()):
            with contextlib.suppress(Exception):
                entry.context.close()
        self.contexts.clear()
        if self._browser is not None:
            with contextlib.suppress(Exception):
                self._browser.close()
        if self._playwright is not None:
            with contextlib.suppress(Exception):
                self._playwright.stop()

    # -- contexts (call these from jobs only) ---------------------------------------

    def open_context(
        self, name: str, *, proxy: str | None = None, ignore_https_errors: bool = False
    ) -> Context:
        if self._browser is None:
            raise BrowserError("the warm browser is not running")
        context = self._browser.new_context(
            user_agent=self.user_agent, proxy=proxy_settings(proxy), ignore_https_errors=ignore_https_errors
        )
        page = context.new_page()
        self._guard(context, page)
        entry = Context(context, page)
        self.contexts[name] = entry
        return entry

    def close_context(self, name: str) -> bool:
        entry = self.contexts.pop(name, None)
        if entry is None:
            return False
        with contextlib.suppress(Exception):
            entry.context.close()
        return True

    def _guard(self, context: BrowserContext, page: Page) -> None:
        """Only allowed hosts get a request; the rest never leaves the browser.

        CDP's Fetch domain, not Playwright's `route()`: a route sees only the first
        request of a redirect chain, while Fetch pauses every hop, so a redirect to a
        foreign host is stopped before it is sent. (Cross-site frames stay in the page's
        process, `--disable-site-isolation-trials`, so Fetch sees their requests too.)
        """
        cdp = context.new_cdp_session(page)

        def paused(event: _FetchPaused) -> None:
            request_id = event["requestId"]
            if self.host_allowed(event["request"]["url"]):
                cdp.send("Fetch.continueRequest", {"requestId": request_id})
            else:
                log.info("blocked a browser request to a host outside the allow-list")
                cdp.send("Fetch.failRequest", {"requestId": request_id, "errorReason": "BlockedByClient"})

        cdp.on("Fetch.requestPaused", paused)
        cdp.send("Fetch.enable", {"patterns": [{"urlPattern": "*", "requestStage": "Request"}]})


__all__ = ["Context", "WarmBrowser", "marked_processes"]
