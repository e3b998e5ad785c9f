"""The CLI's pure output helpers: remaining-lifetime text and the status table."""

from __future__ import annotations

import time

from chatgpt_browser.cli_formats import status_table, ttl_text
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
