"""The machine-local single flight (real files and flock, threads as the jobs)."""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path

from support.bundles import make_bundle
from support.waiting import wait_until

from chatgpt_browser.credentials import Credentials
from chatgpt_browser.session.flight import LocalFlight


def always(_: Credentials) -> bool:
    return True


def _age(flight: LocalFlight, account: str, seconds: float = 60.0) -> None:
    """Make the copy look confirmed `seconds` ago (instead of sleeping)."""
    then = time.time() - seconds
    os.utime(flight.copies.path(account), (then, then))


class WatchedFlight(LocalFlight):
    """Records which threads are waiting (they look for a copy while they wait)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.waiting: set[int] = set()

    def _confirmed_since(self, account: str, since: float) -> Credentials | None:
        self.waiting.add(threading.get_ident())
        return super()._confirmed_since(account, since)


def test_a_job_that_did_not_wait_asks_the_shared_store_and_keeps_a_private_copy(tmp_path: Path) -> None:
    flight = LocalFlight(tmp_path / "flight")
    old = make_bundle(1)
    flight.run("acct", 5.0, always, lambda: old)
    _age(flight, "acct")  # confirmed before the next job started
    new = make_bundle(2)
    assert flight.run("acct", 5.0, always, lambda: new) == new  # the shared store is the truth
    copy = flight.copies.path("acct")
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert flight.copies.load("acct") == new


def test_jobs_that_waited_share_the_answer_of_the_job_before_them(tmp_path: Path) -> None:
    flight = WatchedFlight(tmp_path / "flight")
    answer = make_bundle(3)
    release = threading.Event()
    fetches: list[str] = []
    results: list[Credentials] = []

    def slow_fetch() -> Credentials:
        fetches.append("leader")
        assert release.wait(10)
        return answer

    def counting_fetch() -> Credentials:
        fetches.append("waiter")
        return make_bundle(99)

    leader = threading.Thread(target=lambda: results.append(flight.run("acct", 10.0, always, slow_fetch)))
    leader.start()
    wait_until(lambda: fetches == ["leader"], 5, "the first job to ask the shared store")
    waiters = [
        threading.Thread(target=lambda: results.append(flight.run("acct", 10.0, always, counting_fetch)))
        for _ in range(5)
    ]
    for thread in waiters:
        thread.start()
    wait_until(lambda: len(flight.waiting) >= 6, 5, "five jobs waiting behind the first")
    release.set()
    for thread in [leader, *waiters]:
        thread.join(10)
    assert fetches == ["leader"]  # the five waiters never asked the shared store
    assert results == [answer] * 6


def test_a_waiter_asks_itself_when_the_answer_is_not_fresh_enough_for_it(tmp_path: Path) -> None:
    flight = WatchedFlight(tmp_path / "flight")
    short = make_bundle(4, clearance_in=60)
    release = threading.Event()
    started = threading.Event()

    def leader_fetch() -> Credentials:
        started.set()
        assert release.wait(10)
        return short

    leader = threading.Thread(target=lambda: flight.run("acct", 10.0, always, leader_fetch))
    leader.start()
    assert started.wait(5)
    longer = make_bundle(5)
    needs_ten_minutes: list[Credentials] = []
    waiter = threading.Thread(
        target=lambda: needs_ten_minutes.append(
            flight.run("acct", 10.0, lambda c: not c.expires_within(600, time.time()), lambda: longer)
        )
    )
    waiter.start()
    wait_until(lambda: len(flight.waiting) >= 2, 5, "the second job waiting")
    release.set()
    leader.join(10)
    waiter.join(10)
    assert needs_ten_minutes == [longer]


def test_a_damaged_or_symlinked_copy_is_ignored_and_replaced(tmp_path: Path) -> None:
    flight = LocalFlight(tmp_path / "flight")
    flight.run("acct", 5.0, always, lambda: make_bundle(6))
    copy = flight.copies.path("acct")
    copy.write_bytes(b"{not json")
    os.utime(copy, (time.time() + 5, time.time() + 5))  # "confirmed" after any job started
    fixed = make_bundle(7)
    assert flight.run("acct", 5.0, always, lambda: fixed) == fixed
    assert flight.copies.load("acct") == fixed
    target = tmp_path / "elsewhere.json"
    target.write_text("outside")
    copy.unlink()
    copy.symlink_to(target)
    again = make_bundle(8)
    assert flight.run("acct", 5.0, always, lambda: again) == again
    assert target.read_text() == "outside" and not copy.is_symlink()


def test_an_unchanged_answer_only_renews_the_copy_time(tmp_path: Path) -> None:
    flight = LocalFlight(tmp_path / "flight")
    same = make_bundle(9)
    flight.run("acct", 5.0, always, lambda: same)
    copy = flight.copies.path("acct")
    _age(flight, "acct")
    inode, before = copy.stat().st_ino, copy.stat().st_mtime
    flight.run("acct", 5.0, always, lambda: same)
    assert copy.stat().st_ino == inode and copy.stat().st_mtime > before  # touched, not rewritten
    flight.forget("acct")
    assert not copy.exists()
