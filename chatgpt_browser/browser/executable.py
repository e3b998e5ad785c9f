"""Find a Chromium/Chrome executable to drive.

Order: an explicit path, `CHATGPT_BROWSER_EXECUTABLE`, Playwright's own downloaded
browsers, then system installs in the usual places for Linux, macOS and Windows. When
nothing fits, one `BrowserNotFoundError` lists every place tried and how to get a browser.

Two flavours (`CHATGPT_BROWSER_FLAVOUR`):
- "chromium" (default): the full browser, the same binary a person runs, headless or not.
- "headless-shell": Chromium's separate "old headless" shell (Debian package
  `chromium-headless-shell`, or `playwright install chromium-headless-shell`). About a
  third less memory and a faster start, but easier to tell from a desktop browser (no
  plugins, no `window.chrome`); headless runs only. When it is not installed, discovery
  falls back to the full browser.
"""

from __future__ import annotations

import functools
import glob
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from .. import config
from ..errors import BrowserNotFoundError, ConfigError

log = logging.getLogger(__name__)

INSTALL_HINT = (
    "Install one: `python -m playwright install chromium`, or your system's package "
    "(Debian/Ubuntu: `apt install chromium`; macOS: Google Chrome; Windows: Google Chrome), "
    "or point CHATGPT_BROWSER_EXECUTABLE / --executable at a Chromium or Chrome binary."
)

_LINUX_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
_LINUX_PATHS = (
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
    "/usr/bin/google-chrome-stable",
    "/opt/google/chrome/chrome",
    "/snap/bin/chromium",
)
_MAC_PATHS = (
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "~/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "~/Applications/Chromium.app/Contents/MacOS/Chromium",
)
#: The "old headless" shell: the real binary first (Debian's /usr/bin one is a wrapper script).
_HEADLESS_SHELL_NAMES = ("chromium-headless-shell", "chrome-headless-shell", "headless_shell")
_HEADLESS_SHELL_PATHS = (
    "/usr/lib/chromium/chromium-headless-shell",
    "/usr/bin/chromium-headless-shell",
)
CHROMIUM = "chromium"
HEADLESS_SHELL = "headless-shell"
FLAVOURS = (CHROMIUM, HEADLESS_SHELL)
_WINDOWS_SUFFIXES = (
    r"Google\Chrome\Application\chrome.exe",
    r"Chromium\Application\chrome.exe",
)


def _playwright_roots(environ: Mapping[str, str]) -> list[str]:
    roots: list[str] = []
    if environ.get("PLAYWRIGHT_BROWSERS_PATH") not in (None, "", "0"):
        roots.append(environ["PLAYWRIGHT_BROWSERS_PATH"])
    if sys.platform == "darwin":
        roots.append("~/Library/Caches/ms-playwright")
    elif sys.platform == "win32":
        roots.append(os.path.join(environ.get("LOCALAPPDATA", "~"), "ms-playwright"))
    else:
        roots.append(os.path.join(environ.get("XDG_CACHE_HOME", "~/.cache"), "ms-playwright"))
    return roots


def _playwright_candidates(environ: Mapping[str, str]) -> list[str]:
    """Executables of browsers downloaded by `playwright install` (newest first)."""
    roots = _playwright_roots(environ)
    patterns = (
        "chromium-*/chrome-linux*/chrome",
        "chromium-*/chrome-mac*/Chromium.app/Contents/MacOS/Chromium",
        "chromium-*/chrome-mac*/Google Chrome for Testing.app/Contents/MacOS/Google Chrome for Testing",
        "chromium-*/chrome-win*/chrome.exe",
    )
    found: list[str] = []
    for root in roots:
        for pattern in patterns:
            found += glob.glob(os.path.join(os.path.expanduser(root), pattern))
    # chromium-1234: a higher revision is newer.
    return sorted(found, key=lambda p: [int(n) for n in re.findall(r"chromium-(\d+)", p)[:1]], reverse=True)


def _playwright_shell_candidates(environ: Mapping[str, str]) -> list[str]:
    """Headless shells downloaded by `playwright install` (newest first)."""
    found: list[str] = []
    for root in _playwright_roots(environ):
        for pattern in (
            "chromium_headless_shell-*/chrome-*/headless_shell*",
            "chromium_headless_shell-*/chrome-headless-shell-*/chrome-headless-shell*",
        ):
            found += glob.glob(os.path.join(os.path.expanduser(root), pattern))
    return sorted(found, key=lambda p: [int(n) for n in re.findall(r"_shell-(\d+)", p)[:1]], reverse=True)


def _headless_shell_candidates(environ: Mapping[str, str]) -> list[str]:
    on_path = [p for p in (shutil.which(n, path=environ.get("PATH")) for n in _HEADLESS_SHELL_NAMES) if p]
    system = list(_HEADLESS_SHELL_PATHS) if sys.platform.startswith("linux") else []
    return list(dict.fromkeys([*_playwright_shell_candidates(environ), *system, *on_path]))


def is_headless_shell(path: str) -> bool:
    """True for Chromium's old-headless shell (it cannot run headed; it names itself HeadlessChrome)."""
    name = os.path.basename(path).lower()
    return "headless_shell" in name or "headless-shell" in name


