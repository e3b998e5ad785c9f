"""The Cloudflare layer over plain HTTP: markers, checks, binding to IP and UA, expiry."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests
from emu_helpers import (
    TIMEOUT,
    UA,
    answer_fields,
    challenge_options,
    clear,
    cookie_header,
    form_action,
    http_session,
    post_answer,
)

from chatgpt_browser.emulator.challenge import pow_ok
from chatgpt_browser.emulator.process import Emulator
from chatgpt_browser.pages import PageKind, classify_page

API_PATHS = [
    ("GET", "/api/auth/session"),
    ("POST", "/backend-api/conversation"),
    ("GET", "/backend-api/models"),
    ("POST", "/backend-api/moderations"),
    ("GET", "/chat"),
]


@pytest.mark.parametrize(("method", "path"), API_PATHS)
def test_every_path_gets_the_managed_challenge_with_real_markers(
    shared_emulator: Emulator, method: str, path: str
) -> None:
    response = requests.request(
        method, shared_emulator.url + path, headers={"User-Agent": UA}, timeout=TIMEOUT
    )
    page = response.text
    assert response.status_code == 403
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<title>Just a moment...</title>" in page
    assert '<link href="/cdn-cgi/styles/challenges.css" rel="stylesheet">' in page
    assert '<h2 id="challenge-running" class="h2">Checking if the site connection is secure</h2>' in page
    assert "127.0.0.1 needs to review the security of your connection before proceeding." in page
    assert "Enable JavaScript and cookies to continue" in page and "<noscript>" in page
    assert "Performance &amp; security by" in page and "Cloudflare</a>" in page
    action = form_action(page)
    assert action.startswith(path + "?__cf_chl_f_tk=")
    options = challenge_options(page)
    assert options["cvId"] == "2" and options["cType"] == "managed"
    assert "Verify you are human" not in page
    assert classify_page(response.status_code, response.headers, page) is PageKind.CHALLENGE


def test_the_challenge_stylesheet_is_served_without_clearance(shared_emulator: Emulator) -> None:
    response = requests.get(shared_emulator.url + "/cdn-cgi/styles/challenges.css", timeout=TIMEOUT)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/css")


def test_passing_sets_a_bound_clearance_and_redirects_back(emulator: Emulator) -> None:
    page = requests.get(
        emulator.url + "/api/auth/session?x=1", headers={"User-Agent": UA}, timeout=TIMEOUT
    ).text
    answer = post_answer(emulator.url, page, UA)
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/api/auth/session?x=1"
    set_cookie = answer.headers["Set-Cookie"]
    assert set_cookie.startswith("cf_clearance=")
    for attribute in ("HttpOnly", "Path=/", "SameSite=None", "Secure", "Max-Age=31536000"):
        assert attribute in set_cookie
    clearance = answer.cookies["cf_clearance"]
    ok = requests.get(
        emulator.url + "/api/auth/session",
        headers={"User-Agent": UA, "Cookie": cookie_header(cf_clearance=clearance)},
        timeout=TIMEOUT,
    )
    assert ok.status_code == 200 and ok.json() == {}
    stats = emulator.admin.stats()
    assert stats["challenges"]["passed"] == 1 and stats["challenges"]["failed"] == 0


def _with(url: str, clearance: str, user_agent: str = UA, session: requests.Session | None = None) -> int:
    http = session or requests
    response = http.get(
        url + "/api/auth/session",
        headers={"User-Agent": user_agent, "Cookie": cookie_header(cf_clearance=clearance)},
        timeout=TIMEOUT,
    )
    return int(response.status_code)


def test_clearance_is_bound_to_the_user_agent(emulator: Emulator) -> None:
    clearance = clear(emulator.url)
    assert _with(emulator.url, clearance) == 200
    other_ua = UA.replace("Chrome/", "Chrome/9")  # another browser version
    assert other_ua != UA and _with(emulator.url, clearance, other_ua) == 403
    assert emulator.admin.stats()["challenges"]["clearance_rejections"]["ua_mismatch"] == 1


def test_clearance_is_bound_to_the_client_ip(emulator: Emulator) -> None:
    with http_session("127.0.0.1") as one, http_session("127.0.0.2") as two:
        clearance = clear(emulator.url, session=one)
        assert _with(emulator.url, clearance, session=one) == 200
        assert _with(emulator.url, clearance, session=two) == 403
        assert emulator.admin.stats()["challenges"]["clearance_rejections"]["ip_mismatch"] == 1
        # The second address can earn its own clearance, which the first cannot use.
        other = clear(emulator.url, session=two)
        assert _with(emulator.url, other, session=two) == 200
        assert _with(emulator.url, other, session=one) == 403


def test_a_challenge_token_is_bound_to_ip_and_cannot_be_replayed(emulator: Emulator) -> None:
    page = requests.get(emulator.url + "/chat", headers={"User-Agent": UA}, timeout=TIMEOUT).text
    with http_session("127.0.0.2") as two:
        assert post_answer(emulator.url, page, UA, session=two).status_code == 403
    assert post_answer(emulator.url, page, UA).status_code == 302
    assert post_answer(emulator.url, page, UA).status_code == 403
    stale = requests.get(emulator.url + "/chat", headers={"User-Agent": UA}, timeout=TIMEOUT).text
    emulator.admin.advance_clock(3601)
    assert post_answer(emulator.url, stale, UA).status_code == 403
    reasons = [f["reason"] for f in emulator.admin.stats()["challenges"]["failures"]]
    assert reasons == ["bad_token", "replayed", "stale_token"]


def test_clearance_expires_with_the_clock_and_by_admin(emulator: Emulator) -> None:
    clearance = clear(emulator.url)
    emulator.admin.advance_clock(1799)
    assert _with(emulator.url, clearance) == 200
    emulator.admin.advance_clock(2)
    assert _with(emulator.url, clearance) == 403
    fresh = clear(emulator.url)
    emulator.admin.expire("clearance")
    assert _with(emulator.url, fresh) == 403
    newer = clear(emulator.url)
    assert emulator.admin.revoke("clearance") >= 1
    assert _with(emulator.url, newer) == 403
    rejections = emulator.admin.stats()["challenges"]["clearance_rejections"]
    assert rejections["expired"] == 2 and rejections["revoked"] == 1


def test_clearance_ttl_is_configurable(make_emulator: Callable[..., Emulator]) -> None:
    emu = make_emulator(clearance_ttl=60)
    clearance = clear(emu.url)
    emu.admin.advance_clock(61)
    assert _with(emu.url, clearance) == 403


def test_a_forged_clearance_is_refused(shared_emulator: Emulator) -> None:
    real = clear(shared_emulator.url)
    forged = real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB")
    assert _with(shared_emulator.url, forged) == 403


FAILING = [
    ("webdriver", {"wd": "true"}, {}),
    (
        "headless",
        {"ua": UA.replace("Chrome/", "HeadlessChrome/")},
        {"User-Agent": UA.replace("Chrome/", "HeadlessChrome/")},
    ),
    ("headless", {"br": '["HeadlessChrome/108"]'}, {}),
    ("headless", {}, {"sec-ch-ua": '"HeadlessChrome";v="108"'}),
    ("ua_match", {"ua": UA.replace("X11; Linux x86_64", "Windows NT 10.0")}, {}),
    ("pow", {"pw": "1"}, {}),
]


@pytest.mark.parametrize(("reason", "fields", "headers"), FAILING)
def test_each_failed_check_never_clears_and_is_recorded(
    make_emulator: Callable[..., Emulator], reason: str, fields: dict[str, str], headers: dict[str, str]
) -> None:
    emu = make_emulator(pow_difficulty=10)
    user_agent = headers.get("User-Agent", UA)
    page = requests.get(emu.url + "/chat", headers={"User-Agent": user_agent}, timeout=TIMEOUT).text
    data = answer_fields(page, user_agent, **fields)
    if reason == "pow" and data["pw"] == "1":
        data["pw"] = str(next(n for n in range(10**6) if not _pow_ok(page, n)))
    response = requests.post(
        emu.url + form_action(page),
        data=data,
        headers={"User-Agent": user_agent, **headers},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert response.status_code == 403
    assert "cf_clearance" not in response.cookies
    assert "Verification failed" in response.text
    assert classify_page(403, response.headers, response.text) is PageKind.CHALLENGE
    failures = emu.admin.stats()["challenges"]["failures"]
    assert len(failures) == 1 and reason in failures[0]["reasons"]
    assert failures[0]["ip"] == "127.0.0.1"


def _pow_ok(page: str, nonce: int) -> bool:
    options = challenge_options(page)
    return pow_ok(options["cSalt"], str(nonce), int(options["cDiff"]))


def test_a_disabled_check_is_not_applied(make_emulator: Callable[..., Emulator]) -> None:
    emu = make_emulator(checks={"headless", "ua_match", "pow", "dwell"})
    page = requests.get(emu.url + "/chat", headers={"User-Agent": UA}, timeout=TIMEOUT).text
    assert post_answer(emu.url, page, UA, wd="true").status_code == 302


def test_dwell_must_pass_before_an_answer_counts(make_emulator: Callable[..., Emulator]) -> None:
    emu = make_emulator(dwell=300.0)
    page = requests.get(emu.url + "/chat", headers={"User-Agent": UA}, timeout=TIMEOUT).text
    assert challenge_options(page)["cDwell"] == 300.0
    assert post_answer(emu.url, page, UA).status_code == 403
    assert emu.admin.stats()["challenges"]["failures"][0]["reason"] == "dwell"
    page = requests.get(emu.url + "/chat", headers={"User-Agent": UA}, timeout=TIMEOUT).text
    emu.admin.advance_clock(301)  # the emulator's clock is what dwell is judged by
    assert post_answer(emu.url, page, UA).status_code == 302


def test_interactive_mode_needs_a_trusted_click(make_emulator: Callable[..., Emulator]) -> None:
    emu = make_emulator(interactive=True)
    response = requests.get(emu.url + "/chat", headers={"User-Agent": UA}, timeout=TIMEOUT)
    assert (
        "Verify you are human" in response.text and challenge_options(response.text)["cType"] == "interactive"
    )
    assert classify_page(403, response.headers, response.text) is PageKind.INTERACTIVE_CHALLENGE
    assert post_answer(emu.url, response.text, UA, ck="untrusted").status_code == 403
    assert emu.admin.stats()["challenges"]["failures"][0]["reason"] == "untrusted_click"
    page = requests.get(emu.url + "/chat", headers={"User-Agent": UA}, timeout=TIMEOUT).text
    assert post_answer(emu.url, page, UA, ck="trusted").status_code == 302


def test_blocked_ip_gets_error_1020(make_emulator: Callable[..., Emulator]) -> None:
    emu = make_emulator(blocked_ips=["127.0.0.2"])
    with http_session("127.0.0.2") as two:
        response = two.get(emu.url + "/api/auth/session", headers={"User-Agent": UA}, timeout=TIMEOUT)
    assert response.status_code == 403
    assert "Access denied" in response.text and "Error code: 1020" in response.text
    assert classify_page(403, response.headers, response.text) is PageKind.BLOCKED
    ok = requests.get(emu.url + "/api/auth/session", headers={"User-Agent": UA}, timeout=TIMEOUT)
    assert classify_page(ok.status_code, ok.headers, ok.text) is PageKind.CHALLENGE
    emu.admin.configure(blocked_ips=["127.0.0.1"])
    again = requests.get(emu.url + "/api/auth/session", headers={"User-Agent": UA}, timeout=TIMEOUT)
    assert "1020" in again.text


def test_without_the_challenge_layer_paths_answer_directly(make_emulator: Callable[..., Emulator]) -> None:
    emu = make_emulator(challenge=False)
    response = requests.get(emu.url + "/api/auth/session", headers={"User-Agent": UA}, timeout=TIMEOUT)
    assert response.status_code == 200 and response.json() == {}
    emu.admin.configure(challenge=True)
    assert requests.get(emu.url + "/api/auth/session", timeout=TIMEOUT).status_code == 403


def test_admin_api_needs_its_token(shared_emulator: Emulator) -> None:
    response = requests.get(
        shared_emulator.admin_url + "/stats", headers={"Authorization": "Bearer nope"}, timeout=TIMEOUT
    )
    assert response.status_code == 401
    assert requests.get(shared_emulator.admin_url + "/stats", timeout=TIMEOUT).status_code == 401
    assert "requests" in shared_emulator.admin.stats()
