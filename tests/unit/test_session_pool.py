"""AccountPool: least-recently-used rotation, quarantine, and reporting."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from chatgpt_browser.credentials import Credentials
from chatgpt_browser.errors import InvalidCredentialsError, NetworkError, RateLimitError
from chatgpt_browser.session.manager import SessionManager
from chatgpt_browser.session.pool import AccountPool, NoHealthyAccountError
from chatgpt_browser.session.store import FileStore


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def harvester(*, profile_dir: Path | None, reason: str, stale: Credentials | None) -> Credentials:
    return Credentials(
        site="http://127.0.0.1:9", user_agent="UA", session_token="s", session_expires_at=time.time() + 3600
    )


def pool_of(tmp_path: Path, n: int, clock: Clock, **kwargs: float) -> AccountPool:
    store = FileStore(tmp_path)
    managers = [
        SessionManager(store, harvester, key=f"k{i}", account=f"user{i}@example.com") for i in range(n)
    ]
    return AccountPool(managers, clock=clock, **kwargs)  # type: ignore[arg-type]


def test_rotation_spreads_calls(tmp_path: Path) -> None:
    clock = Clock()
    pool = pool_of(tmp_path, 3, clock)
    used = []
    for _ in range(6):
        clock.now += 1
        with pool.use() as source:
            used.append(source.key)
            assert source.get().account == source.account
    assert used == ["k0", "k1", "k2", "k0", "k1", "k2"]
    assert [h.uses for h in pool.health()] == [2, 2, 2]


def test_failing_account_is_quarantined_and_returns(tmp_path: Path) -> None:
    clock = Clock()
    pool = pool_of(tmp_path, 2, clock, max_failures=2, quarantine_seconds=60)
    bad = pool.managers[0]
    for _ in range(2):
        pool.report_failure(bad, InvalidCredentialsError("Wrong email or password"))
    health = {h.key: h for h in pool.health()}
    assert health["k0"].quarantined(clock.now) and "Wrong email" in (health["k0"].last_error or "")
    for _ in range(3):
        clock.now += 1
        assert pool.acquire().key == "k1"
    clock.now += 61
    assert {pool.acquire().key, pool.acquire().key} == {"k0", "k1"}


def test_use_records_failures_but_not_site_trouble(tmp_path: Path) -> None:
    clock = Clock()
    pool = pool_of(tmp_path, 1, clock, max_failures=1)
    with pytest.raises(NetworkError), pool.use():
        raise NetworkError("connection reset")
    assert pool.health()[0].failures == 0
    with pytest.raises(InvalidCredentialsError), pool.use():
        raise InvalidCredentialsError("nope")
    with pytest.raises(NoHealthyAccountError, match=r"quarantined.*nope"):
        pool.acquire()


def test_rate_limit_quarantines_for_retry_after(tmp_path: Path) -> None:
    clock = Clock()
    pool = pool_of(tmp_path, 2, clock, max_failures=5)
    pool.report_failure(pool.managers[1], RateLimitError("slow down", retry_after=30))
    assert pool.health()[1].quarantined_until == clock.now + 30


def test_success_resets_the_count(tmp_path: Path) -> None:
    clock = Clock()
    pool = pool_of(tmp_path, 1, clock, max_failures=2)
    m = pool.managers[0]
    pool.report_failure(m, InvalidCredentialsError("x"))
    pool.report_success(m)
    pool.report_failure(m, InvalidCredentialsError("x"))
    assert not pool.health()[0].quarantined(clock.now)


def test_empty_or_duplicate_pool_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        AccountPool([])
    same = SessionManager(FileStore(tmp_path), harvester, key="k")
    with pytest.raises(ValueError, match="distinct"):
        AccountPool([same, SessionManager(FileStore(tmp_path), harvester, key="k")])
