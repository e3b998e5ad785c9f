"""The machine-local single flight in front of Redis, with the real CLI and redis-server.

Jobs of one machine that wait behind another take its answer without importing
redis-py (the CPU that made a 20-job storm 1.6x one harvest); a job that did not wait
asks Redis, which stays the truth.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from cli_helpers import cli_env
from support.bundles import make_bundle

from chatgpt_browser.session.flight import LocalFlight
from chatgpt_browser.session.redis_store import RedisStore
from chatgpt_browser.session.store import account_key

pytestmark = pytest.mark.redis

URL = "http://127.0.0.1:9"  # never contacted: every answer below is fresh


def session_job(home: Path, email: str, redis_url: str) -> subprocess.Popen[str]:
    argv = [
        sys.executable, "-X", "importtime", "-m", "chatgpt_browser", "session", "--url", URL,
        "--email", email, "--state-dir", str(home / "state"), "--store", "redis", "--redis-url", redis_url,
    ]  # fmt: skip
    return subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env(home)
    )


def finish(job: subprocess.Popen[str]) -> tuple[str, bool]:
    """(session token printed, whether redis-py was imported)."""
    out, err = job.communicate(timeout=60)
    assert job.returncode == 0, err[-2000:]
    imported = {
        line.rsplit("|", 1)[-1].strip() for line in err.splitlines() if line.startswith("import time:")
    }
    return str(json.loads(out)["session_token"]), "redis" in imported


def test_waiting_jobs_take_the_machines_answer_without_redis_and_others_ask_redis(
    tmp_path: Path, redis_url: str
) -> None:
    email = f"flight-{uuid.uuid4().hex[:8]}@example.com"
    key = account_key(URL, email)
    in_redis = make_bundle(1, site=URL, account=email)
    store = RedisStore(redis_url)
    store.save(key, in_redis)
    flight = LocalFlight(tmp_path / "state" / "flight")
    from_this_machine = make_bundle(2, site=URL, account=email)
    try:
        # This test is the job in flight: it holds the machine's turn while three jobs queue.
        with flight.copies.lock(key, timeout=5):
            flight.copies.save(key, from_this_machine)
            confirmed = time.time() + 30  # confirmed after the queued jobs started
            os.utime(flight.copies.path(key), (confirmed, confirmed))
            jobs = [session_job(tmp_path, email, redis_url) for _ in range(3)]
            results = [finish(job) for job in jobs]
        assert results == [(from_this_machine.session_token, False)] * 3

        # A copy confirmed before a job started is not its answer: that job asks Redis.
        earlier = time.time() - 60
        os.utime(flight.copies.path(key), (earlier, earlier))
        token, imported_redis = finish(session_job(tmp_path, email, redis_url))
        assert (token, imported_redis) == (in_redis.session_token, True)
        assert flight.copies.load(key) == in_redis  # kept for the jobs that queue behind it

        # Logging out forgets this machine's copy too.
        argv = [
            sys.executable, "-m", "chatgpt_browser", "logout", "--url", URL, "--email", email,
            "--state-dir", str(tmp_path / "state"), "--store", "redis", "--redis-url", redis_url,
        ]  # fmt: skip
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=cli_env(tmp_path))
        assert done.returncode == 0, done.stderr
        assert not flight.copies.path(key).exists() and store.load(key) is None
    finally:
        store.delete(key)
        store.close()
