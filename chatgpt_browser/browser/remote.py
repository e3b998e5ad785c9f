"""Attach to a Chromium someone else started (`--cdp-url`): we own only our context."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from . import stealth
from .browser_session import BrowserSession, close_quietly
from .inputs import proxy_settings

if TYPE_CHECKING:
    from playwright.sync_api import Playwright


def connect(
    playwright: Playwright,
    stack: contextlib.ExitStack,
    cdp_url: str,
    proxy: str | None,
    ignore_https_errors: bool,
    timeout: float,
) -> BrowserSession:
    """Attach to a running Chromium; we own only the context we create, not the browser."""
    browser = playwright.chromium.connect_over_cdp(cdp_url, timeout=timeout * 1000)
    cdp = browser.new_browser_cdp_session()
    try:
        reported = cdp.send("Browser.getVersion")["userAgent"]
    finally:
        cdp.detach()
    user_agent = stealth.unheadless(reported)
    context = browser.new_context(
        user_agent=user_agent,
        proxy=proxy_settings(proxy),
        ignore_https_errors=ignore_https_errors,
    )
    stack.callback(close_quietly, context)
    context.add_init_script(stealth.HIDE_WEBDRIVER_JS)
    return BrowserSession(context, user_agent, headless="Headless" in reported, profile_dir=None, remote=True)


__all__ = ["connect"]
