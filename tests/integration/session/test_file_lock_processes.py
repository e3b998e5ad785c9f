"""Single flight across real processes on one FileStore, and recovery after SIGKILL.

The workers are real Python processes running the real SessionManager, FileStore and
FileLock; their harvest callable records each call in a file, so the test can count
renewals across processes (the browser itself is covered by the CLI cron tests).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

WORKER = r"""
import json, os, sys, time
from pathlib import Path
from chatgpt_browser.credentials import Credentials
from chatgpt_browser.session.manager import SessionManager
from chatgpt_browser.session.store import FileStore

state, calls, hold = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])

def harvester(*, profile_dir, reason, stale):
    with open(calls, "a") as f:
        f.write(f"{os.getpid()} {reason}\n")
    time.sleep(hold)
    now = time.time()
    return Credentials(site="http://127.0.0.1:9", user_agent="UA", session_token=f"session-{os.getpid()}",
                       clearance_token="c", clearance_expires_at=now + 1800, session_expires_at=now + 86400)

def progress(message):
    print(message, file=sys.stderr, flush=True)  # "waiting for the account lock": queued

manager = SessionManager(FileStore(state), harvester, key="acct", lock_timeout=float(sys.argv[4]),
                         progress=progress)
creds = manager.get()
print(json.dumps({"pid": os.getpid(), "session": creds.session_token}))
"""


def start(state: Path, calls: Path, hold: float, lock_timeout: float = 30.0) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, str(state), str(calls), str(hold), str(lock_timeout)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def holds_lock_file(pid: int) -> bool:
    """True when process `pid` has the account's lock file open."""
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(fd).endswith("acct.lock"):
                return True
        except OSError:
            continue
    return False


def wait_for_line(path: Path, deadline: float) -> str:
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return path.read_text().splitlines()[0]
        time.sleep(0.02)
    raise AssertionError(f"nothing appeared in {path}")


def test_eight_processes_one_renewal(tmp_path: Path) -> None:
    state, calls = tmp_path / "state", tmp_path / "calls"
    procs = [start(state, calls, hold=1.0) for _ in range(8)]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        outputs.append(json.loads(out))
    lines = calls.read_text().splitlines()
    assert len(lines) == 1 and lines[0].endswith(" empty")
    harvester_pid = int(lines[0].split()[0])
    assert {o["session"] for o in outputs} == {f"session-{harvester_pid}"}
    stored = json.loads((state / "credentials" / "acct.json").read_text())
    assert stored["credentials"]["session_token"] == f"session-{harvester_pid}"


def test_sigkill_of_the_holder_frees_the_lock(tmp_path: Path) -> None:
    state, calls = tmp_path / "state", tmp_path / "calls"
    holder = start(state, calls, hold=120.0)
    try:
        first = wait_for_line(calls, time.monotonic() + 30)
        assert first.startswith(f"{holder.pid} ")
        waiters = [start(state, calls, hold=0.2) for _ in range(3)]
        for waiter in waiters:  # each says it queues on the lock before the holder dies
            assert waiter.stderr is not None
            assert waiter.stderr.readline().strip() == "waiting for the account lock"
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=10)
        results = []
        for proc in waiters:
            out, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
            results.append(json.loads(out))
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
    lines = calls.read_text().splitlines()
    assert len(lines) == 2  # the killed holder's call, then exactly one recovery
    recovered_pid = int(lines[1].split()[0])
    assert {r["session"] for r in results} == {f"session-{recovered_pid}"}
    # the store holds one complete record and no half-written temp file
    names = sorted(p.name for p in (state / "credentials").iterdir())
    assert names == ["acct.json"]


def test_waiter_gives_up_with_lock_timeout(tmp_path: Path) -> None:
    state, calls = tmp_path / "state", tmp_path / "calls"
    holder = start(state, calls, hold=60.0)
    try:
        wait_for_line(calls, time.monotonic() + 30)
        waiter = start(state, calls, hold=0.0, lock_timeout=0.5)
        _, err = waiter.communicate(timeout=30)
        assert waiter.returncode != 0
        assert "LockTimeoutError" in err and f"pid {holder.pid}" in err
    finally:
        holder.kill()
        holder.wait()
