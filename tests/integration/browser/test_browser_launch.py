"""Launching, stealth, headed-under-Xvfb, CDP and teardown, against a local echo page."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from browser_helpers import EchoServer, chromium_pids, live_members, process_groups

from chatgpt_browser.browser.launch import open_browser
from chatgpt_browser.browser.stealth import FINGERPRINT_JS, looks_automated
from chatgpt_browser.errors import BrowserError

pytestmark = pytest.mark.browser


def _xvfb_pids() -> set[str]:
    out = subprocess.run(["pgrep", "-x", "Xvfb"], capture_output=True, text=True).stdout
    return set(out.split())


def test_headless_browser_looks_like_desktop_chrome(echo_server: EchoServer, tmp_path: Path) -> None:
    with open_browser(headless=True, profile_dir=tmp_path / "p") as session:
        page = session.new_page()
        response = page.goto(echo_server.url)
        fingerprint = page.evaluate(FINGERPRINT_JS)
        sent = response.request.all_headers()
    assert looks_automated(fingerprint) == []
    assert fingerprint["webdriver"] is False
    assert fingerprint["userAgent"] == session.user_agent
    assert fingerprint["uaPlatform"] == "Linux" and fingerprint["platform"].startswith("Linux")
    assert fingerprint["languages"][0] == sent["accept-language"].split(",")[0]
    # What reached the server: the same UA, client hints without any headless brand.
    server_side = echo_server.seen[-1]
    assert server_side["user-agent"] == session.user_agent == sent["user-agent"]
    assert "headless" not in server_side["sec-ch-ua"].lower()
    assert server_side["sec-ch-ua-platform"] == '"Linux"'


def test_stock_playwright_is_recognisable(echo_server: EchoServer) -> None:
    """The control: an unmodified Playwright launch shows both give-aways we remove."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        try:
            page = browser.new_page()
            page.goto(echo_server.url)
            reasons = looks_automated(page.evaluate(FINGERPRINT_JS))
        finally:
            browser.close()
    assert "navigator.webdriver is true" in reasons
    assert "User-Agent says HeadlessChrome" in reasons


def test_every_process_is_gone_after_an_exception(tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    with pytest.raises(RuntimeError, match="boom"), open_browser(profile_dir=profile) as session:
        assert chromium_pids(profile), "the browser should be running inside the block"
        groups = process_groups(chromium_pids(profile))
        session.new_page().goto("about:blank")
        raise RuntimeError("boom")
    assert chromium_pids(profile) == []
    assert live_members(groups) == []


def test_temporary_profile_is_removed(tmp_path: Path) -> None:
    with open_browser() as session:
        profile = session.profile_dir
        assert profile is not None and profile.is_dir()
    assert not profile.exists()
    assert chromium_pids(profile) == []


def test_headed_browser_gets_its_own_xvfb(
    echo_server: EchoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    before = _xvfb_pids()
    with open_browser(headless=False, profile_dir=tmp_path / "p") as session:
        assert len(_xvfb_pids() - before) == 1
        page = session.new_page()
        page.goto(echo_server.url)
        assert looks_automated(page.evaluate(FINGERPRINT_JS)) == []
        assert session.headless is False
    assert _xvfb_pids() - before == set()
    assert chromium_pids(tmp_path / "p") == []


def test_cdp_connection_to_a_running_browser(echo_server: EchoServer, debug_chromium: str) -> None:
    with open_browser(cdp_url=debug_chromium) as session:
        assert session.remote
        page = session.new_page()
        page.goto(echo_server.url)
        fingerprint = page.evaluate(FINGERPRINT_JS)
    # The remote browser is headless, but what the page and server see is not.
    assert "HeadlessChrome" not in fingerprint["userAgent"]
    assert echo_server.seen[-1]["user-agent"] == session.user_agent
    # debug_chromium's teardown asserts the user's browser is still running.


def test_a_profile_in_use_is_a_clear_error(tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    with open_browser(profile_dir=profile):
        with (
            pytest.raises(BrowserError, match="in use by another browser"),
            # a live browser keeps the profile: the wait for its release runs out
            open_browser(profile_dir=profile, launch_timeout=2),
        ):
            pass
        assert chromium_pids(profile), "the first browser must be unharmed"
    assert chromium_pids(profile) == []


def test_headless_shell_flavour_looks_like_desktop_chrome(echo_server: EchoServer, tmp_path: Path) -> None:
    from chatgpt_browser.browser.executable import find_browser, is_headless_shell

    with open_browser(headless=True, profile_dir=tmp_path / "p", flavour="headless-shell") as session:
        page = session.new_page()
        response = page.goto(echo_server.url)
        fingerprint = page.evaluate(FINGERPRINT_JS)
        sent = response.request.all_headers()
        history = page.evaluate("history.length")
        assert len(session.context.pages) == 1, "the metadata probe page must be gone"
    with open_browser(headless=True, flavour="chromium") as full:
        page = full.new_page()
        page.goto(echo_server.url)
        assert page.evaluate("history.length") == history, "the probe must not show in the history"
    installed = is_headless_shell(find_browser(flavour="headless-shell"))
    assert session.flavour == ("headless-shell" if installed else "chromium")
    assert looks_automated(fingerprint) == []
    assert fingerprint["webdriver"] is False
    assert fingerprint["userAgent"] == session.user_agent == sent["user-agent"]
    assert fingerprint["uaPlatform"] == "Linux" and fingerprint["platform"].startswith("Linux")
    server_side = echo_server.seen[-1]
    assert server_side["user-agent"] == session.user_agent
    assert "headless" not in server_side["sec-ch-ua"].lower() and "Chromium" in server_side["sec-ch-ua"]
    assert server_side["sec-ch-ua-platform"] == '"Linux"'


def test_headless_shell_cannot_run_headed(tmp_path: Path) -> None:
    from chatgpt_browser.browser.executable import find_browser, is_headless_shell

    shell = find_browser(flavour="headless-shell")
    if not is_headless_shell(shell):  # not installed: the flavour fell back, nothing to refuse
        assert shell == find_browser()
        return
    with pytest.raises(BrowserError, match="headless-only"), open_browser(executable=shell, headless=False):
        pass
    # Asking for the flavour headed is fine: headed runs always take the full browser.
    with open_browser(headless=False, flavour="headless-shell", profile_dir=tmp_path / "p") as session:
        assert session.flavour == "chromium"
