"""The native API against the emulator, a real Chromium and the file store."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from serve_helpers import Serve

from chatgpt_browser.emulator.process import Emulator

pytestmark = [pytest.mark.browser]


def test_credentials_are_harvested_once_then_served_from_the_store(
    emulator: Emulator, counting_chromium, start_serve: Callable[..., Serve]
) -> None:
    serve = start_serve(emulator, str(counting_chromium.path))
    assert serve.info["pid"] == serve.process.pid
    first = serve.get("/v1/credentials", params={"min_ttl": "600"})
    assert first.status_code == 200, first.text
    assert first.headers["Cache-Control"] == "no-store"
    bundle = first.json()
    assert (
        bundle["account"] == emulator.account.email and bundle["session_token"] and bundle["clearance_token"]
    )
    assert counting_chromium.launches == 1
    again = serve.get("/v1/credentials", params={"account": emulator.account.email}).json()
    assert again["session_token"] == bundle["session_token"]
    assert counting_chromium.launches == 1  # fresh in the store: no browser
    cookie = serve.get("/v1/credentials", params={"format": "cookie-header"})
    assert cookie.headers["Content-Type"].startswith("text/plain")
    assert f"cf_clearance={bundle['clearance_token']}" in cookie.text
    netscape = serve.get("/v1/credentials", params={"format": "netscape"}).text
    assert "# Netscape HTTP Cookie File" in netscape and bundle["session_token"] in netscape
    env_text = serve.get("/v1/credentials", params={"format": "env"}).text
    assert "USER_AGENT" in env_text and bundle["user_agent"] in env_text
    stats = emulator.admin.stats()
    assert stats["logins"]["ok"] == 1

    status = serve.get("/v1/status").json()
    (row,) = status["accounts"]
    assert row["account"] == emulator.account.email
    assert row["credentials"]["session"].startswith("sha256:")
    assert row["last_renewal"]["path"] == "browser"
    assert row["quarantined_for"] is None
    assert status["browsers"]["max"] == 2

    metrics = serve.get("/metrics").text
    assert 'serve_browser_launches_total{purpose="harvest"} 1.0' in metrics
    assert 'serve_renewals_total{outcome="ok",path="browser"} 1.0' in metrics
    assert "serve_harvest_seconds_bucket" in metrics and "serve_queue_depth" in metrics

    assert serve.terminate() == 0
    log = serve.stderr()
    for secret in (bundle["session_token"], bundle["clearance_token"], bundle["access_token"]):
        assert secret not in log
    lines = [line for line in log.splitlines() if "GET /v1/credentials" in line]
    assert len(lines) == 5
    assert all("account=sha256:" in line and "outcome=ok" in line and "ms=" in line for line in lines)


def test_forced_renewal_and_logout(
    emulator: Emulator, chromium_executable: str, start_serve: Callable[..., Serve]
) -> None:
    serve = start_serve(emulator, chromium_executable)
    bundle = serve.get("/v1/credentials").json()
    renewed = serve.post("/v1/credentials/renew", json={"reason": "forced"})
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["clearance_token"] != bundle["clearance_token"]  # re-cleared in the browser
    # A renewal request naming a bundle that was already replaced gets the new one, no browser.
    stale = serve.post("/v1/credentials/renew", json={"reason": "401", "stale": "sha256:0000000000"})
    assert stale.json()["clearance_token"] == renewed.json()["clearance_token"]
    assert emulator.admin.stats()["challenges"]["passed"] == 2
    gone = serve.get("/v1/status").json()["accounts"][0]["last_renewal"]
    assert gone["reason"] == "forced"
    deleted = requests_delete(serve, emulator.account.email)
    assert deleted == {
        "account": emulator.account.email,
        "removed": ["stored credentials", "browser profile"],
    }
    assert serve.get("/v1/status").json()["accounts"][0]["credentials"] is None


def requests_delete(serve: Serve, account: str) -> dict[str, object]:
    import requests

    answer = requests.delete(serve.url + "/v1/credentials", params={"account": account}, timeout=60)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_bad_requests_get_clear_errors(
    shared_emulator: Emulator, counting_chromium, start_serve: Callable[..., Serve]
) -> None:
    serve = start_serve(shared_emulator, str(counting_chromium.path))
    cases = [
        (serve.get("/v1/credentials", params={"min_ttl": "soon"}), 400, "min_ttl"),
        (serve.get("/v1/credentials", params={"min_ttl": "-1"}), 400, "min_ttl"),
        (serve.get("/v1/credentials", params={"format": "xml"}), 400, "format"),
        (serve.get("/v1/credentials", params={"account": "nobody@example.com"}), 404, "no such account"),
        (serve.post("/v1/credentials/renew", data=b"{not json"), 400, "not valid JSON"),
        (serve.post("/v1/credentials/renew", json=["a"]), 400, "JSON object"),
        (serve.post("/v1/credentials/renew", json={"reason": "drop table"}), 400, "reason"),
        (serve.post("/v1/credentials/renew", data=b"x" * (1024 * 1024 + 10)), 413, "over"),
    ]
    for response, status, words in cases:
        assert response.status_code == status, response.text
        assert words in response.json()["error"]
    assert serve.get("/health").json() == {"status": "ok"}
    ready = serve.get("/ready").json()
    assert ready["ready"] is True and ready["checks"]["store"] == "ok"
    assert counting_chromium.launches == 0  # none of them reached a browser


def test_several_accounts_each_with_its_own_password(
    make_emulator, chromium_executable: str, start_serve: Callable[..., Serve], tmp_path
) -> None:
    emu: Emulator = make_emulator(accounts=[{"email": "second@example.com", "password": "second-secret"}])
    config = tmp_path / "accounts.toml"
    config.write_text(
        '[[accounts]]\nemail = "second@example.com"\npassword_env = "SECOND_PASSWORD"\n\n'
        '[[accounts]]\nemail = "third@example.com"\npassword_env = "THIRD_PASSWORD"\n'
    )
    # The main account's password comes from CHATGPT_BROWSER_PASSWORD: it must not leak to the others.
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "SECOND_PASSWORD": "second-secret",
           "CHATGPT_BROWSER_PASSWORD": emu.account.password}  # fmt: skip
    serve = start_serve(emu, chromium_executable, "--config", str(config), env=env)
    assert serve.info["accounts"] == [emu.account.email, "second@example.com", "third@example.com"]
    second = serve.get("/v1/credentials", params={"account": "second@example.com"})
    assert second.status_code == 200, second.text
    assert second.json()["account"] == "second@example.com"
    third = serve.get("/v1/credentials", params={"account": "third@example.com"})
    assert third.status_code == 400 and "THIRD_PASSWORD is not set" in third.json()["error"]
    unnamed = serve.get("/v1/credentials")
    assert unnamed.status_code == 404 and "several accounts" in unnamed.json()["error"]
    assert emu.admin.stats()["logins"]["ok"] == 1
