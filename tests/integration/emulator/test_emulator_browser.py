"""The emulator against Debian's Chromium driven by Playwright: the challenge tells a
stock headless launch from a fixed one, the interactive checkbox needs a trusted click,
and the login flow works end to end (wrong password, captcha, TOTP)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pyotp
import pytest

from chatgpt_browser.emulator.process import Emulator

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
LANDING_BUTTON = "#__next .btn-primary"


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def fixed_browser(playwright: Any, chromium_executable: str) -> Iterator[Any]:
    """Headless, but with navigator.webdriver hidden (the UA is fixed per context)."""
    browser = playwright.chromium.launch(
        executable_path=chromium_executable,
        args=[*CHROMIUM_ARGS, "--disable-blink-features=AutomationControlled"],
    )
    try:
        yield browser
    finally:
        browser.close()


def desktop_user_agent(browser: Any) -> str:
    """The UA of this Chromium as a visible browser would send it (no "Headless")."""
    version = browser.version.split(".")[0]
    return (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{version}.0.0.0 Safari/537.36"
    )


@pytest.fixture
def page(fixed_browser: Any) -> Iterator[Any]:
    context = fixed_browser.new_context(user_agent=desktop_user_agent(fixed_browser))
    context.set_default_timeout(20_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def wait_for_failure(emu: Emulator, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        failures = emu.admin.stats()["challenges"]["failures"]
        if failures:
            return dict(failures[0])
        time.sleep(0.1)
    raise AssertionError("no challenge failure was recorded")


def clear_and_open_login(page: Any, emu: Emulator) -> None:
    page.goto(emu.url + "/auth/login")
    page.wait_for_selector(LANDING_BUTTON)
    page.click(LANDING_BUTTON)
    page.wait_for_selector("#username")


def test_stock_headless_chromium_does_not_clear(
    playwright: Any, chromium_executable: str, emulator: Emulator
) -> None:
    browser = playwright.chromium.launch(executable_path=chromium_executable, args=CHROMIUM_ARGS)
    try:
        page = browser.new_page()
        response = page.goto(emulator.url + "/auth/login")
        assert response is not None and response.status == 403
        failure = wait_for_failure(emulator)
        assert "headless" in failure["reasons"] and "webdriver" in failure["reasons"]
        assert "HeadlessChrome" in failure["user_agent"]
        page.wait_for_selector("#challenge-running")
        assert "Just a moment..." in page.title()
        assert not [c for c in page.context.cookies() if c["name"] == "cf_clearance"]
    finally:
        browser.close()
    assert emulator.admin.stats()["challenges"]["passed"] == 0


def test_fixed_browser_clears_logs_in_and_chats(page: Any, emulator: Emulator) -> None:
    clear_and_open_login(page, emulator)
    assert page.url.startswith(emulator.auth_url + "/u/login/identifier?state=")
    page.fill("#username", emulator.account.email)
    page.click("button[type=submit]")
    page.fill("#password", emulator.account.password)
    page.click("button[type=submit]")
    page.wait_for_selector("textarea")
    assert page.url == emulator.url + "/chat"
    cookies = {c["name"]: c for c in page.context.cookies()}
    clearance = cookies["cf_clearance"]
    assert clearance["secure"] and clearance["httpOnly"] and clearance["sameSite"] == "None"
    session = cookies["__Secure-next-auth.session-token"]
    assert session["secure"] and session["httpOnly"] and session["value"].count(".") == 4
    page.fill("textarea", "hello from chromium")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "document.querySelector('.assistant') && "
        "document.querySelector('.assistant').textContent.startsWith('You said: \"hello from chromium\"')"
    )
    stats = emulator.admin.stats()
    assert stats["challenges"]["passed"] == 1 and stats["logins"]["ok"] == 1 and stats["messages"] == 1


def test_interactive_checkbox_needs_a_trusted_click(
    page: Any, fixed_browser: Any, make_emulator: Callable[..., Emulator]
) -> None:
    emu = make_emulator(interactive=True)
    page.goto(emu.url + "/auth/login")
    page.wait_for_selector("#cf-chl-widget", state="visible")
    assert "Verify you are human" in page.content()
    page.click("#cf-chl-widget")  # a real (trusted) mouse click
    page.wait_for_selector(LANDING_BUTTON)

    context = fixed_browser.new_context(user_agent=desktop_user_agent(fixed_browser))
    try:
        scripted = context.new_page()
        scripted.goto(emu.url + "/auth/login")
        scripted.wait_for_selector("#cf-chl-widget", state="visible")
        scripted.evaluate("document.getElementById('cf-chl-widget').click()")  # untrusted
        assert wait_for_failure(emu)["reason"] == "untrusted_click"
    finally:
        context.close()


def test_wrong_password_is_shown(page: Any, emulator: Emulator) -> None:
    clear_and_open_login(page, emulator)
    page.fill("#username", emulator.account.email)
    page.click("button[type=submit]")
    page.fill("#password", "not-the-password")
    page.click("button[type=submit]")
    page.wait_for_selector("text=Wrong email or password")
    assert emulator.admin.stats()["logins"] == {"ok": 0, "failed": 1}


def test_captcha_then_login(page: Any, make_emulator: Callable[..., Emulator]) -> None:
    emu = make_emulator(accounts=[{"email": "robot@example.com", "password": "pw-robot", "captcha": True}])
    clear_and_open_login(page, emu)
    page.fill("#username", "robot@example.com")
    page.click("button[type=submit]")
    image = page.wait_for_selector("img[alt=captcha]")
    assert image.evaluate("img => img.complete && img.naturalWidth > 0")
    page.fill("input[name=captcha]", emu.admin.captcha_answer())
    page.click("button[type=submit]")
    page.fill("#password", "pw-robot")
    page.click("button[type=submit]")
    page.wait_for_selector("textarea")


def test_totp_login(page: Any, make_emulator: Callable[..., Emulator]) -> None:
    secret = pyotp.random_base32()
    emu = make_emulator(accounts=[{"email": "mfa@example.com", "password": "pw-mfa", "totp_secret": secret}])
    clear_and_open_login(page, emu)
    page.fill("#username", "mfa@example.com")
    page.click("button[type=submit]")
    page.fill("#password", "pw-mfa")
    page.click("button[type=submit]")
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("button[type=submit]")
    page.wait_for_selector("textarea")
    assert page.url == emu.url + "/chat"


def test_tls_login_with_secure_cookies(fixed_browser: Any, make_emulator: Callable[..., Emulator]) -> None:
    emu = make_emulator(tls=True)
    context = fixed_browser.new_context(
        ignore_https_errors=True,  # a browser told to accept the emulator's own CA
        user_agent=desktop_user_agent(fixed_browser),
    )
    try:
        page = context.new_page()
        clear_and_open_login(page, emu)
        page.fill("#username", emu.account.email)
        page.click("button[type=submit]")
        page.fill("#password", emu.account.password)
        page.click("button[type=submit]")
        page.wait_for_selector("textarea")
        assert page.url == emu.url + "/chat" and emu.url.startswith("https://")
        cookies = {c["name"]: c for c in context.cookies()}
        assert cookies["cf_clearance"]["secure"] and cookies["__Secure-next-auth.session-token"]["secure"]
    finally:
        context.close()
