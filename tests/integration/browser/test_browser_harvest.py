"""harvest() against the real emulator with Debian's Chromium."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from browser_helpers import (
    CAPTCHA_ACCOUNT,
    TOTP_ACCOUNT,
    ForwardProxy,
    chromium_pids,
    live_members,
    login_harvest,
    process_groups,
)
from support.waiting import wait_until

from chatgpt_browser import (
    BlockedError,
    BrowserCrashedError,
    ChallengeNotClearedError,
    Credentials,
    HumanNeededError,
    InvalidCredentialsError,
    LoginFailedError,
    NetworkError,
    SiteAtCapacityError,
    harvest,
)
from chatgpt_browser.browser.login import Captcha
from chatgpt_browser.demo import plain_requests_get

pytestmark = pytest.mark.browser


def _login(emu: Any, tmp_path: Path, **kwargs: Any) -> Credentials:
    creds: Credentials = login_harvest(emu, tmp_path, **kwargs)
    return creds


def _client_headers(creds: Credentials) -> dict[str, str]:
    return {"User-Agent": creds.user_agent, **creds.headers}


def _cookies(creds: Credentials) -> dict[str, str]:
    cookies = {"__Secure-next-auth.session-token": creds.session_token}
    if creds.clearance_token:
        cookies["cf_clearance"] = creds.clearance_token
    return cookies


def test_cold_harvest_returns_a_matching_bundle_usable_from_requests(emu: Any, tmp_path: Path) -> None:
    before = time.time()
    creds = _login(emu, tmp_path)
    after = time.time()

    assert creds.source == "harvest" and creds.account == emu.account.email
    assert creds.site == emu.url
    assert creds.clearance_token and creds.session_token and creds.access_token
    assert "Headless" not in creds.user_agent and creds.user_agent.startswith("Mozilla/5.0")
    assert set(creds.headers) == {"sec-ch-ua", "sec-ch-ua-mobile", "sec-ch-ua-platform", "accept-language"}
    assert "headless" not in creds.headers["sec-ch-ua"].lower()
    assert before + 1800 <= creds.clearance_expires_at <= after + 1800  # type: ignore[operator]
    assert creds.session_expires_at and creds.session_expires_at > after + 29 * 86400
    assert creds.access_token_expires_at and after < creds.access_token_expires_at <= after + 3600 + 5
    assert {"launch", "challenge", "login", "verify", "total"} <= set(creds.timings)
    assert creds.timings["total"] >= creds.timings["launch"] + creds.timings["login"]
    for secret in (creds.session_token, creds.clearance_token, creds.access_token):
        assert secret not in repr(creds)

    # The bundle works from plain requests: same UA + client hints + cookies.
    session = requests.get(
        emu.url + "/api/auth/session", headers=_client_headers(creds), cookies=_cookies(creds), timeout=10
    )
    assert session.status_code == 200 and session.json()["user"]["email"] == emu.account.email
    answer = requests.post(
        emu.url + "/backend-api/conversation",
        headers={
            **_client_headers(creds),
            "Authorization": f"Bearer {session.json()['accessToken']}",
            "Accept": "text/event-stream",
            "Content-Type": "application/json",
        },
        cookies=_cookies(creds),
        json={
            "action": "next",
            "messages": [
                {
                    "id": "5e0b3d2c-2b9f-4a57-9d5c-7d2f3f3f0a01",
                    "role": "user",
                    "content": {"content_type": "text", "parts": ["hello"]},
                }
            ],
            "parent_message_id": "5e0b3d2c-2b9f-4a57-9d5c-7d2f3f3f0a02",
            "model": "text-davinci-002-render",
        },
        timeout=30,
    )
    assert answer.status_code == 200, answer.text[:200]
    assert answer.text.rstrip().endswith("data: [DONE]")
    # And the clearance really is bound to the UA: another UA gets the challenge.
    other = requests.get(
        emu.url + "/api/auth/session",
        headers={"User-Agent": creds.user_agent.replace("Chrome/", "Chrome/1")},
        cookies=_cookies(creds),
        timeout=10,
    )
    assert other.status_code == 403


def test_stock_playwright_fails_the_challenge(emu: Any) -> None:
    """Control: Playwright with its defaults is caught (webdriver flag, HeadlessChrome)."""
    from playwright.sync_api import sync_playwright

    emu.admin.reset_stats()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        try:
            page = browser.new_page()
            page.goto(emu.url + "/auth/login")
            page.get_by_text("Verification failed").wait_for(timeout=20_000)
        finally:
            browser.close()
    challenges = emu.admin.stats()["challenges"]
    assert challenges["passed"] == 0 and challenges["failed"] >= 1
    reasons = {
        reason for failure in challenges["failures"] for reason in failure.get("reasons", [failure["reason"]])
    }
    assert {"webdriver", "headless"} <= reasons


def test_interactive_checkbox_gets_a_trusted_click(emu: Any, tmp_path: Path) -> None:
    emu.admin.configure(interactive=True)
    emu.admin.reset_stats()
    creds = _login(emu, tmp_path)
    assert creds.clearance_token
    challenges = emu.admin.stats()["challenges"]
    assert challenges["passed"] >= 1 and challenges["failed"] == 0


def test_wrong_password_fails_fast_with_artifacts(emu: Any, tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(InvalidCredentialsError) as info:
        _login(emu, tmp_path, password="not-the-password", timeout=60.0)
    assert time.monotonic() - started < 30, "a wrong password must not wait for a timeout"
    folder = Path(info.value.artifacts_dir)  # type: ignore[arg-type]
    assert str(folder) in str(info.value)
    assert (folder / "screenshot.png").read_bytes().startswith(b"\x89PNG")
    assert "Wrong email or password" in (folder / "page.html").read_text()
    assert "not-the-password" not in str(info.value)


def test_unknown_email_is_invalid_credentials(emu: Any, tmp_path: Path) -> None:
    with pytest.raises(InvalidCredentialsError):
        _login(emu, tmp_path, email="nobody@example.com", password="whatever")


def test_captcha_without_solver_needs_a_human(emu: Any, tmp_path: Path) -> None:
    with pytest.raises(HumanNeededError, match="captcha"):
        _login(emu, tmp_path, email=CAPTCHA_ACCOUNT["email"], password=CAPTCHA_ACCOUNT["password"])


def test_captcha_with_solver(emu: Any, tmp_path: Path) -> None:
    seen: list[Captcha] = []

    def solver(captcha: Captcha) -> str:
        seen.append(captcha)
        # Stands in for an OCR service or a person: the emulator knows the answer.
        return str(emu.admin.captcha_answer())

    creds = _login(
        emu,
        tmp_path,
        email=CAPTCHA_ACCOUNT["email"],
        password=CAPTCHA_ACCOUNT["password"],
        captcha_solver=solver,
    )
    assert creds.account == CAPTCHA_ACCOUNT["email"]
    assert len(seen) == 1 and seen[0].image.startswith(b"\x89PNG") and "/u/login/identifier" in seen[0].url


def test_totp_second_factor(emu: Any, tmp_path: Path) -> None:
    creds = _login(
        emu,
        tmp_path,
        email=TOTP_ACCOUNT["email"],
        password=TOTP_ACCOUNT["password"],
        totp_secret=TOTP_ACCOUNT["totp_secret"],
    )
    assert creds.account == TOTP_ACCOUNT["email"]
    with pytest.raises(HumanNeededError, match="one-time code"):
        _login(emu, tmp_path, email=TOTP_ACCOUNT["email"], password=TOTP_ACCOUNT["password"])


def test_at_capacity_retries_then_gives_up(emu: Any, tmp_path: Path) -> None:
    emu.admin.configure(at_capacity=True)
    emu.admin.reset_stats()
    with pytest.raises(SiteAtCapacityError):
        _login(emu, tmp_path)
    requests_seen = emu.admin.stats()["requests"]
    landing = sum(
        n for key, n in requests_seen.items() if key.startswith("GET /auth/login") and key.endswith("503")
    )
    assert landing == 4  # the first try and three bounded retries


def test_hard_block_is_typed_and_not_retried_headed(emu: Any, tmp_path: Path) -> None:
    emu.admin.configure(blocked_ips=["127.0.0.1"])
    started = time.monotonic()
    with pytest.raises(BlockedError) as info:
        _login(emu, tmp_path)
    assert time.monotonic() - started < 20
    assert "1020" in (Path(info.value.artifacts_dir) / "page.html").read_text()  # type: ignore[arg-type]


def test_challenge_that_never_clears_falls_back_headed_then_fails(
    emu: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    emu.admin.configure(dwell=120.0)
    profile = tmp_path / "profile"
    with (
        caplog.at_level(logging.INFO, logger="chatgpt_browser"),
        pytest.raises(ChallengeNotClearedError) as info,
    ):
        _login(emu, tmp_path, profile_dir=profile, timeout=8.0, challenge_timeout=2.0)
    assert "retrying headed" in caplog.text
    assert (Path(info.value.artifacts_dir) / "screenshot.png").exists()  # type: ignore[arg-type]
    assert chromium_pids(profile) == []


def test_headed_fallback_clears_a_slow_challenge(
    emu: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The headless attempt gets 1 s, too short for a 2 s dwell; the headed retry has the
    # rest of the budget.
    emu.admin.configure(dwell=2.0)
    with caplog.at_level(logging.INFO, logger="chatgpt_browser"):
        creds = _login(emu, tmp_path, timeout=40.0, challenge_timeout=1.0)
    assert "retrying headed" in caplog.text
    assert creds.clearance_token


def test_profile_reuse_only_reclears(emu: Any, tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    cold = _login(emu, tmp_path, profile_dir=profile)
    assert cold.source == "harvest"
    logins = emu.admin.stats()["logins"]["ok"]
    warm = _login(emu, tmp_path, profile_dir=profile)
    assert warm.source == "reclear"
    assert emu.admin.stats()["logins"]["ok"] == logins, "a warm harvest must not log in again"
    assert warm.timings["login"] == 0.0
    assert warm.clearance_token != cold.clearance_token, "a re-clear earns a fresh clearance"
    assert warm.user_agent == cold.user_agent
    # Without credentials the profile alone is enough while its session lives ...
    assert _login(emu, tmp_path, profile_dir=profile, email=None, password=None).source == "reclear"
    # ... and once the session is revoked, a harvest logs in again.
    emu.admin.revoke("session", email=emu.account.email)
    again = _login(emu, tmp_path, profile_dir=profile)
    assert again.source == "harvest"
    emu.admin.revoke("session", email=emu.account.email)
    with pytest.raises(HumanNeededError):
        _login(emu, tmp_path, profile_dir=profile, email=None, password=None)


def test_harvest_through_a_remote_browser_over_cdp(emu: Any, tmp_path: Path, debug_chromium: str) -> None:
    creds = _login(emu, tmp_path, cdp_url=debug_chromium)
    assert "Headless" not in creds.user_agent
    response = requests.get(
        emu.url + "/api/auth/session", headers=_client_headers(creds), cookies=_cookies(creds), timeout=10
    )
    assert response.json()["user"]["email"] == emu.account.email


def test_harvest_through_an_authenticating_proxy(
    emu: Any, tmp_path: Path, forward_proxy: ForwardProxy
) -> None:
    proxy = f"http://proxyuser:proxy-s3cret@127.0.0.1:{forward_proxy.server_port}"
    creds = _login(emu, tmp_path, proxy=proxy)
    assert creds.proxy == proxy
    assert "proxy-s3cret" not in repr(creds)
    assert forward_proxy.rejected >= 1, "the browser must have answered the proxy's 407"
    assert any(line.startswith("GET /auth/login") for line in forward_proxy.forwarded)
    assert any("/api/auth/session" in line for line in forward_proxy.forwarded)


def test_logs_never_show_secrets(emu: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="chatgpt_browser"):
        creds = _login(emu, tmp_path, proxy=None)
    assert "harvested" in caplog.text
    for secret in (emu.account.password, creds.session_token, creds.clearance_token, creds.access_token):
        assert secret and secret not in caplog.text


def test_interactive_mode_waits_headed_for_a_person(
    emu: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With interactive=True a captcha does not fail at once: a visible window (on an
    Xvfb standing in for the person's desktop) waits until the deadline, then says so."""
    from chatgpt_browser.browser.xvfb import virtual_display

    started = time.monotonic()
    with (
        virtual_display() as display,
        pytest.raises(LoginFailedError, match="did not complete in time") as info,
    ):
        monkeypatch.setenv("DISPLAY", display)
        _login(
            emu,
            tmp_path,
            email=CAPTCHA_ACCOUNT["email"],
            password=CAPTCHA_ACCOUNT["password"],
            interactive=True,
            timeout=8.0,
        )
    assert not isinstance(info.value, HumanNeededError)
    assert time.monotonic() - started >= 7.0, "it must have waited for the person"
    assert 'name="captcha"' in (Path(info.value.artifacts_dir) / "page.html").read_text()  # type: ignore[arg-type]


