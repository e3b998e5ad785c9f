"""Status -> typed error mapping, credential headers, cookies, JWT expiry, markdown->text."""

from __future__ import annotations

import base64
import json
import time

import pytest
from support.bundles import UA

from chatgpt_browser.client._curl import CurlCffiTransport, impersonate_target
from chatgpt_browser.client._text import markdown_to_text
from chatgpt_browser.client._wire import (
    apply_session_answer,
    credential_headers,
    is_bound_header,
    merge_headers,
    rotated_session_cookie,
)
from chatgpt_browser.config import SiteProfile
from chatgpt_browser.credentials import Credentials
from chatgpt_browser.errors import (
    BlockedError,
    ChatGPTError,
    ClearanceRejectedError,
    ConfigError,
    ConversationNotFoundError,
    MessageTooLongError,
    RateLimitError,
    ServerError,
    SiteAtCapacityError,
    UnauthorizedError,
)
from chatgpt_browser.site import error_for_response, is_busy, parse_retry_after, parse_session_answer

CHALLENGE = (
    b"<!DOCTYPE html><html><head><title>Just a moment...</title>"
    b'<link rel="stylesheet" href="/cdn-cgi/styles/challenges.css"></head><body>'
    b'<h2 id="challenge-running">Checking if the site connection is secure</h2></body></html>'
)
JSON = {"content-type": "application/json"}
HTML = {"content-type": "text/html; charset=UTF-8"}
SITE = SiteProfile(base_url="http://127.0.0.1:8080")


