"""Cron simulation with real processes, the real emulator and real Chromium:
eight cold jobs share one browser launch; a killed lock holder leaves nothing behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import cli_env
from support.waiting import wait_until

from chatgpt_browser.browser.launch import browser_processes
from chatgpt_browser.credentials import Credentials
from chatgpt_browser.emulator.process import Emulator
from chatgpt_browser.session.store import FileStore, account_key

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def session_job(
    emu: Emulator, state: Path, chromium: Any, home: Path, log: Path | None = None
) -> subprocess.Popen[str]:
    args = [
        sys.executable, "-m", "chatgpt_browser", "session", "--url", emu.url, "--email", emu.account.email,
        "--state-dir", str(state), "--executable", str(chromium.path), "--password-env", "DEMO_PASSWORD",
    ]  # fmt: skip
    stderr: Any = subprocess.PIPE
    if log is not None:
        args.append("--verbose")
        stderr = log.open("w")
    return subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        env=cli_env(home, DEMO_PASSWORD=emu.account.password),
    )


def test_eight_cold_jobs_one_browser_launch(emu: Emulator, tmp_path: Path, counting_chromium: Any) -> None:
    state = tmp_path / "state"
    jobs = [session_job(emu, state, counting_chromium, tmp_path) for _ in range(8)]
    bundles = []
    for job in jobs:
        out, err = job.communicate(timeout=180)
        assert job.returncode == 0, err
        bundles.append(json.loads(out))
    assert counting_chromium.launches == 1
    assert emu.admin.stats()["logins"]["ok"] == 1
    assert len({b["session_token"] for b in bundles}) == 1
    assert len({b["clearance_token"] for b in bundles}) == 1


def test_sigkill_of_the_harvesting_job(emu: Emulator, tmp_path: Path, counting_chromium: Any) -> None:
    state = tmp_path / "state"
    key = account_key(emu.url, emu.account.email)
    profile = state / "profiles" / key
    emu.admin.configure(dwell=120)  # the first job's browser sits on the challenge page
    holder = session_job(emu, state, counting_chromium, tmp_path)
    waiters: list[subprocess.Popen[str]] = []
    try:
        wait_until(lambda: counting_chromium.launches == 1, 60, "the holder's browser")
        wait_until(lambda: browser_processes(profile), 30, "the holder's Chromium processes")
        logs = [tmp_path / f"waiter{i}.log" for i in range(2)]
        waiters = [session_job(emu, state, counting_chromium, tmp_path, log=log) for log in logs]
        for log in logs:
            wait_until(lambda log=log: "waiting for the account lock" in log.read_text(), 30, "a waiter")
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=10)
        emu.admin.configure(dwell=0.3)
        # the killed job's browser goes away by itself (the driver and Chromium see their pipes close)
        results = []
        for job in waiters:
            out, _ = job.communicate(timeout=180)
            assert job.returncode == 0, [log.read_text() for log in logs]
            results.append(json.loads(out))
    finally:
        for proc in [holder, *waiters]:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert counting_chromium.launches == 2  # the killed attempt, then exactly one recovery
    assert len({r["session_token"] for r in results}) == 1
    wait_until(lambda: not browser_processes(profile), 30, "no Chromium left on the profile")
    stored = FileStore(state).load(key)
    assert isinstance(stored, Credentials) and stored.session_token == results[0]["session_token"]
    assert sorted(p.name for p in (state / "credentials").iterdir()) == [key + ".json"]
