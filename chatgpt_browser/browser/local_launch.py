"""Launch a local Chromium as a persistent context on a user data dir we own.

The UA is fixed before the first page exists (from `chromium --version`), and every
process started can be found (and killed) by that dir, so nothing outlives the launch.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..credentials import redact_proxy
from ..errors import BrowserError
from . import stealth
from .browser_session import BrowserSession, UaMetadata, close_quietly
from .executable import CHROMIUM, HEADLESS_SHELL, browser_version, find_browser, is_headless_shell
from .inputs import proxy_settings
from .processes import browser_groups, kill_leftovers

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Playwright

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


def launch_args(*, as_root: bool | None = None) -> list[str]:
    """Command-line switches for a local launch (Playwright adds its own on top)."""
    args = [*BASE_ARGS, *stealth.STEALTH_ARGS]
    if as_root if as_root is not None else (hasattr(os, "geteuid") and os.geteuid() == 0):
        args.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox on
    return args


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


def launch_local(playwright: Playwright, stack: contextlib.ExitStack, opts: LaunchOptions) -> BrowserSession:
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
        proxy=proxy_settings(opts.proxy),
        ignore_https_errors=opts.ignore_https_errors,
        timeout=opts.timeout * 1000,
        env=opts.env,  # type: ignore[arg-type]
        handle_sigint=False,
        handle_sigterm=False,
        handle_sighup=False,
    )
    stack.callback(close_quietly, context)
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
_UA_METADATA: dict[tuple[str, float], UaMetadata] = {}


def _shell_ua_metadata(context: BrowserContext) -> UaMetadata:
    """The shell's own UA-CH metadata minus its HeadlessChrome brand (read on a local page:
    UA-CH needs a secure context; a throwaway page keeps the harvest page's history clean)."""
    page = context.new_page()
    try:
        page.goto(Path(os.devnull).as_uri() if os.name == "posix" else Path.cwd().as_uri())
        seen = page.evaluate(stealth.UA_METADATA_JS)
    finally:
        page.close()
    return {"platform": seen["platform"], "metadata": stealth.clean_ua_metadata(seen["metadata"])}


__all__ = ["BASE_ARGS", "LaunchOptions", "launch_args", "launch_local"]
