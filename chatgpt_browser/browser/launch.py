"""Start (or connect to) a browser and own its lifetime.

`open_browser()` is a context manager yielding a `BrowserSession`: a Playwright context
with the stealth User-Agent applied, plus everything needed to tear it down. Local
browsers always run as a *persistent* context on a user data dir we know (the account's
profile, or a private temporary one), because then:
- the UA can be fixed before the first page exists (from `chromium --version`);
- every Chromium process we started can be found by that dir (`/proc/*/cmdline`)
  and killed if a graceful close fails, so nothing outlives `open_browser()`.

If our Python process is SIGKILLed, the Playwright driver sees its stdin close and
closes the browser, and Chromium itself exits when its `--remote-debugging-pipe`
closes (both verified; see tests/integration/browser/test_teardown.py). Temporary
profiles left behind that way are swept at the next launch.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import re
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..config import APP_NAME
from ..credentials import redact_proxy
from ..errors import BrowserCrashedError, BrowserError
from . import stealth
from .executable import (
    CHROMIUM,
    HEADLESS_SHELL,
    browser_version,
    find_browser,
    is_headless_shell,
    resolve_flavour,
)
from .inputs import proxy_settings, redact_urls
from .xvfb import needs_virtual_display, virtual_display

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
_TEMP_PREFIX = "chatgpt-browser-profile-"


@dataclasses.dataclass
class BrowserSession:
    """A live browser context and what we must release when done."""

    context: Any  # playwright BrowserContext
    user_agent: str
    headless: bool
    profile_dir: Path | None
    remote: bool
    #: "chromium" or "headless-shell" (what was launched; remote browsers count as chromium).
    flavour: str = CHROMIUM
    #: Cleaned UA-CH metadata to apply per page (headless shell only; see stealth).
    ua_metadata: dict[str, Any] | None = None
    _cdp_sessions: list[Any] = dataclasses.field(default_factory=list, repr=False)

    def new_page(self) -> Any:
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


def browser_processes(profile_dir: Path) -> list[int]:
    """PIDs of Chromium processes running on `profile_dir` (Linux; elsewhere always []).

    Matches the browser (and renderers) by `--user-data-dir`, and its crash handlers,
    which run in a process group of their own, by their `--database` in the profile.
    """
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    user_data = f"--user-data-dir={profile_dir}".encode()
    database = f"--database={profile_dir}/".encode()
    pids = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if user_data in args or any(arg.startswith(database) for arg in args):
            pids.append(int(entry.name))
    return pids


def group_members(groups: set[int]) -> list[int]:
    """Live (not zombie) processes in the given process groups (Linux; elsewhere []).

    Playwright starts Chromium as a process-group leader; its GPU, network and renderer
    helpers stay in that group even when their command lines do not name the profile.
    """
    proc = Path("/proc")
    if not groups or not proc.is_dir():
        return []
    members = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[2]) in groups:
            members.append(int(entry.name))
    return members


def browser_groups(profile_dir: Path) -> set[int]:
    """Process groups of the browser running on `profile_dir`."""
    groups = set()
    for pid in browser_processes(profile_dir):
        with contextlib.suppress(OSError):
            groups.add(os.getpgid(pid))
    return groups - {os.getpgrp()}  # never our own group


def _kill_leftovers(profile_dir: Path, groups: set[int], grace: float = 5.0) -> None:
    """Wait briefly for the browser to exit after a close, then SIGKILL what remains."""
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not browser_processes(profile_dir) and not group_members(groups):
            return
        time.sleep(0.02)
    for group in groups | browser_groups(profile_dir):
        log.warning("browser process group %s did not exit; killing it", group)
        with contextlib.suppress(OSError):
            os.killpg(group, signal.SIGKILL)
    for pid in browser_processes(profile_dir):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _sweep_stale_temp_profiles() -> None:
    """Remove temporary profiles of runs that died without cleaning up (SIGKILL)."""
    for path in Path(tempfile.gettempdir()).glob(_TEMP_PREFIX + "*"):
        match = re.match(re.escape(_TEMP_PREFIX) + r"(\d+)-", path.name)
        if not match or int(match.group(1)) == os.getpid():
            continue
        try:
            os.kill(int(match.group(1)), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except OSError:
            pass


def translate_error(exc: BaseException, what: str) -> BrowserError:
    """Map a Playwright failure to our tree: a closed target means the browser died."""
    # Redacted: a CDP or proxy URL in the message may carry `user:pass@` or `?token=`.
    text = redact_urls(str(exc).splitlines()[0]) if str(exc) else type(exc).__name__
    if re.search(r"closed|crash|disconnected|Target page, context or browser", text, re.I):
        return BrowserCrashedError(f"{what}: the browser died ({text})")
    return BrowserError(f"{what}: {text}")


def _wait_for_profile_release(profile_dir: Path, timeout: float) -> None:
    """Wait (bounded) until no browser runs on `profile_dir`.

    Two browsers cannot share a profile. A browser whose owner was just killed needs a
    few seconds to notice and exit, and the next job (which got the account's lock the
    moment the owner died) must not fail on it; one that stays is a real conflict.
    """
    deadline = time.monotonic() + timeout
    running = browser_processes(profile_dir)
    while running and time.monotonic() < deadline:
        time.sleep(0.1)
        running = browser_processes(profile_dir)
    if running:
        # Say so plainly instead of letting Chromium fail obscurely.
        raise BrowserError(f"the profile {profile_dir} is in use by another browser (pid {min(running)})")


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
) -> Iterator[BrowserSession]:
    """Launch Chromium (or connect to `cdp_url`) and yield a stealthy `BrowserSession`.

    `flavour` ("chromium" or "headless-shell", default `CHATGPT_BROWSER_FLAVOUR` or
    "chromium") picks the binary for headless launches; headed ones always use the full
    browser. Everything started here is stopped when the block exits, however it exits.
    """
    flavour = resolve_flavour(flavour)
    if profile_dir is not None and not cdp_url:
        _wait_for_profile_release(Path(profile_dir).expanduser().resolve(), launch_timeout / 2)

    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    with contextlib.ExitStack() as stack:
        if not headless and not cdp_url and needs_virtual_display():
            display = stack.enter_context(virtual_display())
            env = {**os.environ, "DISPLAY": display}
        else:
            env = None
        with _node_compile_cache():
            playwright = sync_playwright().start()
        stack.callback(_stop_playwright, playwright)
        failure: BrowserError | None = None
        try:
            if cdp_url:
                session = _connect(playwright, stack, cdp_url, proxy, ignore_https_errors, launch_timeout)
            else:
                session = _launch(
                    playwright,
                    stack,
                    executable,
                    headless,
                    profile_dir,
                    proxy,
                    ignore_https_errors,
                    launch_timeout,
                    env,
                    flavour,
                )
        except PlaywrightError as exc:
            failure = translate_error(exc, "starting the browser")
            if redact_urls(str(exc)) == str(exc):
                raise failure from exc
        if failure is not None:
            # Raised outside the handler: the original (a CDP URL with `user:pass@` or a
            # `?token=`) must not ride along as the cause, printed in every traceback.
            raise failure
        yield session


_ENVIRON_LOCK = threading.Lock()


@contextlib.contextmanager
def _node_compile_cache() -> Iterator[None]:
    """Let Playwright's Node driver keep its compiled code between runs (Node's
    NODE_COMPILE_CACHE): its start, a fixed cost of every harvest, drops by ~65 ms (~20%).

    The driver copies our environment when it starts, so the variable is set only around
    that moment, and never over the user's own NODE_COMPILE_CACHE choice.
    """
    if "NODE_COMPILE_CACHE" in os.environ or "NODE_DISABLE_COMPILE_CACHE" in os.environ:
        yield
        return
    import platformdirs

    with _ENVIRON_LOCK:
        os.environ["NODE_COMPILE_CACHE"] = str(Path(platformdirs.user_cache_dir(APP_NAME)) / "node")
        try:
            yield
        finally:
            os.environ.pop("NODE_COMPILE_CACHE", None)


def _stop_playwright(playwright: Any) -> None:
    with contextlib.suppress(Exception):
        playwright.stop()


def _close_context(context: Any) -> None:
    with contextlib.suppress(Exception):
        context.close()


def _launch(
    playwright: Any,
    stack: contextlib.ExitStack,
    executable: str | None,
    headless: bool,
    profile_dir: str | Path | None,
    proxy: str | None,
    ignore_https_errors: bool,
    timeout: float,
    env: dict[str, str] | None,
    flavour: str,
) -> BrowserSession:
    path = find_browser(executable, flavour=flavour if headless else CHROMIUM)
    shell = is_headless_shell(path)
    if shell and not headless:
        raise BrowserError(f"{path} is a headless-only shell; a headed run needs the full Chromium or Chrome")
    version = browser_version(path)
    if version is None:
        raise BrowserError(f"{path} did not report a version; is it a Chromium/Chrome binary?")
    if profile_dir is None:
        _sweep_stale_temp_profiles()
        user_data = Path(tempfile.mkdtemp(prefix=f"{_TEMP_PREFIX}{os.getpid()}-"))
        stack.callback(shutil.rmtree, user_data, True)
    else:
        user_data = Path(profile_dir).expanduser().resolve()
        user_data.mkdir(parents=True, exist_ok=True, mode=0o700)
    groups: set[int] = set()
    # Registered after the rmtree above, so it runs first: kill, then delete.
    stack.callback(_kill_leftovers, user_data, groups)
    user_agent = stealth.desktop_user_agent(version)
    log.debug(
        "launching %s (%s, %s) profile=%s proxy=%s",
        path,
        version,
        "headless" if headless else "headed",
        user_data,
        redact_proxy(proxy),
    )
    context = playwright.chromium.launch_persistent_context(
        str(user_data),
        executable_path=path,
        headless=headless,
        args=launch_args(),
        ignore_default_args=list(stealth.STEALTH_IGNORED_DEFAULT_ARGS),
        user_agent=user_agent,
        proxy=proxy_settings(proxy),
        ignore_https_errors=ignore_https_errors,
        timeout=timeout * 1000,
        env=env,
        handle_sigint=False,
        handle_sigterm=False,
        handle_sighup=False,
    )
    stack.callback(_close_context, context)
    groups.update(browser_groups(user_data))
    session = BrowserSession(
        context, user_agent, headless, user_data, remote=False, flavour=HEADLESS_SHELL if shell else CHROMIUM
    )
    if shell:
        key = (path, Path(path).stat().st_mtime)
        if key not in _UA_METADATA:  # a probe costs a page and a renderer: once per binary
            _UA_METADATA[key] = _shell_ua_metadata(context)
        session.ua_metadata = _UA_METADATA[key]
    return session


#: Cleaned UA-CH metadata per (shell binary, modification time).
_UA_METADATA: dict[tuple[str, float], dict[str, Any]] = {}


def _shell_ua_metadata(context: Any) -> dict[str, Any]:
    """The shell's own UA-CH metadata minus its HeadlessChrome brand (read on a local page:
    UA-CH needs a secure context; a throwaway page keeps the harvest page's history clean)."""
    page = context.new_page()
    try:
        page.goto(Path(os.devnull).as_uri() if os.name == "posix" else Path.cwd().as_uri())
        seen = page.evaluate(stealth.UA_METADATA_JS)
    finally:
        page.close()
    return {"platform": seen["platform"], "metadata": stealth.clean_ua_metadata(seen["metadata"])}


def _connect(
    playwright: Any,
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
        user_agent=user_agent, proxy=proxy_settings(proxy), ignore_https_errors=ignore_https_errors
    )
    stack.callback(_close_context, context)
    context.add_init_script(stealth.HIDE_WEBDRIVER_JS)
    return BrowserSession(context, user_agent, headless="Headless" in reported, profile_dir=None, remote=True)


__all__ = [
    "BASE_ARGS",
    "BrowserSession",
    "browser_groups",
    "browser_processes",
    "group_members",
    "launch_args",
    "open_browser",
    "proxy_settings",
]
