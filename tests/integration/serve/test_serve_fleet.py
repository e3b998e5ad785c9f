"""Fleet behaviour: replicas sharing one Redis, single flight, the pool, and shutdown."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from serve_helpers import Serve, processes_with
from support.waiting import wait_until

from chatgpt_browser.emulator.process import Emulator

pytestmark = [pytest.mark.browser, pytest.mark.redis, pytest.mark.slow]


def test_two_replicas_and_twenty_clients_make_one_launch(
    redis_url: str, counting_chromium, start_serve: Callable[..., Serve], tmp_path: Path, make_emulator
) -> None:
    emu: Emulator = make_emulator(dwell=1.0)
    fleet = redis_url.rsplit("/", 1)[0] + "/5"
    flags = ("--store", "redis", "--redis-url", fleet)
    replicas = [
        start_serve(emu, str(counting_chromium.path), *flags, state=tmp_path / f"m{i}") for i in range(2)
    ]
    start = threading.Barrier(20)

    def client(index: int) -> str:
        start.wait(timeout=30)
        answer = requests.get(replicas[index % 2].url + "/v1/credentials", timeout=120)
        assert answer.status_code == 200, answer.text
        return str(answer.json()["session_token"])

    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        tokens = set(pool.map(client, range(20)))
    assert len(tokens) == 1
    assert counting_chromium.launches == 1
    stats = emu.admin.stats()
    assert stats["logins"]["ok"] == 1 and stats["challenges"]["passed"] == 1
    # A renewal that both replicas are asked for at once (a 403 seen by two workers): one.
    emu.admin.expire("clearance")
    stale = replicas[0].get("/v1/credentials").json()
    body = {"reason": "403-challenge", "stale": fingerprint(stale["session_token"])}
    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        answers = list(
            pool.map(lambda i: replicas[i % 2].post("/v1/credentials/renew", json=body), range(10))
        )
    assert {a.status_code for a in answers} == {200}
    assert len({a.json()["clearance_token"] for a in answers}) == 1
    assert counting_chromium.launches == 2
    assert sum(harvest_launches(r.get("/metrics").text) for r in replicas) == 2


def harvest_launches(metrics: str) -> float:
    for line in metrics.splitlines():
        if line.startswith('serve_browser_launches_total{purpose="harvest"}'):
            return float(line.split()[-1])
    return 0.0


def fingerprint(token: str) -> str:
    from chatgpt_browser.credentials import fingerprint as fp

    return fp(token)


def test_sigterm_mid_harvest_leaves_no_browser(
    chromium_executable: str, start_serve: Callable[..., Serve], tmp_path: Path, make_emulator
) -> None:
    emu: Emulator = make_emulator(dwell=30.0)  # the harvest is stuck in the challenge
    serve = start_serve(emu, chromium_executable, "--drain-timeout", "1")
    session = serve.post("/v1", json={"cmd": "sessions.create", "session": "warm"})
    assert session.json()["status"] == "ok"
    marker = f"--chatgpt-browser-serve={serve.info['pid']}-"
    assert processes_with(marker)  # the warm browser runs
    waiting = concurrent.futures.ThreadPoolExecutor(1).submit(serve.get, "/v1/credentials")
    state = str(tmp_path / "state0")
    wait_until(lambda: processes_with(f"--user-data-dir={state}"), 60, "the harvest's browser")
    os.kill(serve.process.pid, signal.SIGTERM)
    assert serve.terminate(timeout=60) == 0
    assert processes_with(state) == [] and processes_with(marker) == []
    try:
        answer = waiting.result(timeout=60)
        assert answer.status_code >= 500  # cut off by the shutdown, never a half bundle
    except requests.ConnectionError:
        pass  # the connection closed with the service: also no bundle


def test_the_pool_is_bounded_queues_and_closes_idle_browsers(
    emulator: Emulator, chromium_executable: str, start_serve: Callable[..., Serve]
) -> None:
    flags = ("--max-browsers", "1", "--contexts-per-browser", "1", "--browser-idle", "1")
    serve = start_serve(emulator, chromium_executable, *flags)
    page = emulator.url + "/auth/login"
    assert serve.post("/v1", json={"cmd": "sessions.create", "session": "only"}).json()["status"] == "ok"
    # The one slot holds a session: a request needing another context waits, then gives up.
    busy = serve.post("/v1", json={"cmd": "request.get", "url": page, "maxTimeout": 1500})
    assert busy.status_code == 500
    assert "all 1 browsers stayed busy" in busy.json()["message"]
    harvest = serve.get("/v1/credentials", params={"timeout": "2"})  # a harvest needs the slot too
    assert harvest.status_code == 503 and harvest.json()["type"] == "PoolBusyError"
    assert serve.post("/v1", json={"cmd": "sessions.destroy", "session": "only"}).json()["status"] == "ok"
    # The warm browser now has nothing to do: it gives its slot to the harvest.
    assert serve.get("/v1/credentials").status_code == 200
    status = serve.get("/v1/status").json()["browsers"]
    assert status == {"max": 1, "warm": 0, "harvesting": 0, "sessions": 0}
    assert serve.post("/v1", json={"cmd": "request.get", "url": page}).json()["status"] == "ok"
    wait_until(
        lambda: serve.get("/v1/status").json()["browsers"]["warm"] == 0, 30, "the idle browser to close"
    )
    marker = f"--chatgpt-browser-serve={serve.info['pid']}-"
    wait_until(lambda: not processes_with(marker), 30, "its processes to exit")
