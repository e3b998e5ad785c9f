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
import dataclasses
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..credentials import redact_proxy
from ..errors import BrowserCrashedError, BrowserError, HumanNeededError
from . import stealth
from .environment import child_environment, driver_environment
from .executable import (
    CHROMIUM,
    HEADLESS_SHELL,
    browser_version,
    find_browser,
    is_headless_shell,
    resolve_flavour,
)
from .inputs import proxy_settings, redact_urls
from .processes import (
    TEMP_PREFIX,
    browser_groups,
    browser_processes,
    group_members,
    kill_leftovers,
    sweep_stale_temp_profiles,
    wait_for_profile_release,
)
from .xvfb import has_xvfb, needs_virtual_display, virtual_display

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, CDPSession, Page, Playwright

log = logging.getLogger(__name__)

#: Switches every launch gets: no calls to the (closed) network at start, no first-run UI.
BASE_ARGS = (
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-sync",
    "--disable-domain-reliability",
    "--metrics-recording-only",
    "--password-store=basic",
)
NO_DISPLAY_REMEDY = (
    "a visible browser needs a display and there is none (no DISPLAY, no Xvfb): run it in a "
    "desktop session or over `ssh -X`, install Xvfb for unattended headed runs, or run headless"
)


@dataclasses.dataclass
class BrowserSession:
    """A live browser context and what we must release when done."""

    context: BrowserContext
    user_agent: str
    headless: bool
    profile_dir: Path | None
    remote: bool
    #: "chromium" or "headless-shell" (what was launched; remote browsers count as chromium).
    flavour: str = CHROMIUM
    #: Cleaned UA-CH metadata to apply per page (headless shell only; see stealth).
    ua_metadata: dict[str, Any] | None = None
    _cdp_sessions: list[CDPSession] = dataclasses.field(default_factory=list, repr=False)

    def new_page(self) -> Page:
        pages = self.context.pages
        page = pages[0] if pages and pages[0].url in ("about:blank", "") else self.context.new_page()
        if self.ua_metadata is not None:
            # Before the page's first request: its client hints must not name HeadlessChrome.
            cdp = self.context.new_cdp_session(page)
            cdp.send(
                "Emulation.setUserAgentOverride",
                {
                    "userAgent": self.user_agent,
                    "platform": self.ua_metadata["platform"],
                    "userAgentMetadata": self.ua_metadata["metadata"],
                },
            )
            self._cdp_sessions.append(cdp)  # the override lasts as long as the session
        return page


def launch_args(*, as_root: bool | None = None) -> list[str]:
    """Command-line switches for a local launch (Playwright adds its own on top)."""
    args = [*BASE_ARGS, *stealth.STEALTH_ARGS]
    if as_root if as_root is not None else (hasattr(os, "geteuid") and os.geteuid() == 0):
        args.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox on
    return args


def translate_error(exc: BaseException, what: str) -> BrowserError:
    """Map a Playwright failure to our tree: a closed target means the browser died."""
    # Redacted: a CDP or proxy URL in the message may carry `user:pass@` or `?token=`.
    text = redact_urls(str(exc).splitlines()[0]) if str(exc) else type(exc).__name__
    if re.search(r"closed|crash|disconnected|Target page, context or browser", text, re.I):
        return BrowserCrashedError(f"{what}: the browser died ({text})")
    return BrowserError(f"{what}: {text}")


@dataclasses.dataclass(frozen=True)
class LaunchOptions:
    executable: str | None = None
    headless: bool = True
    profile_dir: Path | None = None
    proxy: str | None = dataclasses.field(default=None, repr=False)
    ignore_https_errors: bool = False
    timeout: float = 30.0
    flavour: str = CHROMIUM
    env: dict[str, str] | None = dataclasses.field(default=None, repr=False)


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

    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    with contextlib.ExitStack() as stack:
        env = child_environment(secrets)
        if not headless and not cdp_url and needs_virtual_display():
            env["DISPLAY"] = stack.enter_context(virtual_display())
        if user_data is None and not cdp_url:
            sweep_stale_temp_profiles()
            user_data = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-"))
            stack.callback(shutil.rmtree, user_data, True)
        if on_profile is not None and user_data is not None:
            on_profile(user_data)
        with driver_environment(secrets):
            playwright = sync_playwright().start()
        stack.callback(_stop_playwright, playwright)
        failure: BrowserError | None = None
        try:
            if cdp_url:
                from .remote import connect

                session = connect(playwright, stack, cdp_url, proxy, ignore_https_errors, launch_timeout)
            else:
                assert user_data is not None
                options = LaunchOptions(
                    executable, headless, user_data, proxy, ignore_https_errors, launch_timeout, flavour, env
                )
                session = _launch(playwright, stack, options)
        except PlaywrightError as exc:
            failure = translate_error(exc, "starting the browser")
            if redact_urls(str(exc)) == str(exc):
                raise failure from exc
        if failure is not None:
            # Raised outside the handler: the original (a CDP URL with `user:pass@` or a
            # `?token=`) must not ride along as the cause, printed in every traceback.
            raise failure
        yield session


