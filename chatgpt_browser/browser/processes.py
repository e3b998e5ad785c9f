"""Find and reap the Chromium processes of one profile (Linux `/proc`; elsewhere no-ops).

Playwright starts Chromium as a process-group leader; its GPU, network and renderer
helpers stay in that group even when their command lines do not name the profile, and
its crash handlers (own groups) name the profile in `--database`. So a browser is found
by its `--user-data-dir` and reaped by its groups: nothing outlives `open_browser()`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import signal
import tempfile
import time
from pathlib import Path

from ..errors import BrowserError

log = logging.getLogger(__name__)

TEMP_PREFIX = "chatgpt-browser-profile-"


def browser_processes(profile_dir: Path) -> list[int]:
    """PIDs of Chromium processes running on `profile_dir` (browser, renderers, crash handlers)."""
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
    """Live (not zombie) processes in the given process groups."""
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
    """Process groups of the browser running on `profile_dir` (never our own)."""
    groups = set()
    for pid in browser_processes(profile_dir):
        with contextlib.suppress(OSError):
            groups.add(os.getpgid(pid))
    return groups - {os.getpgrp()}


def kill_leftovers(profile_dir: Path, groups: set[int], grace: float = 5.0) -> None:
    """Wait up to `grace` for the browser to exit after a close, then SIGKILL what remains.

    `grace=0` (an interrupted launch: nobody closed the browser) kills at once, quietly.
    """
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not browser_processes(profile_dir) and not group_members(groups):
            return
        time.sleep(0.02)
    report = log.warning if grace > 0 else log.debug
    for group in groups | browser_groups(profile_dir):
        report("browser process group %s did not exit; killing it", group)
        with contextlib.suppress(OSError):
            os.killpg(group, signal.SIGKILL)
    for pid in browser_processes(profile_dir):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    # SIGKILL is not instant: wait (bounded) until the kernel has them gone.
    end = time.monotonic() + 2.0
    while (browser_processes(profile_dir) or group_members(groups)) and time.monotonic() < end:
        time.sleep(0.01)


def sweep_stale_temp_profiles() -> None:
    """Remove temporary profiles of runs that died without cleaning up (SIGKILL)."""
    for path in Path(tempfile.gettempdir()).glob(TEMP_PREFIX + "*"):
        match = re.match(re.escape(TEMP_PREFIX) + r"(\d+)-", path.name)
        if not match or int(match.group(1)) == os.getpid():
            continue
        try:
            os.kill(int(match.group(1)), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except OSError:
            pass


def wait_for_profile_release(profile_dir: Path, timeout: float) -> None:
    """Wait (bounded) until no browser runs on `profile_dir`.

    Two browsers cannot share a profile. A browser whose owner was just killed needs a
    few seconds to notice and exit, and the next job (which got the account's lock the
    moment the owner died) must not fail on it; one that stays is a real conflict.
    """
    lock = profile_dir / "SingletonLock"  # Chromium's "in use" mark: no mark, no browser
    if not lock.is_symlink() and not lock.exists():
        return
    deadline = time.monotonic() + timeout
    running = browser_processes(profile_dir)
    while running and time.monotonic() < deadline:
        time.sleep(0.1)
        running = browser_processes(profile_dir)
    if running:
        raise BrowserError(f"the profile {profile_dir} is in use by another browser (pid {min(running)})")


__all__ = [
    "TEMP_PREFIX",
    "browser_groups",
    "browser_processes",
    "group_members",
    "kill_leftovers",
    "sweep_stale_temp_profiles",
    "wait_for_profile_release",
]
