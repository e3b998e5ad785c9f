"""Security of the service: API key, URL allow-list (SSRF), redirects, rate limit, and
refusing to listen on a public address without a key. Targets are loopback only."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from serve_helpers import Recorder, Serve, serve_args, serve_env

from chatgpt_browser.emulator.process import Emulator

pytestmark = [pytest.mark.browser]


def test_api_key_is_required_and_compared(
    shared_emulator: Emulator, chromium_executable: str, start_serve: Callable[..., Serve], tmp_path: Path
) -> None:
    env = serve_env(shared_emulator, tmp_path, CHATGPT_BROWSER_API_KEY="k3y-for-tests")
    serve = start_serve(shared_emulator, chromium_executable, env=env)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"X-API-Key": "k3y-for-test"}):
        listing = serve.post("/v1", json={"cmd": "sessions.list"}, headers=headers)
        for answer in (serve.get("/v1/status", headers=headers), listing):
            assert answer.status_code == 401, answer.text
            assert answer.json()["error"] == "missing or wrong API key"
            assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert serve.get("/metrics").status_code == 401
    assert serve.get("/health").status_code == 200  # the liveness probe carries no key
    assert serve.get("/v1/status", headers={"Authorization": "Bearer k3y-for-tests"}).status_code == 200
    assert serve.get("/v1/status", headers={"X-API-Key": "k3y-for-tests"}).status_code == 200
    assert "k3y-for-tests" not in serve.stderr()


def test_refuses_a_public_address_without_a_key(shared_emulator: Emulator, tmp_path: Path) -> None:
    args = serve_args(shared_emulator, tmp_path / "state", "/usr/bin/chromium", "--host", "0.0.0.0")
    run = subprocess.run(
        [sys.executable, "-m", "chatgpt_browser", "serve", *args],
        env=serve_env(shared_emulator, tmp_path), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 2
    assert run.stdout == ""
    (line,) = run.stderr.strip().splitlines()
    assert "ConfigError: refusing to listen on 0.0.0.0 without an API key" in line


def test_flaresolverr_fetches_only_allowed_hosts(
    shared_emulator: Emulator,
    chromium_executable: str,
    start_serve: Callable[..., Serve],
    recorder: Recorder,
) -> None:
    serve = start_serve(shared_emulator, chromium_executable)
    site_port = shared_emulator.url.rsplit(":", 1)[1]
    refused = [
        "file:///etc/passwd",
        "ftp://127.0.0.1/",
        "javascript:alert(1)",
        recorder.url + "/",  # another local port
        f"http://localhost:{recorder.port}/",
        serve.url + "/v1/status",  # the service itself
        shared_emulator.auth_url + "/authorize",  # the site's host, another port
        "http://169.254.169.254/latest/meta-data/",
        f"http://127.0.0.1:{site_port}@127.0.0.1:{recorder.port}/",
    ]
    for url in refused:
        answer = serve.post("/v1", json={"cmd": "request.get", "url": url})
        assert answer.status_code == 403, (url, answer.text)
        assert answer.json()["status"] == "error"
        assert "Error: " in answer.json()["message"]
    assert recorder.seen == []


def test_a_redirect_to_a_foreign_host_is_not_followed(
    shared_emulator: Emulator,
    chromium_executable: str,
    start_serve: Callable[..., Serve],
    tmp_path: Path,
) -> None:
    allowed, foreign = Recorder(), Recorder()
    try:
        serve = start_serve(shared_emulator, chromium_executable, "--allow-host", f"127.0.0.1:{allowed.port}")
        page = serve.post("/v1", json={"cmd": "request.get", "url": allowed.url + "/page"}).json()
        assert page["status"] == "ok"
        target = f"{allowed.url}/redirect?to={foreign.url}/steal"
        answer = serve.post("/v1", json={"cmd": "request.get", "url": target})
        assert answer.status_code == 500
        assert "not followed" in answer.json()["message"]
        assert foreign.seen == []  # neither the request nor the allowed host's cookie left
        paths = [seen["path"] for seen in allowed.seen if seen["path"] != "/favicon.ico"]
        assert paths == ["/page", f"/redirect?to={foreign.url}/steal"]
    finally:
        allowed.close()
        foreign.close()


def test_rate_limit_and_accounts_from_the_config_file(
    shared_emulator: Emulator, chromium_executable: str, start_serve: Callable[..., Serve], tmp_path: Path
) -> None:
    config = tmp_path / "serve.toml"
    config.write_text(
        "[serve]\nrate_limit = 0.01\nrate_burst = 3\n\n"
        '[[accounts]]\nemail = "second@example.com"\npassword_env = "SECOND_PASSWORD"\n'
    )
    serve = start_serve(shared_emulator, chromium_executable, "--config", str(config))
    assert serve.info["accounts"] == [shared_emulator.account.email, "second@example.com"]
    codes = [serve.get("/health").status_code for _ in range(5)]
    assert codes == [200] * 5  # probes are not limited
    statuses = [serve.get("/v1/status").status_code for _ in range(5)]
    assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429]
    limited = serve.get("/v1/status")
    assert limited.headers["Retry-After"] == "1" and limited.json()["type"] == "RateLimited"


def test_a_missing_config_file_is_a_one_line_error(shared_emulator: Emulator) -> None:
    command = ["serve", "--url", shared_emulator.url, "--config", "/nonexistent.toml"]
    run = subprocess.run(
        [sys.executable, "-m", "chatgpt_browser", *command], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 2
    assert run.stderr.strip() == "chatgpt-browser: ConfigError: config file /nonexistent.toml does not exist"