def _stop_playwright(playwright: Playwright) -> None:
    with contextlib.suppress(Exception):
        playwright.stop()


def _close_context(context: BrowserContext) -> None:
    with contextlib.suppress(Exception):
        context.close()


def _launch(playwright: Playwright, stack: contextlib.ExitStack, opts: LaunchOptions) -> BrowserSession:
    path = find_browser(opts.executable, flavour=opts.flavour if opts.headless else CHROMIUM)
    shell = is_headless_shell(path)
    if shell and not opts.headless:
        raise BrowserError(f"{path} is a headless-only shell; a headed run needs the full Chromium or Chrome")
    version = browser_version(path)
    if version is None:
        raise BrowserError(f"{path} did not report a version; is it a Chromium/Chrome binary?")
    user_data = opts.profile_dir
    assert user_data is not None
    user_data.mkdir(parents=True, exist_ok=True, mode=0o700)
    groups: set[int] = set()
    # Until the browser is up, an exit means an interrupted launch: reap at once, quietly.
    grace = [0.0]
    # Registered after the rmtree of a temporary profile, so it runs first: kill, then delete.
    stack.callback(lambda: kill_leftovers(user_data, groups, grace[0]))
    user_agent = stealth.desktop_user_agent(version)
    log.debug(
        "launching %s (%s, %s) profile=%s proxy=%s",
        path,
        version,
        "headless" if opts.headless else "headed",
        user_data,
        redact_proxy(opts.proxy),
    )
    context = playwright.chromium.launch_persistent_context(
        str(user_data),
        executable_path=path,
        headless=opts.headless,
        args=launch_args(),
        ignore_default_args=list(stealth.STEALTH_IGNORED_DEFAULT_ARGS),
        user_agent=user_agent,
        proxy=proxy_settings(opts.proxy),  # type: ignore[arg-type]
        ignore_https_errors=opts.ignore_https_errors,
        timeout=opts.timeout * 1000,
        env=opts.env,  # type: ignore[arg-type]
        handle_sigint=False,
        handle_sigterm=False,
        handle_sighup=False,
    )
    stack.callback(_close_context, context)
    grace[0] = 5.0
    groups.update(browser_groups(user_data))
    session = BrowserSession(
        context,
        user_agent,
        opts.headless,
        user_data,
        remote=False,
        flavour=HEADLESS_SHELL if shell else CHROMIUM,
    )
    if shell:
        key = (path, Path(path).stat().st_mtime)
        if key not in _UA_METADATA:  # a probe costs a page and a renderer: once per binary
            _UA_METADATA[key] = _shell_ua_metadata(context)
        session.ua_metadata = _UA_METADATA[key]
    return session


#: Cleaned UA-CH metadata per (shell binary, modification time).
_UA_METADATA: dict[tuple[str, float], dict[str, Any]] = {}


def _shell_ua_metadata(context: BrowserContext) -> dict[str, Any]:
    """The shell's own UA-CH metadata minus its HeadlessChrome brand (read on a local page:
    UA-CH needs a secure context; a throwaway page keeps the harvest page's history clean)."""
    page = context.new_page()
    try:
        page.goto(Path(os.devnull).as_uri() if os.name == "posix" else Path.cwd().as_uri())
        seen = page.evaluate(stealth.UA_METADATA_JS)
    finally:
        page.close()
    return {"platform": seen["platform"], "metadata": stealth.clean_ua_metadata(seen["metadata"])}


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