def resolve_flavour(flavour: str | None = None, *, environ: Mapping[str, str] | None = None) -> str:
    """The flavour asked for (argument, then `CHATGPT_BROWSER_FLAVOUR`), "chromium" by default."""
    wanted = flavour or config.env("FLAVOUR", os.environ if environ is None else environ) or CHROMIUM
    if wanted not in FLAVOURS:
        raise ConfigError(f"browser flavour must be one of {', '.join(FLAVOURS)}; got {wanted!r}")
    return wanted


def _system_candidates(environ: Mapping[str, str]) -> list[str]:
    if sys.platform == "darwin":
        return [os.path.expanduser(p) for p in _MAC_PATHS]
    if sys.platform == "win32":
        bases = [environ.get(v) for v in ("PROGRAMFILES", "PROGRAMFILES(X86)", "LOCALAPPDATA")]
        return [os.path.join(b, s) for b in bases if b for s in _WINDOWS_SUFFIXES]
    on_path = [p for p in (shutil.which(n, path=environ.get("PATH")) for n in _LINUX_NAMES) if p]
    return list(dict.fromkeys([*on_path, *_LINUX_PATHS]))


def _usable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def find_browser(
    explicit: str | None = None, *, environ: Mapping[str, str] | None = None, flavour: str = CHROMIUM
) -> str:
    """Path of the Chromium/Chrome to launch; raises `BrowserNotFoundError` listing what was tried.

    An explicit path (argument or environment) that does not work is an error of its own:
    we do not silently fall back to another browser the user did not ask for. The
    "headless-shell" flavour prefers an installed headless shell and otherwise falls back
    to the full browser (a missing optional package must not stop a harvest).
    """
    environ = os.environ if environ is None else environ
    for label, wanted in (
        ("executable", explicit),
        ("CHATGPT_BROWSER_EXECUTABLE", config.env("EXECUTABLE", environ)),
    ):
        if wanted:
            path = os.path.expanduser(wanted)
            resolved = path if os.sep in path else (shutil.which(path, path=environ.get("PATH")) or path)
            if _usable(resolved):
                return resolved
            raise BrowserNotFoundError(f"{label} {wanted!r} is not an executable file. {INSTALL_HINT}")
    tried: list[str] = []
    if flavour == HEADLESS_SHELL:
        for path in _headless_shell_candidates(environ):
            if _usable(path):
                log.debug("using headless shell %s", path)
                return path
        log.info("no Chromium headless shell installed; using the full browser")
    for path in [*_playwright_candidates(environ), *_system_candidates(environ)]:
        if _usable(path):
            log.debug("using browser %s", path)
            return path
        tried.append(path)
    where = ", ".join(tried) if tried else "(no candidate locations on this platform)"
    raise BrowserNotFoundError(
        f"no Chromium or Chrome found; tried Playwright's browsers and {where}. {INSTALL_HINT}"
    )


_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)\.(\d+)")


def _probe_version(path: str) -> str | None:
    try:
        out = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=15, stdin=subprocess.DEVNULL
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = _VERSION.search(out)
    return match.group(0) if match else None


def version_cache_file() -> Path:
    """Where probed versions are kept across processes (the user's cache folder)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir(config.APP_NAME)) / "browser-versions.json"


def _read_cache(file: Path) -> dict[str, str]:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}


def _write_cache(file: Path, data: dict[str, str]) -> None:
    """Atomically, mode 0600 (a cache: failing to write it only costs the next probe)."""
    try:
        file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=".versions-")
        with os.fdopen(fd, "w", encoding="utf-8") as out:  # mkstemp files are 0600
            json.dump(data, out)
        os.replace(tmp, file)
    except OSError as exc:
        log.debug("could not write the browser version cache %s: %s", file, exc)


@functools.lru_cache(maxsize=8)
def _version_of(path: str, size: int, mtime_ns: int, cache: Path | None) -> str | None:
    key = f"{path}|{size}|{mtime_ns}"
    known = _read_cache(cache) if cache is not None else {}
    if key in known and _VERSION.fullmatch(known[key]):
        return known[key]
    version = _probe_version(path)
    if version is not None and cache is not None:
        # Keep only entries of binaries that still look the same; drop the rest.
        fresh = {k: v for k, v in known.items() if _still_valid(k)}
        _write_cache(cache, {**fresh, key: version})
    return version


def _still_valid(key: str) -> bool:
    path, _, rest = key.partition("|")
    try:
        info = os.stat(path)
    except OSError:
        return False
    return rest == f"{info.st_size}|{info.st_mtime_ns}"


def browser_version(path: str, *, cache: Path | bool = True) -> str | None:
    """The executable's full version ("156.0.8078.108"), or None if it will not say.

    Asking costs a process start (~60 ms), so the answer is kept in memory and in a 0600
    file in the user's cache folder, keyed by the binary's path, size and modification
    time (an upgrade changes them). `cache=False` skips the file; a Path picks another.
    """
    try:
        info = os.stat(path)
    except OSError:
        return None
    file = version_cache_file() if cache is True else (cache if isinstance(cache, Path) else None)
    return _version_of(path, info.st_size, info.st_mtime_ns, file)


__all__ = [
    "CHROMIUM",
    "FLAVOURS",
    "HEADLESS_SHELL",
    "INSTALL_HINT",
    "browser_version",
    "find_browser",
    "is_headless_shell",
    "resolve_flavour",
]