def make_jwt(exp: float) -> str:
    def b64(obj: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{b64({'alg': 'RS256'})}.{b64({'exp': exp, 'sub': 'user-1'})}.c2ln"


def creds(**changes: object) -> Credentials:
    base = Credentials(
        site=SITE.base_url,
        user_agent=UA,
        session_token="SESSION-SECRET",
        clearance_token="CLEARANCE-SECRET",
        headers={"sec-ch-ua": '"Chromium";v="120"', "sec-ch-ua-platform": '"Linux"', "x-other": "dropped"},
    )
    return base.replace(**changes)


@pytest.mark.parametrize(
    ("status", "headers", "body", "kind"),
    [
        (401, JSON, b'{"detail":{"message":"expired","code":"token_expired"}}', UnauthorizedError),
        (403, HTML, CHALLENGE, ClearanceRejectedError),
        (403, HTML, b"<html><title>Access denied</title>error code: 1020</html>", BlockedError),
        (403, JSON, b'{"detail":"forbidden"}', ChatGPTError),
        (429, JSON, b'{"detail":"Too many requests in 1 hour. Try again later."}', RateLimitError),
        (404, JSON, b'{"detail":"Conversation not found"}', ConversationNotFoundError),
        (
            413,
            JSON,
            b'{"detail":{"message":"too long","code":"message_length_exceeds_limit"}}',
            MessageTooLongError,
        ),
        (500, HTML, b"<html>Internal error</html>", ServerError),
        (524, HTML, b"<html>A timeout occurred</html>", ServerError),
        (503, HTML, b"<html>ChatGPT is at capacity right now</html>", SiteAtCapacityError),
        (418, JSON, b"{}", ChatGPTError),
    ],
)
def test_error_mapping(status: int, headers: dict[str, str], body: bytes, kind: type) -> None:
    error = error_for_response(status, headers, body, what="GET /x")
    assert type(error) is kind
    if isinstance(error, ChatGPTError):
        assert error.status_code == status


def test_error_details_keep_the_server_text() -> None:
    error = error_for_response(
        401, JSON, b'{"detail":{"message":"Expired.","code":"invalid_jwt"}}', what="GET /x"
    )
    assert isinstance(error, UnauthorizedError)
    assert error.code == "invalid_jwt" and "Expired." in str(error)
    busy = error_for_response(
        429,
        {"Retry-After": "12"},
        b'{"detail":"Only one message at a time. Please allow..."}',
        what="POST /c",
    )
    assert isinstance(busy, RateLimitError) and busy.retry_after == 12.0 and is_busy(busy)
    timeout = error_for_response(524, {}, b"", what="x")
    assert isinstance(timeout, ServerError) and timeout.status_text == "Origin Timeout"


def test_retry_after_parsing() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == pytest.approx(10.0)


def test_credential_headers_follow_the_bundle_and_the_allow_list() -> None:
    headers = credential_headers(
        SITE.url("/backend-api/conversation"),
        creds(),
        SITE,
        SITE.allowed_hosts,
        bearer="ACCESS",
        extra={"User-Agent": "python-requests", "sec-ch-ua": "fake", "X-Extra": "1"},
    )
    assert headers["User-Agent"] == UA
    assert headers["sec-ch-ua"] == '"Chromium";v="120"'
    assert "x-other" not in headers and headers["X-Extra"] == "1"
    assert (
        headers["Cookie"] == "cf_clearance=CLEARANCE-SECRET; __Secure-next-auth.session-token=SESSION-SECRET"
    )
    assert headers["Authorization"] == "Bearer ACCESS"
    with pytest.raises(ConfigError, match="refusing"):
        credential_headers("http://evil.example/x", creds(), SITE, SITE.allowed_hosts)


def test_header_merging_is_case_insensitive_and_keeps_bound_headers() -> None:
    assert merge_headers({"Accept": "a", "Origin": "o"}, None, {"accept": "b"}) == {
        "accept": "b",
        "Origin": "o",
    }
    assert all(is_bound_header(n) for n in ("user-agent", "Cookie", "AUTHORIZATION", "Sec-CH-UA-Platform"))
    assert is_bound_header("accept") and is_bound_header("Content-Type")
    assert not any(is_bound_header(n) for n in ("Origin", "Accept-Language", "X-Debug"))
    headers = credential_headers(
        SITE.url("/backend-api/conversation"),
        creds(),
        SITE,
        SITE.allowed_hosts,
        bearer="ACCESS",
        defaults={"Accept": "text/event-stream", "Origin": SITE.base_url},
        extra={
            "origin": "https://other.example",
            "cookie": "x=1",
            "authorization": "Bearer no",
            "ACCEPT": "*/*",
        },
    )
    lowered = [name.lower() for name in headers]
    assert len(lowered) == len(set(lowered))
    assert headers["origin"] == "https://other.example" and headers["Accept"] == "text/event-stream"
    assert headers["Authorization"] == "Bearer ACCESS" and "x=1" not in headers["Cookie"]


def test_rotated_session_cookie() -> None:
    name = SITE.session_cookie
    new = rotated_session_cookie([f"{name}=NEW; Path=/; Max-Age=100; HttpOnly; Secure"], name, now=50.0)
    assert new is not None and new.value == "NEW" and new.expires_at == 150.0
    cleared = rotated_session_cookie([f"{name}=; Path=/; Max-Age=0"], name, now=50.0)
    assert cleared is not None and cleared.value is None
    chunks = rotated_session_cookie([f"{name}.1=BB; Path=/", f"{name}.0=AA; Path=/", "other=x"], name)
    assert chunks is not None and chunks.value == "AABB"
    assert rotated_session_cookie(["other=x"], name) is None


def test_session_answer_parsing_and_applying() -> None:
    exp = time.time() + 600
    body = json.dumps(
        {"user": {"id": "user-1"}, "expires": "2030-01-01T00:00:00.000Z", "accessToken": make_jwt(exp)}
    ).encode()
    answer = parse_session_answer(body, what="GET s")
    assert answer.user["id"] == "user-1" and answer.access_token_expires_at == exp
    rotated = rotated_session_cookie(
        [f"{SITE.session_cookie}=ROTATED; Max-Age=1000"], SITE.session_cookie, now=0
    )
    updated = apply_session_answer(
        creds(), answer, rotated, access_token_ttl=3600, now=time.time(), source="s"
    )
    assert updated.session_token == "ROTATED" and updated.access_token_expires_at == exp
    short = apply_session_answer(creds(), answer, None, access_token_ttl=60, now=100.0, source="s")
    assert short.access_token_expires_at == 160.0 and short.session_token == "SESSION-SECRET"
    with pytest.raises(UnauthorizedError, match="no longer valid"):
        parse_session_answer(b"{}", what="GET s")
    with pytest.raises(UnauthorizedError) as info:
        parse_session_answer(b'{"error":"RefreshAccessTokenError"}', what="GET s")
    assert info.value.code == "RefreshAccessTokenError"
    with pytest.raises(ChatGPTError, match="expected JSON"):
        parse_session_answer(b"<html>", what="GET s")


def test_markdown_to_text() -> None:
    text = markdown_to_text(
        "# Title\n\nSome **bold** `code` [link](http://x).\n\n- one\n- two\n\n```\nx = 1\n```"
    )
    assert text == "Title\n\nSome bold code link.\n\none\ntwo\n\nx = 1"
    assert markdown_to_text("") == ""


def test_impersonate_target_matches_the_ua_chrome_version() -> None:
    assert impersonate_target(UA) == "chrome120"
    assert impersonate_target(UA.replace("Chrome/120", "Chrome/108")) == "chrome107"
    assert impersonate_target("curl/8").startswith("chrome")


def test_curl_transport_picks_the_profile_of_each_request_s_user_agent() -> None:
    transport = CurlCffiTransport(user_agent=UA)  # a renewal may bring another browser's UA
    try:
        assert transport.impersonate == "chrome120"
        assert transport.target_for({"user-agent": UA.replace("Chrome/120", "Chrome/108")}) == "chrome107"
        assert transport.target_for({"User-Agent": UA}) == "chrome120"
    finally:
        transport.close()
    fixed = CurlCffiTransport(user_agent=UA, impersonate="chrome110")
    assert fixed.target_for({"User-Agent": UA}) == "chrome110"
