"""The bounded browser pool: at most `max_browsers` browsers at once, a queue behind it.

A slot is held by a harvest (the session manager's browser renewal, which launches
and closes its own browser) or by a warm browser (FlareSolverr requests and sessions,
one context each). A request that finds every slot taken waits in line until its
deadline; a warm browser with no session and nothing in flight gives its slot up to a
waiting harvest, and is closed after `idle` seconds without work anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable

from ..browser.contexts import WarmBrowser
from ..errors import BrowserError
from .metrics import Metrics

log = logging.getLogger(__name__)


class PoolBusyError(BrowserError):
    """No browser slot came free before the request's deadline."""


class BrowserPool:
    def __init__(
        self,
        *,
        max_browsers: int,
        idle: float,
        contexts_per_browser: int,
        launcher: Callable[[], WarmBrowser],
        launch_timeout: float,
        metrics: Metrics,
    ) -> None:
        self.max_browsers = max_browsers
        self.idle = idle
        self.contexts_per_browser = contexts_per_browser
        self.launcher = launcher
        self.launch_timeout = launch_timeout
        self.metrics = metrics
        self.browsers: list[WarmBrowser] = []
        self.harvests = 0
        self._starting = 0
        self._waiting = 0
        self._changed = asyncio.Condition()
        #: FlareSolverr session id -> (browser, created monotonic, ttl seconds or None)
        self.sessions: dict[str, tuple[WarmBrowser, float, float | None]] = {}

    # -- accounting ----------------------------------------------------------------

    def _used(self) -> int:
        return len(self.browsers) + self.harvests + self._starting

    def _publish(self) -> None:
        self.metrics.active_browsers.set(len(self.browsers) + self.harvests)
        self.metrics.queue_depth.set(self._waiting)
        self.metrics.sessions.set(len(self.sessions))

    async def _wait(self, deadline: float, ready: Callable[[], bool], what: str) -> None:
        """Wait in line (the condition) until `ready()`; evict idle browsers meanwhile."""
        self._waiting += 1
        self._publish()
        try:
            while not ready():
                if await self._evict_one_idle():
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise PoolBusyError(
                        f"all {self.max_browsers} browsers stayed busy; {what} timed out in line"
                    )
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), timeout=remaining)
        finally:
            self._waiting -= 1
            self._publish()

    async def _evict_one_idle(self) -> bool:
        for browser in self.browsers:
            if browser.busy == 0 and not self._has_sessions(browser):
                await self._close(browser)
                return True
        return False

    def _has_sessions(self, browser: WarmBrowser) -> bool:
        return any(owner is browser for owner, _, _ in self.sessions.values())

    async def _close(self, browser: WarmBrowser) -> None:
        if browser in self.browsers:
            self.browsers.remove(browser)
        self._publish()
        await asyncio.to_thread(browser.close)
        self._changed.notify_all()

    # -- harvest slots -------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def harvest_slot(self, deadline: float) -> AsyncIterator[None]:
        async with self._changed:
            await self._wait(deadline, lambda: self._used() < self.max_browsers, "the harvest")
            self.harvests += 1
            self._publish()
        try:
            yield
        finally:
            async with self._changed:
                self.harvests -= 1
                self._publish()
                self._changed.notify_all()

    # -- warm browsers -------------------------------------------------------------

    async def browser_for(self, session: str | None, deadline: float) -> WarmBrowser:
        """The session's browser, or a warm one with room for another context (launched
        when none has room and a slot is free). The caller must `release()` it."""
        async with self._changed:
            if session is not None and session in self.sessions:
                return self._take(self.sessions[session][0])
            await self._wait(deadline, self._room, "the browser request")
            chosen = self._with_room()
            if chosen is not None:
                return self._take(chosen)
            self._starting += 1  # the slot is ours while we launch, without holding the lock
        try:
            browser = await self._launch(deadline)
        finally:
            async with self._changed:
                self._starting -= 1
                self._changed.notify_all()
        async with self._changed:
            self.browsers.append(browser)
            self._publish()
            return self._take(browser)

    def _take(self, browser: WarmBrowser) -> WarmBrowser:
        browser.busy += 1
        browser.last_used = time.monotonic()
        return browser

    def _with_room(self) -> WarmBrowser | None:
        fits = [b for b in self.browsers if len(b.contexts) + b.busy < self.contexts_per_browser]
        return min(fits, key=lambda b: len(b.contexts) + b.busy) if fits else None

    def _room(self) -> bool:
        return self._with_room() is not None or self._used() < self.max_browsers

    async def _launch(self, deadline: float) -> WarmBrowser:
        browser = self.launcher()
        timeout = max(min(self.launch_timeout, deadline - time.monotonic()), 0.001)
        await asyncio.to_thread(browser.start, timeout)
        self.metrics.launches.labels("warm").inc()
        log.info("warm browser started (%d of %d slots used)", self._used(), self.max_browsers)
        return browser

    async def discard(self, browser: WarmBrowser) -> None:
        """Drop a browser that died, with its sessions (their clients must create new ones)."""
        async with self._changed:
            for sid in [sid for sid, entry in self.sessions.items() if entry[0] is browser]:
                del self.sessions[sid]
            await self._close(browser)

    async def release(self, browser: WarmBrowser) -> None:
        async with self._changed:
            browser.busy -= 1
            browser.last_used = time.monotonic()
            self._changed.notify_all()

    # -- housekeeping ----------------------------------------------------------------

    async def reap(self) -> None:
        """Close sessions past their TTL and browsers idle longer than `idle`."""
        now = time.monotonic()
        expired = [
            sid for sid, (_, born, ttl) in self.sessions.items() if ttl is not None and now - born > ttl
        ]
        for sid in expired:
            await self.destroy_session(sid)
        async with self._changed:
            for browser in list(self.browsers):
                quiet = browser.busy == 0 and not self._has_sessions(browser)
                if quiet and now - browser.last_used > self.idle:
                    log.info("closing a warm browser idle for %.0fs", now - browser.last_used)
                    await self._close(browser)

    async def destroy_session(self, session: str) -> bool:
        entry = self.sessions.pop(session, None)
        if entry is None:
            return False
        browser = entry[0]
        await asyncio.wrap_future(browser.submit(lambda b: b.close_context(session)))
        self._publish()
        return True

    async def close_all(self) -> None:
        async with self._changed:
            self.sessions.clear()
            for browser in list(self.browsers):
                await self._close(browser)