def test_interactive_without_a_display_fails_at_once(
    emu: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A window for a person on a machine with no display would be seen by nobody (our
    private Xvfb included): HumanNeededError before any browser starts, saying what to do."""
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    profile = tmp_path / "profile"
    with pytest.raises(HumanNeededError, match="needs a display") as info:
        _login(emu, tmp_path, interactive=True, profile_dir=profile, timeout=60.0)
    assert "ssh -X" in str(info.value)
    assert not profile.exists(), "no browser may have been launched"


def test_browser_dying_mid_harvest_is_a_typed_error(emu: Any, tmp_path: Path) -> None:
    emu.admin.configure(dwell=300.0)  # park the harvest on the challenge page
    emu.admin.reset_stats()
    profile = tmp_path / "profile"
    killed: list[int] = []

    def kill_the_browser() -> None:
        pids = wait_until(
            lambda: emu.admin.stats()["challenges"]["served"] >= 1 and chromium_pids(profile),
            60,
            "the challenge",
        )
        groups = process_groups(pids)
        for group in groups:
            os.killpg(group, signal.SIGKILL)
        killed.extend(groups)

    killer = threading.Thread(target=kill_the_browser, daemon=True)
    killer.start()
    with pytest.raises(BrowserCrashedError):
        _login(emu, tmp_path, profile_dir=profile, timeout=60.0, headed_fallback=False)
    killer.join(timeout=10)
    assert killed and live_members(set(killed)) == []


def test_tls_site_with_a_private_ca(tmp_path: Path) -> None:
    from chatgpt_browser import Emulator

    # About the private CA; the bundle is then checked with plain requests, which the TLS
    # fingerprint layer refuses on purpose (tests/integration/edge/ covers that): off here.
    with Emulator(tls=True, dwell=0.0, pow_difficulty=8, tls_fingerprint="off") as tls_emu:
        creds = harvest(
            tls_emu.url,
            email=tls_emu.account.email,
            password=tls_emu.account.password,
            ca_file=tls_emu.ca_file,
            artifacts_dir=tmp_path,
            timeout=60.0,
        )
        assert creds.site.startswith("https://")
        response = plain_requests_get(tls_emu.url, creds, tls_emu.ca_file, timeout=10)
    assert response.json()["user"]["email"] == tls_emu.account.email


def test_unreachable_site_is_a_network_error(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(NetworkError, match="could not reach the site"):
        harvest(
            f"http://127.0.0.1:{port}",
            email="a@example.com",
            password="pw",
            timeout=30.0,
            artifacts_dir=tmp_path,
        )


def test_warm_reclear_bundle_works_from_requests(emu: Any, tmp_path: Path) -> None:
    """The warm path reads the session from the network: its cookies must be the live ones."""
    profile = tmp_path / "profile"
    _login(emu, tmp_path, profile_dir=profile)
    warm = _login(emu, tmp_path, profile_dir=profile)
    assert warm.source == "reclear"
    response = requests.get(
        emu.url + "/api/auth/session", headers=_client_headers(warm), cookies=_cookies(warm), timeout=10
    )
    assert response.status_code == 200
    assert response.json()["user"]["email"] == emu.account.email


def test_warm_reclear_clicks_an_interactive_challenge(emu: Any, tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    _login(emu, tmp_path, profile_dir=profile)
    emu.admin.configure(interactive=True)
    warm = _login(emu, tmp_path, profile_dir=profile)
    assert warm.source == "reclear" and warm.clearance_token


def test_warm_reclear_reports_a_hard_block(emu: Any, tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    _login(emu, tmp_path, profile_dir=profile)
    emu.admin.configure(blocked_ips=["127.0.0.1"])
    with pytest.raises(BlockedError):
        _login(emu, tmp_path, profile_dir=profile)
    assert chromium_pids(profile) == []


def test_headless_shell_flavour_passes_every_check(emu: Any, tmp_path: Path) -> None:
    """The lighter flavour: cold and warm harvests pass all of the emulator's checks (the
    headless one looks at UA, brands and client hints), or, where no shell is installed,
    the harvest falls back to the full browser."""
    from chatgpt_browser.browser.executable import find_browser, is_headless_shell

    profile = tmp_path / "profile"
    failed_before = emu.admin.stats()["challenges"]["failed"]
    cold = _login(emu, tmp_path, profile_dir=profile, flavour="headless-shell", headed_fallback=False)
    warm = _login(emu, tmp_path, profile_dir=profile, flavour="headless-shell", headed_fallback=False)
    assert (cold.source, warm.source) == ("harvest", "reclear")
    assert emu.admin.stats()["challenges"]["failed"] == failed_before
    assert "Headless" not in warm.user_agent
    assert "headless" not in warm.headers.get("sec-ch-ua", "").lower()
    assert warm.headers.get("sec-ch-ua"), "client hints must be recorded"
    response = requests.get(
        emu.url + "/api/auth/session", headers=_client_headers(warm), cookies=_cookies(warm), timeout=10
    )
    assert response.json()["user"]["email"] == emu.account.email
    assert chromium_pids(profile) == []
    # Which binary ran: the shell when installed (scripts/setup installs it).
    assert isinstance(is_headless_shell(find_browser(flavour="headless-shell")), bool)
