"""The scale-out path end to end: several "machines" (separate state folders, separate
processes) share one real Redis and harvest in a remote Chromium over CDP."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from chatgpt_browser.emulator.process import Emulator
from chatgpt_browser.session.redis_store import RedisStore
from chatgpt_browser.session.store import account_key

pytestmark = [pytest.mark.redis, pytest.mark.browser, pytest.mark.slow]


def machine_job(emu: Emulator, redis_url: str, cdp_url: str, machine: Path) -> subprocess.Popen[str]:
    env = {
        "HOME": str(machine),
        "PATH": "/usr/bin:/bin",
        "DEMO_PASSWORD": emu.account.password,
        "CHATGPT_BROWSER_STORE": "redis",
        "CHATGPT_BROWSER_REDIS_URL": redis_url,
        "CHATGPT_BROWSER_CDP_URL": cdp_url,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "chatgpt_browser", "session", "--url", emu.url, "--email", emu.account.email,
         "--state-dir", str(machine / "state"), "--password-env", "DEMO_PASSWORD"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip


def test_machines_share_one_harvest_through_redis_and_cdp(
    redis_url: str, remote_chromium: str, tmp_path: Path
) -> None:
    fleet_url = redis_url.rsplit("/", 1)[0] + "/7"  # a database of its own
    with Emulator(dwell=0.3) as emu:
        jobs = [machine_job(emu, fleet_url, remote_chromium, tmp_path / f"machine{i}") for i in range(4)]
        bundles = []
        for job in jobs:
            out, err = job.communicate(timeout=180)
            assert job.returncode == 0, err
            bundles.append(json.loads(out))
        stats = emu.admin.stats()
        assert stats["logins"]["ok"] == 1
        assert stats["challenges"]["passed"] == 1
        assert len({b["session_token"] for b in bundles}) == 1
        status = subprocess.run(
            [sys.executable, "-m", "chatgpt_browser", "status", "--json", "--store", "redis",
             "--redis-url", fleet_url, "--state-dir", str(tmp_path / "machine0" / "state")],
            capture_output=True, text=True, timeout=60, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
        assert status.returncode == 0, status.stderr
        listing = json.loads(status.stdout)
        assert listing["store"].startswith("redis://127.0.0.1:")
        assert [row["account"] for row in listing["accounts"]] == [emu.account.email]
        store = RedisStore(client=redis.Redis.from_url(fleet_url))
        key = account_key(emu.url, emu.account.email)
        stored = store.load(key)
        assert stored is not None and stored.session_token == bundles[0]["session_token"]
        assert "HeadlessChrome" not in stored.user_agent
        assert store.client.ttl(f"{store.namespace}:cred:{key}") > 86400  # the session's lifetime
        store.delete(key)
        store.close()
    # no machine kept a local browser profile: the farm's browser did the work
    assert not any((tmp_path / f"machine{i}" / "state" / "profiles").exists() for i in range(4))
