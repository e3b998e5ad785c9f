"""RedisStore and RedisLock against a real redis-server started by the tests."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from cryptography.fernet import Fernet
from support.waiting import wait_until

from chatgpt_browser.credentials import Credentials
from chatgpt_browser.errors import LockTimeoutError, StoreError
from chatgpt_browser.session.locks import RedisLock
from chatgpt_browser.session.manager import SessionManager
from chatgpt_browser.session.redis_store import RedisStore
from chatgpt_browser.session.store import CredentialStore

pytestmark = pytest.mark.redis


def bundle(n: int = 1, *, clearance_in: float = 1800, session_in: float = 86400) -> Credentials:
    now = time.time()
    return Credentials(
        site="http://127.0.0.1:9",
        user_agent="UA",
        session_token=f"session-{n}",
        clearance_token=f"clearance-{n}",
        clearance_expires_at=now + clearance_in,
        session_expires_at=now + session_in,
        account="a@example.com",
    )


@pytest.fixture
def store(redis_url: str) -> Iterator[RedisStore]:
    store = RedisStore(redis_url, namespace=f"test-{uuid.uuid4().hex[:8]}", lock_ttl=1.0)
    yield store
    for key in store.client.scan_iter(match=store.namespace + ":*"):
        store.client.delete(key)
    store.close()


def test_round_trip_namespaced_with_ttl(store: RedisStore) -> None:
    assert isinstance(store, CredentialStore)
    assert store.load("k") is None
    original = bundle()
    store.save("k", original)
    assert store.load("k") == original
    assert store.list_keys() == ["k"]
    raw_keys = sorted(k.decode() for k in store.client.scan_iter(match=store.namespace + ":*"))
    assert raw_keys == [f"{store.namespace}:cred:k"]
    ttl = store.client.ttl(f"{store.namespace}:cred:k")
    assert 86000 < ttl <= 86400  # lives as long as the longest-lived part (the session)
    assert store.delete("k") is True and store.load("k") is None


def test_expired_bundle_is_not_stored(store: RedisStore) -> None:
    store.save("k", bundle(clearance_in=-10, session_in=-5))
    assert store.load("k") is None


def test_corrupt_record_is_renamed_aside(store: RedisStore) -> None:
    store.client.set(f"{store.namespace}:cred:k", b'{"version": 1, "credentials": ')
    assert store.load("k") is None
    aside = [k.decode() for k in store.client.scan_iter(match=f"{store.namespace}:cred:k:corrupt:*")]
    assert len(aside) == 1
    assert store.client.get(aside[0]) == b'{"version": 1, "credentials": '
    assert store.list_keys() == []


def test_encryption(redis_url: str) -> None:
    key = Fernet.generate_key().decode()
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    store = RedisStore(redis_url, namespace=namespace, key=key)
    store.save("k", bundle())
    raw = store.client.get(f"{namespace}:cred:k")
    assert raw.startswith(b"gAAAAA") and b"session-1" not in raw
    assert RedisStore(redis_url, namespace=namespace, key=key).load("k") == store.load("k")
    with pytest.raises(StoreError, match="encrypted"):
        RedisStore(redis_url, namespace=namespace).load("k")
    store.delete("k")
    store.close()


def test_unreachable_redis_is_a_store_error() -> None:
    with socket.socket() as sock:  # a bound but not listening port: connection refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        store = RedisStore(f"redis://127.0.0.1:{port}/0", socket_timeout=1)
        with pytest.raises(StoreError, match="Redis"):
            store.load("k")


def test_lock_excludes_and_times_out(store: RedisStore) -> None:
    held = store.lock("k", timeout=1)
    with held, pytest.raises(LockTimeoutError, match="Redis lock"), store.lock("k", timeout=0.3):
        pass
    with store.lock("k", timeout=1):  # free again after release
        pass


def test_watchdog_keeps_a_long_holder(store: RedisStore) -> None:
    # lock_ttl is 1 s: the lock outlives it only because the watchdog extends it. Wait
    # until the key's remaining lifetime has gone back up twice (two extensions seen).
    key = f"{store.namespace}:lock:k"
    with store.lock("k", timeout=1):
        seen = {"last": store.client.pttl(key), "extensions": 0}

        def extended_twice() -> bool:
            now = store.client.pttl(key)
            if now > seen["last"]:
                seen["extensions"] += 1
            seen["last"] = now
            return seen["extensions"] >= 2

        wait_until(extended_twice, 30, "two watchdog extensions", interval=0.02)
        assert store.client.exists(key)
        with pytest.raises(LockTimeoutError), store.lock("k", timeout=0.2):
            pass


def test_crashed_holder_expires(store: RedisStore) -> None:
    # A holder that dies stops extending; simulate it with a raw lock nobody extends.
    raw = store.client.lock(f"{store.namespace}:lock:k", timeout=1.0)
    assert raw.acquire(blocking=False)
    started = time.monotonic()
    with store.lock("k", timeout=5):
        waited = time.monotonic() - started
    assert 0.5 < waited < 3.0


def test_manager_single_flight_across_threads(store: RedisStore, tmp_path: Path) -> None:
    calls: list[str] = []

    def harvester(*, profile_dir: Path | None, reason: str, stale: Credentials | None) -> Credentials:
        calls.append(reason)
        time.sleep(0.5)
        return bundle(len(calls))

    results: list[Credentials] = []

    def job() -> None:
        results.append(SessionManager(store, harvester, key="k", lock_timeout=10).get())

    threads = [threading.Thread(target=job) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert calls == ["empty"]
    assert len(results) == 6 and {r.session_token for r in results} == {"session-1"}


def test_redis_lock_object_directly(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    name = f"test-{uuid.uuid4().hex[:8]}:lock"
    lock = RedisLock(client, name, timeout=1, ttl=5)
    with lock:
        assert 0 < client.pttl(name) <= 5000
    assert not client.exists(name)
    client.close()
