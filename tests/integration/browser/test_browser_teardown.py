"""No browser outlives a harvest: Ctrl-C, SIGTERM and SIGKILL of a real child process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import chromium_pids, live_members, process_groups
from support.waiting import wait_until

pytestmark = pytest.mark.browser

# A harvest that will sit on the challenge page (the emulator's dwell is long).
CHILD = """
import logging, sys
logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
from chatgpt_browser import harvest
try:
    harvest(sys.argv[1], email=sys.argv[2], password=sys.argv[3], profile_dir=sys.argv[4],
            timeout=120, headed_fallback=False, artifacts_dir=sys.argv[5])
except KeyboardInterrupt:
    sys.exit(130)
"""


def _start_child(emu: Any, tmp_path: Path) -> tuple[subprocess.Popen[bytes], set[int]]:
    emu.admin.configure(dwell=300.0)
    emu.admin.reset_stats()
    profile = tmp_path / "profile"
    with (tmp_path / "child.log").open("wb") as log:
        child = subprocess.Popen(
            [
                sys.executable,
                "-c",
                CHILD,
                emu.url,
                emu.account.email,
                emu.account.password,
                str(profile),
                str(tmp_path / "artifacts"),
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,  # its own process group, like a job started from a shell
        )
    # Ready when its Chromium runs and the challenge page has been served to it.
    wait_until(
        lambda: chromium_pids(profile) and emu.admin.stats()["challenges"]["served"] >= 1,
        60,
        "the child's browser to reach the challenge",
    )
    groups = process_groups(chromium_pids(profile))
    assert len(live_members(groups)) > len(chromium_pids(profile)), "helpers share the browser's group"
    return child, groups


def _finish(child: subprocess.Popen[bytes], log: Path | None = None) -> int:
    try:
        return child.wait(timeout=30)
    except subprocess.TimeoutExpired:
        tail = log.read_text(errors="replace")[-3000:] if log is not None else ""
        raise AssertionError(f"the child did not exit within 30 s; its log ends with:\n{tail}") from None
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)


@pytest.mark.parametrize(
    ("signum", "expected_status", "to_group"),
    [
        (signal.SIGINT, 130, False),
        # Ctrl-C in a terminal: the whole foreground group (Python and Playwright's driver).
        (signal.SIGINT, 130, True),
        (signal.SIGTERM, 143, False),
    ],
    ids=["sigint", "ctrl-c-group", "sigterm"],
)
def test_signal_during_harvest_closes_the_browser_before_exit(
    emu: Any, tmp_path: Path, signum: int, expected_status: int, to_group: bool
) -> None:
    child, groups = _start_child(emu, tmp_path)
    if to_group:
        os.killpg(child.pid, signum)
    else:
        child.send_signal(signum)
    status = _finish(child, tmp_path / "child.log")
    log = (tmp_path / "child.log").read_text(errors="replace")
    assert status == expected_status, log[-2000:]
    # Gone by the time the process has exited: closed by us, not by luck.
    assert live_members(groups) == []


@pytest.mark.parametrize("to_group", [False, True], ids=["python-only", "python-and-driver"])
def test_sigkill_leaves_no_browser_behind(emu: Any, tmp_path: Path, to_group: bool) -> None:
    child, groups = _start_child(emu, tmp_path)
    if to_group:  # e.g. the OOM killer or `kill -9 -PGID`: Playwright's driver dies too
        os.killpg(child.pid, signal.SIGKILL)
    else:
        child.kill()
    assert _finish(child) == -signal.SIGKILL
    # Nobody could clean up: Playwright's driver (stdin closed) or, when it died too,
    # Chromium itself (its --remote-debugging-pipe closed) must take the browser down.
    wait_until(lambda: not live_members(groups), 5, "the orphaned browser to exit")
