"""Login over plain HTTP (NextAuth + the auth0-like origin) and `/api/auth/session`."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from collections.abc import Callable
from urllib.parse import parse_qs, urljoin, urlsplit

import pyotp
import requests
from emu_helpers import TIMEOUT, UA, clear, cookie_header, login

from chatgpt_browser.emulator.process import Emulator
from chatgpt_browser.emulator.tokens import JWE_HEADER
from chatgpt_browser.pages import PageKind, classify_page


def _session(emu: Emulator, clearance: str, token: str | None) -> requests.Response:
    return requests.get(
        emu.url + "/api/auth/session",
        headers={"User-Agent": UA, "Cookie": cookie_header(cf_clearance=clearance, session=token or "")},
        timeout=TIMEOUT,
    )


def _jwt_claims(token: str) -> dict[str, object]:
    body = token.split(".")[1]
    claims: dict[str, object] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return claims


def test_landing_page_has_log_in_and_sign_up(shared_emulator: Emulator) -> None:
    clearance = clear(shared_emulator.url)
    page = requests.get(
        shared_emulator.url + "/auth/login",
        headers={"User-Agent": UA, "Cookie": cookie_header(cf_clearance=clearance)},
        timeout=TIMEOUT,
    ).text
    assert re.search(r'<div id="__next">.*class="btn btn-primary">Log in</button>', page, re.S)
    assert "Sign up</button>" in page


def test_login_over_http_then_session_json(emulator: Emulator) -> None:
    clearance = clear(emulator.url)
    token = login(
        emulator.url,
        emulator.auth_url,
        emulator.account.email,
        emulator.account.password,
        clearance=clearance,
    )
    parts = token.split(".")
    assert len(parts) == 5 and parts[0] == JWE_HEADER and parts[1] == ""
    response = _session(emulator, clearance, token)
    assert response.status_code == 200
    assert response.text.startswith('{"user":{"id":"user-') and ", " not in response.text[:60]
    data = response.json()
    assert set(data) == {"user", "expires", "accessToken"}
    assert set(data["user"]) == {"id", "name", "email", "image", "picture", "groups", "features"}
    assert data["user"]["email"] == "demo@example.com"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", data["expires"])
    claims = _jwt_claims(data["accessToken"])
    assert claims["exp"] == claims["iat"] + 3600  # type: ignore[operator]
    stats = emulator.admin.stats()
    assert stats["logins"] == {"ok": 1, "failed": 0} and stats["sessions_issued"] == 1


def test_session_cookie_rolls_on_every_call(emulator: Emulator) -> None:
    clearance = clear(emulator.url)
    token = login(emulator.url, emulator.auth_url, "demo@example.com", "demo-password", clearance=clearance)
    first = _session(emulator, clearance, token)
    cookie = first.headers["Set-Cookie"]
    assert cookie.startswith("__Secure-next-auth.session-token=")
    for attribute in ("HttpOnly", "Path=/", "SameSite=Lax", "Secure", "expires="):
        assert attribute in cookie
    rolled = first.cookies["__Secure-next-auth.session-token"]
    assert rolled != token
    emulator.admin.advance_clock(86400)
    clearance = clear(emulator.url)  # the clearance itself lasts only 30 minutes
    second = _session(emulator, clearance, rolled)
    later = dt.datetime.fromisoformat(second.json()["expires"].replace("Z", "+00:00"))
    earlier = dt.datetime.fromisoformat(first.json()["expires"].replace("Z", "+00:00"))
    assert later - earlier >= dt.timedelta(days=1)
    # The old value is still a valid token of the same session (NextAuth JWTs are).
    assert _session(emulator, clearance, token).json()["user"]["email"] == "demo@example.com"


def test_session_is_empty_for_missing_bad_expired_or_revoked_tokens(emulator: Emulator) -> None:
    clearance = clear(emulator.url)
    assert _session(emulator, clearance, None).json() == {}
    bad = _session(emulator, clearance, JWE_HEADER + "..abc.def.ghi")
    assert bad.status_code == 200 and bad.json() == {}
    assert "__Secure-next-auth.session-token=" in bad.headers["Set-Cookie"]  # cleared
    token = emulator.admin.issue_session()["session_token"]
    assert _session(emulator, clearance, token).json()["user"]
    emulator.admin.advance_clock(30 * 86400 + 1)
    clearance = clear(emulator.url)
    assert _session(emulator, clearance, token).json() == {}
    token = emulator.admin.issue_session()["session_token"]
    emulator.admin.expire("session")
    assert _session(emulator, clearance, token).json() == {}
    token = emulator.admin.issue_session()["session_token"]
    emulator.admin.revoke("session", email="demo@example.com")
    assert _session(emulator, clearance, token).json() == {}


def test_chunked_session_cookie_is_read(emulator: Emulator) -> None:
    clearance = clear(emulator.url)
    token = emulator.admin.issue_session()["session_token"]
    cookie = cookie_header(
        cf_clearance=clearance,
        **{
            "__Secure-next-auth.session-token.0": token[:40],
            "__Secure-next-auth.session-token.1": token[40:],
        },
    )
    response = requests.get(
        emulator.url + "/api/auth/session", headers={"User-Agent": UA, "Cookie": cookie}, timeout=TIMEOUT
    )
    assert response.json()["user"]["email"] == "demo@example.com"


def test_access_token_refreshes_and_refresh_error_mode(make_emulator: Callable[..., Emulator]) -> None:
    emu = make_emulator(access_token_ttl=120)
    clearance = clear(emu.url)
    token = emu.admin.issue_session()["session_token"]
    first = _session(emu, clearance, token).json()["accessToken"]
    claims = _jwt_claims(first)
    assert claims["exp"] == claims["iat"] + 120  # type: ignore[operator]
    assert _session(emu, clearance, token).json()["accessToken"] == first  # still valid: same token
    emu.admin.advance_clock(121)
    assert emu.admin.options()["clearance_ttl"] == 1800.0  # 121 s leave the clearance valid
    second = _session(emu, clearance, token).json()
    assert second["accessToken"] != first and "error" not in second
    emu.admin.configure(refresh_error=True)
    emu.admin.expire("access_token")
    failed = _session(emu, clearance, token).json()
    assert failed["error"] == "RefreshAccessTokenError"
    assert failed["accessToken"] == second["accessToken"]


def _start_login(emu: Emulator, clearance: str) -> tuple[requests.Session, str, str]:
    http = requests.Session()
    csrf = http.get(
        emu.url + "/api/auth/csrf",
        headers={"User-Agent": UA, "Cookie": cookie_header(cf_clearance=clearance)},
        timeout=TIMEOUT,
    )
    signin = http.post(
        emu.url + "/api/auth/signin/auth0?prompt=login",
        data={"callbackUrl": emu.url + "/chat", "csrfToken": csrf.json()["csrfToken"], "json": "true"},
        headers={
            "User-Agent": UA,
            "Cookie": cookie_header(
                cf_clearance=clearance,
                **{"__Host-next-auth.csrf-token": csrf.cookies["__Host-next-auth.csrf-token"]},
            ),
        },
        timeout=TIMEOUT,
    )
    assert signin.json()["url"].startswith(emu.auth_url + "/authorize?")
    authorize = http.get(signin.json()["url"], allow_redirects=False, timeout=TIMEOUT)
    assert authorize.status_code == 302
    url = urljoin(emu.auth_url, authorize.headers["Location"])
    assert "/u/login/identifier?state=" in url
    return http, url, parse_qs(urlsplit(url).query)["state"][0]


def test_identifier_page_markers_and_unknown_email(shared_emulator: Emulator) -> None:
    http, url, state = _start_login(shared_emulator, clear(shared_emulator.url))
    with http:
        page = http.get(url, timeout=TIMEOUT).text
        assert "Welcome back" in page and 'id="username"' in page and 'type="submit"' in page
        assert 'data-provider="google"' in page and 'data-provider="windowslive"' in page
        unknown = http.post(
            url, data={"state": state, "username": "nobody@example.com", "action": "default"}, timeout=TIMEOUT
        )
        assert unknown.status_code == 400


def test_wrong_password_is_400(emulator: Emulator) -> None:
    http, url, state = _start_login(emulator, clear(emulator.url))
    with http:
        step = http.post(
            url,
            data={"state": state, "username": "demo@example.com", "action": "default"},
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        password_url = urljoin(emulator.auth_url, step.headers["Location"])
        assert 'id="password"' in http.get(password_url, timeout=TIMEOUT).text
        wrong = http.post(
            password_url, data={"state": state, "password": "nope"}, allow_redirects=False, timeout=TIMEOUT
        )
    assert wrong.status_code == 400 and "Wrong email or password" in wrong.text
    assert emulator.admin.stats()["logins"]["failed"] == 1


def test_captcha_account_needs_the_captcha(make_emulator: Callable[..., Emulator]) -> None:
    emu = make_emulator(accounts=[{"email": "robot@example.com", "password": "pw-robot", "captcha": True}])
    assert [a.email for a in emu.accounts] == ["demo@example.com", "robot@example.com"]
    assert emu.accounts[1].captcha
    http, url, state = _start_login(emu, clear(emu.url))
    with http:
        first = http.post(
            url,
            data={"state": state, "username": "robot@example.com"},
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        assert first.status_code == 400 and 'alt="captcha"' in first.text and 'name="captcha"' in first.text
        src = re.search(r'<img alt="captcha" src="([^"]+)"', first.text).group(1)  # type: ignore[union-attr]
        image = http.get(urljoin(emu.auth_url, src.replace("&amp;", "&")), timeout=TIMEOUT)
        assert image.headers["Content-Type"].startswith("image/svg+xml")
        answer = emu.admin.captcha_answer(state)
        assert answer not in image.text and "<text" not in image.text  # drawn, not written
        wrong = http.post(
            url,
            data={"state": state, "username": "robot@example.com", "captcha": "nope"},
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        assert wrong.status_code == 400
        answer = emu.admin.captcha_answer()  # a new one was served with the error page
        ok = http.post(
            url,
            data={"state": state, "username": "robot@example.com", "captcha": answer.lower()},
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        assert ok.status_code == 302 and "/u/login/password" in ok.headers["Location"]


def test_totp_account_logs_in_with_a_code(make_emulator: Callable[..., Emulator]) -> None:
    secret = pyotp.random_base32()
    emu = make_emulator(accounts=[{"email": "mfa@example.com", "password": "pw-mfa", "totp_secret": secret}])
    clearance = clear(emu.url)
    token = login(
        emu.url,
        emu.auth_url,
        "mfa@example.com",
        "pw-mfa",
        clearance=clearance,
        totp_code=pyotp.TOTP(secret).now(),
    )
    assert _session(emu, clearance, token).json()["user"]["email"] == "mfa@example.com"


def test_totp_account_with_an_80_bit_secret_logs_in(make_emulator: Callable[..., Emulator]) -> None:
    # 16-character secrets (80 bits) are what many authenticator set-ups still hand out.
    secret = "JBSWY3DPEHPK3PXP"

    class Totp80(pyotp.TOTP):
        min_secret_length_bits = 80

    emu = make_emulator(accounts=[{"email": "mfa@example.com", "password": "pw-mfa", "totp_secret": secret}])
    clearance = clear(emu.url)
    code = Totp80(secret).now()
    token = login(emu.url, emu.auth_url, "mfa@example.com", "pw-mfa", clearance=clearance, totp_code=code)
    assert _session(emu, clearance, token).json()["user"]["email"] == "mfa@example.com"


def test_totp_wrong_code_is_refused(make_emulator: Callable[..., Emulator]) -> None:
    secret = pyotp.random_base32()
    emu = make_emulator(accounts=[{"email": "mfa@example.com", "password": "pw-mfa", "totp_secret": secret}])
    http, url, state = _start_login(emu, clear(emu.url))
    with http:
        http.post(url, data={"state": state, "username": "mfa@example.com"}, timeout=TIMEOUT)
        step = http.post(
            urljoin(emu.auth_url, f"/u/login/password?state={state}"),
            data={"state": state, "password": "pw-mfa"},
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        otp_url = urljoin(emu.auth_url, step.headers["Location"])
        assert "/u/mfa-otp-challenge" in otp_url and 'id="code"' in http.get(otp_url, timeout=TIMEOUT).text
        good = pyotp.TOTP(secret).now()
        bad = http.post(
            otp_url,
            data={"state": state, "code": f"{(int(good) + 500000) % 1000000:06d}"},
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        assert bad.status_code == 400 and "invalid" in bad.text
        # Skipping the code step does not log in.
        resume = http.get(
            urljoin(emu.auth_url, f"/authorize/resume?state={state}"), allow_redirects=False, timeout=TIMEOUT
        )
        assert "/u/login/identifier" in resume.headers["Location"]


def test_at_capacity_landing_page(make_emulator: Callable[..., Emulator]) -> None:
    emu = make_emulator(at_capacity=True)
    clearance = clear(emu.url, path="/api/auth/session")
    response = requests.get(
        emu.url + "/auth/login",
        headers={"User-Agent": UA, "Cookie": cookie_header(cf_clearance=clearance)},
        timeout=TIMEOUT,
    )
    assert response.status_code == 503 and "ChatGPT is at capacity right now" in response.text
    assert classify_page(503, response.headers, response.text) is PageKind.AT_CAPACITY
    emu.admin.configure(at_capacity=False)
    again = requests.get(
        emu.url + "/auth/login",
        headers={"User-Agent": UA, "Cookie": cookie_header(cf_clearance=clearance)},
        timeout=TIMEOUT,
    )
    assert again.status_code == 200


def test_signin_with_a_bad_csrf_token_is_refused(shared_emulator: Emulator) -> None:
    clearance = clear(shared_emulator.url)
    response = requests.post(
        shared_emulator.url + "/api/auth/signin/auth0?prompt=login",
        data={"callbackUrl": "/chat", "csrfToken": "forged", "json": "true"},
        headers={"User-Agent": UA, "Cookie": cookie_header(cf_clearance=clearance)},
        timeout=TIMEOUT,
    )
    assert response.json()["url"].endswith("/api/auth/signin?csrf=true")


def test_callback_with_a_bad_code_does_not_log_in(shared_emulator: Emulator) -> None:
    clearance = clear(shared_emulator.url)
    response = requests.get(
        shared_emulator.url + "/api/auth/callback/auth0?code=nope&state=nope",
        headers={"User-Agent": UA, "Cookie": cookie_header(cf_clearance=clearance)},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert response.status_code == 400 and "__Secure-next-auth.session-token" not in response.cookies


def test_chat_page_needs_a_session(shared_emulator: Emulator) -> None:
    clearance = clear(shared_emulator.url)
    headers = {"User-Agent": UA, "Cookie": cookie_header(cf_clearance=clearance)}
    anonymous = requests.get(
        shared_emulator.url + "/chat", headers=headers, allow_redirects=False, timeout=TIMEOUT
    )
    assert anonymous.status_code == 302 and anonymous.headers["Location"] == "/auth/login"


def test_signout_ends_the_session(emulator: Emulator) -> None:
    clearance = clear(emulator.url)
    token = emulator.admin.issue_session()["session_token"]
    headers = {"User-Agent": UA, "Cookie": cookie_header(cf_clearance=clearance, session=token)}
    providers = requests.get(emulator.url + "/api/auth/providers", headers=headers, timeout=TIMEOUT).json()
    assert providers["auth0"]["callbackUrl"] == emulator.url + "/api/auth/callback/auth0"
    response = requests.post(emulator.url + "/api/auth/signout", headers=headers, timeout=TIMEOUT)
    assert response.json()["url"].endswith("/auth/login")
    assert _session(emulator, clearance, token).json() == {}
