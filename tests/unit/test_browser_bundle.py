"""Turning what the browser saw into a Credentials bundle (pure helpers)."""

from __future__ import annotations

import base64
import json

import pytest

from chatgpt_browser.browser.bundle import build_credentials, client_hints, cookie_value
from chatgpt_browser.config import SiteProfile
from chatgpt_browser.errors import LoginFailedError
from chatgpt_browser.site import SessionAnswer

SESSION = "__Secure-next-auth.session-token"


def _jwt(claims: dict[str, object]) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256'})}.{part(claims)}.c2ln"


def test_cookie_value_plain_and_chunked() -> None:
    assert cookie_value([{"name": SESSION, "value": "abc"}], SESSION) == "abc"
    chunks = [{"name": f"{SESSION}.1", "value": "def"}, {"name": f"{SESSION}.0", "value": "abc"}]
    assert cookie_value(chunks, SESSION) == "abcdef"
    assert cookie_value([{"name": "other", "value": "x"}], SESSION) is None
    with pytest.raises(LoginFailedError):
        cookie_value(
            [{"name": f"{SESSION}.0", "value": "a"}, {"name": f"{SESSION}.2", "value": "c"}], SESSION
        )


def test_client_hints_are_copied_exactly() -> None:
    sent = {
        "Sec-CH-UA": '"Chromium";v="156"',
        "sec-ch-ua-mobile": "?0",
        "sec-ch-ua-platform": '"Linux"',
        "accept-language": "en-US,en;q=0.9",
        "cookie": "secret",
    }
    assert client_hints(sent) == {
        "sec-ch-ua": '"Chromium";v="156"',
        "sec-ch-ua-mobile": "?0",
        "sec-ch-ua-platform": '"Linux"',
        "accept-language": "en-US,en;q=0.9",
    }


def test_build_credentials() -> None:
    site = SiteProfile(base_url="http://127.0.0.1:8000", clearance_ttl=1800)
    token = _jwt({"exp": 2000003600})
    creds = build_credentials(
        site=site,
        session=SessionAnswer(user={"email": "a@b.c"}, access_token=token, session_expires_at=2000000000.0),
        cookies=[{"name": SESSION, "value": "s3cr3t-session"}, {"name": "cf_clearance", "value": "clr"}],
        sent_headers={"user-agent": "UA/1", "sec-ch-ua-mobile": "?0"},
        account=None,
        proxy="http://u:pw@127.0.0.1:3128",
        now=2000000000.0,
        timings={"total": 1.0},
        source="harvest",
    )
    assert creds.session_token == "s3cr3t-session" and creds.clearance_token == "clr"
    assert creds.user_agent == "UA/1" and creds.account == "a@b.c"
    assert creds.clearance_expires_at == 2000001800.0
    assert creds.session_expires_at == 2000000000.0
    assert creds.access_token_expires_at == 2000003600.0
    assert dict(creds.headers) == {"sec-ch-ua-mobile": "?0"}
    assert "s3cr3t" not in repr(creds) and ":pw@" not in repr(creds)
    with pytest.raises(LoginFailedError):
        build_credentials(
            site=site,
            session=SessionAnswer(user={}, access_token="a.b.c", session_expires_at=None),
            cookies=[],
            sent_headers={"user-agent": "x"},
            account=None,
            proxy=None,
            now=0.0,
            timings={},
            source="harvest",
        )
