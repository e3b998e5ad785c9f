"""SessionManager logic against a real FileStore; the harvest and HTTP refresh are
counting callables (the manager is what is under test here, not the browser)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from chatgpt_browser.credentials import Credentials, CredentialSource
from chatgpt_browser.errors import (
    ClearanceRejectedError,
    HumanNeededError,
    LockTimeoutError,
    NetworkError,
    UnauthorizedError,
)
from chatgpt_browser.session.manager import SessionManager
from chatgpt_browser.session.store import FileStore


class Site:
    """Issues numbered bundles and counts how each was obtained."""

    def __init__(self, harvest_delay: float = 0.0) -> None:
        self.calls: Counter[str] = Counter()
        self.reasons: list[str] = []
        self.profiles: list[Path | None] = []
        self.harvest_delay = harvest_delay
        self.http_error: Exception | None = None
        self.harvest_error: Exception | None = None
        self._n = 1  # bundle 1 is the one tests put in the store themselves
        self._lock = threading.Lock()

    def _next(self) -> int:
        with self._lock:
            self._n += 1
            return self._n

    def harvester(self, *, profile_dir: Path | None, reason: str, stale: Credentials | None) -> Credentials:
        self.calls["browser"] += 1
        self.reasons.append(reason)
        self.profiles.append(profile_dir)
        time.sleep(self.harvest_delay)
        if self.harvest_error is not None:
            raise self.harvest_error
        n = self._next()
        return make(n, source="reclear" if stale is not None else "harvest")

    def refresher(self, credentials: Credentials) -> Credentials:
        self.calls["http"] += 1
        if self.http_error is not None:
            raise self.http_error
        n = self._next()
        now = time.time()
        return credentials.replace(
            session_token=f"session-{n}",
            access_token=f"access-{n}",
            access_token_expires_at=now + 3600,
            session_expires_at=now + 30 * 86400,
            source="refresh",
        )


def make(
    n: int, *, clearance_in: float = 1800, access_in: float = 3600, source: str = "harvest"
) -> Credentials:
    now = time.time()
    return Credentials(
        site="http://127.0.0.1:9",
        user_agent="UA",
        session_token=f"session-{n}",
        clearance_token=f"clearance-{n}",
        clearance_expires_at=now + clearance_in,
        session_expires_at=now + 30 * 86400,
        access_token=f"access-{n}",
        access_token_expires_at=now + access_in,
        source=source,
    )


@pytest.fixture
def site() -> Site:
    return Site()


def manager(tmp_path: Path, site: Site, **kwargs: object) -> SessionManager:
    options: dict[str, object] = {
        "key": "acct",
        "account": "a@example.com",
        "http_refresher": site.refresher,
        "profile_dir": tmp_path / "profile",
        "renew_margin": 300.0,
        "lock_timeout": 10.0,
    }
    options.update(kwargs)
    return SessionManager(FileStore(tmp_path / "state"), site.harvester, **options)  # type: ignore[arg-type]


def test_is_a_credential_source(tmp_path: Path, site: Site) -> None:
    assert isinstance(manager(tmp_path, site), CredentialSource)


def test_empty_store_harvests_once_then_serves_from_store(tmp_path: Path, site: Site) -> None:
    mgr = manager(tmp_path, site)
    first = mgr.get()
    assert site.calls == {"browser": 1}
    assert site.reasons == ["empty"] and site.profiles == [tmp_path / "profile"]
    assert first.account == "a@example.com"  # labelled with the account
    again = manager(tmp_path, site).get()  # a new process would do the same
    assert again == first and site.calls == {"browser": 1}
    assert mgr.last_renewal is not None and mgr.last_renewal.path == "browser"


def test_access_token_expiring_renews_over_http(tmp_path: Path, site: Site) -> None:
    mgr = manager(tmp_path, site)
    mgr.store.save("acct", make(1, access_in=60))
    renewed = mgr.get()
    assert site.calls == {"http": 1}
    assert renewed.access_token == "access-2" and renewed.clearance_token == "clearance-1"
    assert mgr.peek() == renewed
    assert mgr.last_renewal is not None and mgr.last_renewal.path == "http"


def test_clearance_expiring_needs_the_browser(tmp_path: Path, site: Site) -> None:
    mgr = manager(tmp_path, site)
    mgr.store.save("acct", make(1, clearance_in=100, access_in=60))
    renewed = mgr.get()
    assert site.calls == {"browser": 1}
    assert site.reasons == ["clearance-expiring"]
    assert renewed.clearance_token == "clearance-2"
    assert renewed.source == "reclear"


def test_min_ttl_beyond_margin_triggers_renewal(tmp_path: Path, site: Site) -> None:
    mgr = manager(tmp_path, site)
    mgr.store.save("acct", make(1, clearance_in=1000))
    assert mgr.get(min_ttl=600).clearance_token == "clearance-1"
    assert site.calls == {}
    assert mgr.get(min_ttl=1200).clearance_token == "clearance-2"
    assert site.calls == {"browser": 1}


def test_dead_session_over_http_falls_back_to_browser(tmp_path: Path, site: Site) -> None:
    mgr = manager(tmp_path, site)
    mgr.store.save("acct", make(1, access_in=10))
    site.http_error = UnauthorizedError("session expired")
    renewed = mgr.get()
    assert site.calls == {"http": 1, "browser": 1}
    assert renewed.session_token == "session-2"
    assert mgr.last_renewal is not None and mgr.last_renewal.path == "browser"


def test_challenge_over_http_falls_back_to_browser(tmp_path: Path, site: Site) -> None:
    mgr = manager(tmp_path, site)
    mgr.store.save("acct", make(1, access_in=10))
    site.http_error = ClearanceRejectedError("403 challenge", status_code=403)
    mgr.get()
    assert site.calls == {"http": 1, "browser": 1}


def test_network_error_is_not_hidden_and_store_is_untouched(tmp_path: Path, site: Site) -> None:
    mgr = manager(tmp_path, site)
    stored = make(1, access_in=10)
    mgr.store.save("acct", stored)
    site.http_error = NetworkError("connection refused")
    with pytest.raises(NetworkError):
        mgr.get()
    assert mgr.peek() == stored and site.calls == {"http": 1}


def test_harvest_failure_propagates_and_keeps_old_record(tmp_path: Path, site: Site) -> None:
    mgr = manager(tmp_path, site)
    stored = make(1, clearance_in=10)
    mgr.store.save("acct", stored)
    site.harvest_error = HumanNeededError("captcha")
    with pytest.raises(HumanNeededError):
        mgr.get()
    assert mgr.peek() == stored


def test_without_http_refresher_the_browser_does_it(tmp_path: Path, site: Site) -> None:
    mgr = manager(tmp_path, site, http_refresher=None)
    mgr.store.save("acct", make(1, access_in=10))
    mgr.get()
    assert site.calls == {"browser": 1}


def test_renew_403_re_clears_once_for_many_reporters(tmp_path: Path, site: Site) -> None:
    mgr = manager(tmp_path, site)
    stale = mgr.get()
    assert site.calls == {"browser": 1}
    fresh = mgr.renew("403-challenge", stale)
    assert site.calls == {"browser": 2} and site.reasons[-1] == "403-challenge"
    # a second caller reporting the same stale bundle gets the new one, no new harvest
    assert mgr.renew("403-challenge", stale) == fresh
    assert site.calls == {"browser": 2}


def test_renew_401_tries_http_first(tmp_path: Path, site: Site) -> None:
    mgr = manager(tmp_path, site)
    stale = mgr.get()
    renewed = mgr.renew("401", stale)
    assert site.calls == {"browser": 1, "http": 1}
    assert renewed.access_token != stale.access_token


def test_renew_without_stale_always_renews(tmp_path: Path, site: Site) -> None:
    mgr = manager(tmp_path, site)
    mgr.get()
    mgr.renew("login")
    mgr.renew("forced")
    assert site.calls == {"browser": 3} and site.reasons == ["empty", "login", "forced"]


def test_update_and_invalidate(tmp_path: Path, site: Site) -> None:
    mgr = manager(tmp_path, site)
    rotated = make(7)
    mgr.update(rotated)
    assert mgr.get() == rotated.replace(account="a@example.com")
    assert mgr.invalidate() is True
    assert mgr.peek() is None and mgr.invalidate() is False


def test_update_does_not_roll_back_a_newer_clearance(tmp_path: Path, site: Site) -> None:
    mgr = manager(tmp_path, site)
    old = make(1, clearance_in=600)
    newer = make(2, clearance_in=1800)
    mgr.store.save("acct", newer)
    mgr.update(old.replace(session_token="rotated"))  # a client still holding the old clearance
    assert mgr.peek() == newer
    mgr.update(newer.replace(session_token="rotated"))  # same clearance: the rotation is kept
    stored = mgr.peek()
    assert stored is not None and stored.session_token == "rotated"


def test_threads_single_flight(tmp_path: Path) -> None:
    site = Site(harvest_delay=0.3)
    mgr = manager(tmp_path, site)
    results: list[Credentials] = []
    errors: list[BaseException] = []

    def job() -> None:
        try:
            results.append(manager(tmp_path, site).get())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=job) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    assert site.calls == {"browser": 1}
    assert len(results) == 8 and len({r.session_token for r in results}) == 1
    assert mgr.peek() == results[0]


def test_lock_wait_is_bounded(tmp_path: Path, site: Site) -> None:
    mgr = manager(tmp_path, site, lock_timeout=0.3)
    with mgr.store.lock("acct", 1.0):
        holder_ready = threading.Event()
        failure: list[BaseException] = []

        def waiter() -> None:
            holder_ready.set()
            try:
                mgr.get()
            except BaseException as exc:
                failure.append(exc)

        t = threading.Thread(target=waiter)
        t.start()
        t.join(timeout=10)
    assert holder_ready.is_set()
    assert len(failure) == 1 and isinstance(failure[0], LockTimeoutError)
    assert site.calls == {}


def test_why_renew(tmp_path: Path, site: Site) -> None:
    mgr = manager(tmp_path, site)
    assert mgr.why_renew(None, 0) == "empty"
    assert mgr.why_renew(make(1), 300) is None
    assert mgr.why_renew(make(1, clearance_in=200), 300) == "clearance-expiring"
    assert mgr.why_renew(make(1, access_in=200), 300) == "access-token-expiring"
    no_access = make(1).replace(access_token=None, access_token_expires_at=None)
    assert mgr.why_renew(no_access, 300) is None


def test_bundle_from_another_egress_is_renewed_in_the_browser(tmp_path: Path, site: Site) -> None:
    # The clearance is bound to the IP that earned it: a bundle harvested without the
    # proxy now configured (or through another one) would only 403 from here.
    proxy = "http://user:pw@127.0.0.1:3128"
    FileStore(tmp_path / "state").save("acct", make(1))  # harvested with no proxy

    def mgr(configured: str | None) -> SessionManager:
        def harvest(*, profile_dir: Path | None, reason: str, stale: Credentials | None) -> Credentials:
            # Like the real harvest: the bundle records the egress it was earned through.
            bundle = site.harvester(profile_dir=profile_dir, reason=reason, stale=stale)
            return bundle.replace(proxy=configured)

        options: dict[str, object] = {"key": "acct", "http_refresher": site.refresher, "proxy": configured}
        return SessionManager(FileStore(tmp_path / "state"), harvest, **options)  # type: ignore[arg-type]

    renewed = mgr(proxy).get()
    assert site.calls == {"browser": 1} and "proxy" in site.reasons[0]
    assert renewed.proxy == proxy and renewed.session_token == "session-2"
    assert mgr(proxy).get() == renewed and site.calls == {"browser": 1}  # now it matches
    mgr(None).get()  # the proxy was removed again: another egress again
    assert site.calls == {"browser": 2}
    # A manager that was told nothing about the egress does not judge it.
    assert manager(tmp_path, site).get().session_token == "session-3"
    assert site.calls == {"browser": 2}


def test_on_stage_reaches_a_harvester_that_takes_it(tmp_path: Path, site: Site) -> None:
    seen: list[str] = []
    given: list[object] = []

    def harvester(
        *, profile_dir: Path | None, reason: str, stale: Credentials | None, on_stage: object
    ) -> Credentials:
        given.append(on_stage)
        assert callable(on_stage)
        on_stage("launch")
        return make(7)

    mgr = SessionManager(FileStore(tmp_path / "state"), harvester, key="acct", on_stage=seen.append)
    assert mgr.get().session_token == "session-7"
    assert seen == ["launch"] and given == [seen.append]
    # a plain harvester (no on_stage parameter) still works when one is given
    plain = manager(tmp_path / "other", site, on_stage=seen.append)
    assert plain.get().source == "harvest"


def test_waiter_returns_when_another_job_stores_a_fresh_bundle(tmp_path: Path, site: Site) -> None:
    # The lock stays held (a slow holder); the waiter still returns once the record lands.
    store = FileStore(tmp_path / "state")
    mgr = SessionManager(store, site.harvester, key="acct", lock_timeout=30.0)
    holder = store.lock("acct", 5)
    holder.acquire()
    try:
        result: list[Credentials] = []
        waiter = threading.Thread(target=lambda: result.append(mgr.get()))
        waiter.start()
        store.save("acct", make(42))
        waiter.join(timeout=30)
        assert not waiter.is_alive() and result[0].session_token == "session-42"
    finally:
        holder.release()
    assert site.calls["browser"] == 0
