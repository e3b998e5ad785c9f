"""Run the service: bind, print the ready line, serve until SIGTERM/SIGINT, then drain.

Shutdown: stop accepting, give in-flight requests `drain_timeout` seconds, then close
every warm browser and kill the browser of any harvest still running (found by the
account's profile folder), so nothing outlives the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import os
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import IO

from aiohttp import web

from ..app import open_store, profile_dir_for
from ..browser.contexts import WarmBrowser
from ..browser.launch import browser_groups
from ..config import Settings
from ..errors import BrowserNotFoundError, ConfigError
from .accounts import AccountBook
from .app import build_app
from .metrics import Metrics
from .options import AccountSpec, ServeOptions
from .pool import BrowserPool
from .security import HostRule, RateLimiter
from .state import Service

log = logging.getLogger(__name__)


def _browser(settings: Settings) -> tuple[str | None, str | None]:
    """The Chromium we would launch and the User-Agent it presents (None: not found)."""
    from ..browser import stealth
    from ..browser.executable import browser_version, find_browser

    try:
        path = find_browser(settings.executable)
    except BrowserNotFoundError as exc:
        log.warning("no browser: %s (credentials that need a renewal will fail)", exc)
        return None, None
    version = browser_version(path)
    return path, stealth.desktop_user_agent(version) if version else None


async def _build(settings: Settings, options: ServeOptions, specs: tuple[AccountSpec, ...]) -> Service:
    if settings.store.startswith(("http://", "https://")):
        raise ConfigError("serve keeps the credentials itself: --store must be file or redis")
    metrics = Metrics()
    hosts = HostRule.build(settings.site(), options.allow_hosts)
    path, user_agent = await asyncio.to_thread(_browser, settings)

    def launcher() -> WarmBrowser:
        return WarmBrowser(
            executable=settings.executable,
            headless=settings.headless,
            launch_timeout=settings.timeouts.launch,
            host_allowed=hosts.host_allowed,
        )

    pool = BrowserPool(
        max_browsers=options.max_browsers,
        idle=options.browser_idle,
        contexts_per_browser=options.contexts_per_browser,
        launcher=launcher,
        launch_timeout=settings.timeouts.launch,
        metrics=metrics,
    )
    store = open_store(settings)
    executor = ThreadPoolExecutor(max_workers=32, thread_name_prefix="serve-work")
    book = AccountBook(settings, specs, store=store, pool=pool, metrics=metrics, executor=executor)
    limiter = RateLimiter(options.rate_limit, options.rate_burst)
    return Service(options, settings, store, pool, book, metrics, hosts, limiter, user_agent, path)


async def _reaper(svc: Service) -> None:
    period = max(0.2, min(5.0, svc.options.browser_idle / 4))
    while True:
        await asyncio.sleep(period)
        try:
            await svc.pool.reap()
        except Exception as exc:  # housekeeping must never stop the service
            log.warning("browser housekeeping failed: %s", exc)


async def serve(
    settings: Settings, options: ServeOptions, specs: tuple[AccountSpec, ...], ready: IO[str] = sys.stdout
) -> int:
    svc = await _build(settings, options, specs)
    runner = web.AppRunner(build_app(svc), access_log=None, shutdown_timeout=options.drain_timeout)
    await runner.setup()
    site = web.TCPSite(runner, options.host, options.port, reuse_address=True)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise ConfigError(f"cannot listen on {options.host}:{options.port}: {exc.strerror}") from None
    host, port = runner.addresses[0][:2]
    shown = f"[{host}]" if ":" in host else host
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    line = {"url": f"http://{shown}:{port}", "pid": os.getpid(), "accounts": [s.email for s in specs]}
    ready.write(json.dumps({**line, "max_browsers": options.max_browsers}) + "\n")
    ready.flush()
    reaper = asyncio.create_task(_reaper(svc))
    gc.freeze()  # what start-up built lives for good: keep it out of the collector's passes
    try:
        await stop.wait()
    finally:
        log.info("stopping: draining in-flight requests (at most %.0fs)", options.drain_timeout)
        reaper.cancel()
        await runner.cleanup()
        await _leave_nothing(svc)
    return 0


async def _leave_nothing(svc: Service) -> None:
    """Close the warm browsers and kill any harvest browser still running."""
    await svc.pool.close_all()
    for account in svc.book.unique():
        folder = profile_dir_for(account.settings, account.manager.key)
        for group in browser_groups(folder):
            log.warning("killing a harvest browser still running at shutdown")
            with contextlib.suppress(OSError):
                os.killpg(group, signal.SIGKILL)
    svc.book.executor.shutdown(wait=False, cancel_futures=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(t.name.startswith("serve-work") for t in threading.enumerate()):
        await asyncio.sleep(0.05)
    with contextlib.suppress(Exception):
        close = getattr(svc.store, "close", None)
        if close is not None:
            close()


__all__ = ["serve"]
