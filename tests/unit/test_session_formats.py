"""The CLI's pure output helpers: remaining-lifetime text and the status table."""

from __future__ import annotations

import time

from chatgpt_browser.cli.formats import status_table, ttl_text
from chatgpt_browser.config import Settings
from chatgpt_browser.credentials import Credentials


def test_ttl_text() -> None:
    assert ttl_text(None) == "-"
    assert ttl_text(-5) == "expired"
    assert ttl_text(0) == "expired"
    assert ttl_text(42.9) == "42s"
    assert ttl_text(27 * 60 + 10) == "27m 10s"
    assert ttl_text(3600 + 5 * 60) == "1h 05m"
    assert ttl_text(29 * 86400 + 23 * 3600 + 59) == "29d 23h"


def test_status_table_aligns_and_hides_secrets() -> None:
    now = time.time()
    creds = Credentials(
        site="http://127.0.0.1:9",
        user_agent="UA",
        session_token="very-secret-session",
        clearance_token="very-secret-clearance",
        account="a@example.com",
        clearance_expires_at=now + 630,
        session_expires_at=now + 86400 * 2 + 3600 + 90,
    )
    rows = [{"key": "k1", **creds.describe()}, {"key": "k2", "error": "bad record"}]
    text = status_table(rows)
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["ACCOUNT", "SITE", "SOURCE"]
    assert lines[1].startswith("a@example.com") and "10m " in lines[1] and "2d 01h" in lines[1]
    assert "unreadable" in lines[2] and "bad record" in lines[2]
    assert lines[1].index("http://") == lines[0].index("SITE")  # columns line up
    assert "very-secret" not in text


def test_netscape_marks_prefixed_cookies_secure() -> None:
    # curl (and browsers) refuse a `__Secure-` cookie without the secure flag; curl
    # still sends secure cookies to http://localhost / 127.0.0.1, as Chromium does.
    from chatgpt_browser.cli.formats import format_bundle
    from chatgpt_browser.config import load_settings

    now = time.time()
    creds = Credentials(
        site="http://127.0.0.1:8000",
        user_agent="UA",
        session_token="session-value",
        clearance_token="clearance-value",
        clearance_expires_at=now + 60,
        session_expires_at=now + 120,
    )
    for url, clearance_secure in (("http://127.0.0.1:8000", "FALSE"), ("https://chat.example", "TRUE")):
        settings = load_settings({"url": url}, environ={"CHATGPT_BROWSER_CONFIG": ""})
        rows = [line.split("\t") for line in format_bundle(creds, "netscape", settings).splitlines()[2:]]
        secure = {row[5]: row[3] for row in rows}
        assert secure == {"cf_clearance": clearance_secure, "__Secure-next-auth.session-token": "TRUE"}


def _bundle() -> Credentials:
    now = time.time()
    return Credentials(
        site="http://127.0.0.1:8000",
        user_agent='Mozilla/5.0 (X11) Chrome/131.0.0.0 Safari/537.36 "quoted"',
        session_token="session-value",
        clearance_token="clearance-value",
        access_token="access-value",
        clearance_expires_at=now + 60,
        session_expires_at=now + 120,
        headers={"sec-ch-ua-platform": '"Linux"'},
        proxy="http://u:pw-secret@127.0.0.1:3128",
    )


def _settings() -> Settings:
    from chatgpt_browser.config import load_settings

    return load_settings({"url": "http://127.0.0.1:8000"}, environ={"CHATGPT_BROWSER_CONFIG": ""})


def test_curl_config_quotes_values_and_carries_everything() -> None:
    import shlex

    from chatgpt_browser.cli.formats import format_bundle

    text = format_bundle(_bundle(), "curl", _settings())
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    values = {line.split(" = ", 1)[0]: [] for line in lines}
    for line in lines:
        key, value = line.split(" = ", 1)
        values[key].append(shlex.split(value)[0])  # curl's quoting is a subset of the shell's
    assert 'User-Agent: Mozilla/5.0 (X11) Chrome/131.0.0.0 Safari/537.36 "quoted"' in values["header"]
    assert "Authorization: Bearer access-value" in values["header"]
    assert 'sec-ch-ua-platform: "Linux"' in values["header"]
    assert values["cookie"] == [
        "cf_clearance=clearance-value; __Secure-next-auth.session-token=session-value"
    ]


def test_storage_state_and_json_formats() -> None:
    import json

    from chatgpt_browser.cli.formats import browser_major, format_bundle

    state = json.loads(format_bundle(_bundle(), "storage-state", _settings()))
    cookies = {c["name"]: c for c in state["cookies"]}
    assert cookies["__Secure-next-auth.session-token"]["httpOnly"] is True
    assert cookies["__Secure-next-auth.session-token"]["secure"] is True
    assert cookies["cf_clearance"]["domain"] == "127.0.0.1" and state["origins"] == []
    text = format_bundle(_bundle(), "json", _settings())
    assert "pw-secret" not in text
    data = json.loads(text)
    assert data["browser_major"] == 131 and data["proxy"] == "http://u:***@127.0.0.1:3128"
    assert Credentials.from_json(text).access_token == "access-value"
    assert browser_major("curl/8.0") is None
