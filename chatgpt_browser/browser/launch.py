"""Start (or connect to) a browser and own its lifetime.

`open_browser()` is a context manager yielding a `BrowserSession`: a Playwright context
with the stealth User-Agent applied, plus everything needed to tear it down. Local
browsers always run as a *persistent* context on a user data dir we know (the account's
profile, or a private temporary one), because then:
- the UA can be fixed before the first page exists (from `chromium --version`);
- every Chromium process we started can be found by that dir (`processes.py`) and
  killed if a graceful close fails, so nothing outlives `open_browser()`.

The Playwright driver and Chromium get our environment minus our own
`CHATGPT_BROWSER_*` variables and any variable holding a secret we were given: the
password reaches the browser only by being typed into the site's page.

If our Python process is SIGKILLed, the Playwright driver sees its stdin close and
closes the browser, and Chromium itself exits when its `--remote-debugging-pipe`
closes (see tests/integration/browser/test_browser_teardown.py). Temporary profiles
left behind that way are swept at the next launch.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import BrowserCrashedError, BrowserError, HumanNeededError
from .browser_session import BrowserSession
from .environment import child_environment, driver_environment
from .executable import resolve_flavour
from .inputs import proxy_settings, redact_urls
from .local_launch import BASE_ARGS, LaunchOptions, launch_args, launch_local
from .processes import (
    TEMP_PREFIX,
    browser_groups,
    browser_processes,
    group_members,
    sweep_stale_temp_profiles,
    wait_for_profile_release,
)
from .pw_errors import browser_gone, error_line
from .xvfb import has_xvfb, needs_virtual_display, virtual_display

if TYPE_CHECKING:
    from playwright.sync_api import Playwright

log = logging.getLogger(__name__)

NO_DISPLAY_REMEDY = (
    "a visible browser needs a display and there is none (no DISPLAY, no Xvfb): run it in a "
    "desktop session or over `ssh -X`, install Xvfb for unattended headed runs, or run headless"
)


def translate_error(exc: BaseException, what: str) -> BrowserError:
    """Map a Playwright failure to our tree: a closed target means the browser died."""
    text = error_line(exc)
    if browser_gone(exc):
        return BrowserCrashedError(f"{what}: the browser died ({text})")
    return BrowserError(f"{what}: {text}")


@contextlib.contextmanager
def open_browser(
    *,
    executable: str | None = None,
    headless: bool = True,
    profile_dir: str | Path | None = None,
    proxy: str | None = None,
    cdp_url: str | None = None,
    ignore_https_errors: bool = False,
    launch_timeout: float = 30.0,
    flavour: str | None = None,
    secrets: Collection[str] = (),
    visible: bool = False,
    on_profile: Callable[[Path], None] | None = None,
) -> Iterator[BrowserSession]:
    """Launch Chromium (or connect to `cdp_url`) and yield a stealthy `BrowserSession`.

    `flavour` ("chromium" or "headless-shell", default `CHATGPT_BROWSER_FLAVOUR` or
    "chromium") picks the binary for headless launches; headed ones always use the full
    browser. `visible=True` means a person must see the window: with no display that is
    a HumanNeededError at once (Xvfb would show it to nobody). `secrets` are kept out of
    the environment of the driver and the browser. `on_profile(path)` is told the user
    data dir before the browser starts (signal handling reaps by it). Everything started
    here is stopped when the block exits, however it exits.
    """
    flavour = resolve_flavour(flavour)
    if not headless and not cdp_url and needs_virtual_display() and (visible or not has_xvfb()):
        raise HumanNeededError(NO_DISPLAY_REMEDY)
    user_data = Path(profile_dir).expanduser().resolve() if profile_dir is not None else None
    if user_data is not None and not cdp_url:
        wait_for_profile_release(user_data, launch_timeout / 2)

    from playwright.sync_api import sync_playwright

    with contextlib.ExitStack() as stack:
        env = child_environment(secrets)
        if not headless and not cdp_url and needs_virtual_display():
            env["DISPLAY"] = stack.enter_context(virtual_display())
        if user_data is None and not cdp_url:
            user_data = _temporary_profile(stack)
        if on_profile is not None and user_data is not None:
            on_profile(user_data)
        with driver_environment(secrets):
            playwright = sync_playwright().start()
        stack.callback(_stop_playwright, playwright)
        options = LaunchOptions(
            executable, headless, user_data, proxy, ignore_https_errors, launch_timeout, flavour, env
        )
        yield _start_session(playwright, stack, options, cdp_url)


def _temporary_profile(stack: contextlib.ExitStack) -> Path:
    """A private user data dir, deleted when `stack` closes (stale ones swept first)."""
    sweep_stale_temp_profiles()
    user_data = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-"))
    stack.callback(shutil.rmtree, user_data, True)
    return user_data


def _start_session(
    playwright: Playwright, stack: contextlib.ExitStack, options: LaunchOptions, cdp_url: str | None
) -> BrowserSession:
    """Connect to `cdp_url` or launch locally; Playwright failures become BrowserError."""
    from playwright.sync_api import Error as PlaywrightError

    failure: BrowserError | None = None
    try:
        if cdp_url:
            from .remote import connect

            return connect(
                playwright, stack, cdp_url, options.proxy, options.ignore_https_errors, options.timeout
            )
        assert options.profile_dir is not None
        return launch_local(playwright, stack, options)
    except PlaywrightError as exc:
        failure = translate_error(exc, "starting the browser")
        if redact_urls(str(exc)) == str(exc):
            raise failure from exc
    # Raised outside the handler: the original (a CDP URL with `user:pass@` or a
    # `?token=`) must not ride along as the cause, printed in every traceback.
    raise failure


def _stop_playwright(playwright: Playwright) -> None:
    with contextlib.suppress(Exception):
        playwright.stop()


__all__ = [
    "BASE_ARGS",
    "BrowserSession",
    "browser_groups",
    "browser_processes",
    "child_environment",
    "group_members",
    "launch_args",
    "open_browser",
    "proxy_settings",
]
