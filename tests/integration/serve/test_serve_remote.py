"""A worker with no browser gets its credentials, and its 401/403 recovery, from `serve`."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from serve_helpers import Serve

from chatgpt_browser.emulator.process import Emulator

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def ask(emu: Emulator, serve: Serve, home: Path, prompt: str) -> subprocess.CompletedProcess[str]:
    """`chatgpt-browser ask` on a "machine" whose Chromium path leads nowhere."""
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "CHATGPT_BROWSER_API_KEY": "fleet-key"}
    return subprocess.run(
        [sys.executable, "-m", "chatgpt_browser", "ask", prompt, "--json", "--url", emu.url,
         "--email", emu.account.email, "--store", serve.url, "--executable", str(home / "no-chromium"),
         "--state-dir", str(home / "state")],
        capture_output=True, text=True, timeout=180, env=env,
    )  # fmt: skip


def test_worker_without_browser_recovers_from_401_and_403_through_the_service(
    emulator: Emulator, counting_chromium, start_serve: Callable[..., Serve], tmp_path: Path
) -> None:
    serve = start_serve(emulator, str(counting_chromium.path), CHATGPT_BROWSER_API_KEY="fleet-key")
    worker = tmp_path / "worker"
    worker.mkdir()
    first = ask(emulator, serve, worker, "hello")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["response"]
    assert counting_chromium.launches == 1  # the service's harvest

    before = stored(serve)
    emulator.admin.revoke("access_token")  # the worker's next call gets a real 401
    refreshed = ask(emulator, serve, worker, "hello again")
    assert refreshed.returncode == 0, refreshed.stderr
    assert counting_chromium.launches == 1  # the worker refreshed the token with the live session
    after = stored(serve)  # ... and handed the refreshed bundle back to the service
    assert after["access_token"] != before["access_token"] and after["session"] != before["session"]

    emulator.admin.revoke("session")  # now the session itself is dead: a 401 only a login fixes
    emulator.admin.revoke("access_token")
    after_401 = ask(emulator, serve, worker, "hello once more")
    assert after_401.returncode == 0, after_401.stderr
    assert counting_chromium.launches == 2  # the service logged in again
    status = serve.get("/v1/status", headers=KEY).json()["accounts"][0]
    assert status["last_renewal"]["reason"] == "401" and status["last_renewal"]["path"] == "browser"

    emulator.admin.expire("clearance")  # and now a real 403 challenge
    after_403 = ask(emulator, serve, worker, "and again")
    assert after_403.returncode == 0, after_403.stderr
    assert counting_chromium.launches == 3  # re-cleared by the service's browser
    status = serve.get("/v1/status", headers=KEY).json()["accounts"][0]
    assert status["last_renewal"]["path"] == "browser" and status["last_renewal"]["reason"] == "403-challenge"
    assert not (worker / "state" / "profiles").exists()  # nothing browser-side on the worker


KEY = {"Authorization": "Bearer fleet-key"}


def stored(serve: Serve) -> dict[str, str]:
    credentials: dict[str, str] = serve.get("/v1/status", headers=KEY).json()["accounts"][0]["credentials"]
    return credentials
