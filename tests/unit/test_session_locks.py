"""FileLock between threads of one process (processes: tests/integration/session)."""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path

import pytest

from chatgpt_browser.errors import LockTimeoutError
from chatgpt_browser.session.locks import FileLock


def test_mutual_exclusion_between_threads(tmp_path: Path) -> None:
    path = tmp_path / "a.lock"
    inside = 0
    overlaps = 0
    guard = threading.Lock()

    def worker() -> None:
        nonlocal inside, overlaps
        for _ in range(20):
            with FileLock(path, timeout=10):
                with guard:
                    inside += 1
                    overlaps += inside > 1
                time.sleep(0.001)
                with guard:
                    inside -= 1

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert overlaps == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_timeout_names_the_holder(tmp_path: Path) -> None:
    path = tmp_path / "a.lock"
    with FileLock(path, timeout=1):
        failure: list[BaseException] = []

        def waiter() -> None:
            try:
                with FileLock(path, timeout=0.2):
                    pass
            except BaseException as exc:
                failure.append(exc)

        t = threading.Thread(target=waiter)
        t.start()
        t.join(timeout=10)
    assert len(failure) == 1 and isinstance(failure[0], LockTimeoutError)
    assert "this process" in str(failure[0]) or f"pid {os.getpid()}" in str(failure[0])


def test_release_is_idempotent_and_clears_owner(tmp_path: Path) -> None:
    lock = FileLock(tmp_path / "a.lock", timeout=1)
    lock.acquire()
    assert str(os.getpid()) in (tmp_path / "a.lock").read_text()
    lock.release()
    lock.release()
    assert (tmp_path / "a.lock").read_text() == ""
    with FileLock(tmp_path / "a.lock", timeout=0.1):  # free again
        pass


def test_missing_folder_is_a_store_error(tmp_path: Path) -> None:
    from chatgpt_browser.errors import StoreError

    with (
        pytest.raises(StoreError, match="cannot open lock file"),
        FileLock(tmp_path / "nope" / "a.lock", timeout=1),
    ):
        pass
