"""The challenge / block / capacity classifier on page markers."""

from __future__ import annotations

import pytest

from chatgpt_browser.pages import PageKind, classify_page

HTML = {"Content-Type": "text/html; charset=UTF-8"}

CHALLENGE_2022 = """<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<link href="/cdn-cgi/styles/challenges.css" rel="stylesheet"></head><body>
<h2 id="challenge-running">Checking if the site connection is secure</h2>
<form id="challenge-form" action="/api/auth/session?__cf_chl_f_tk=x" method="POST"></form>
<script>window._cf_chl_opt={cvId: '2', cType: 'managed'}</script></body></html>"""
CHALLENGE_2023 = """<!DOCTYPE html><html><head><title>Please Wait... | Cloudflare</title></head>
<body><div id="cf-please-wait">Please stand by, while we are checking your browser...</div></body></html>"""
INTERACTIVE = CHALLENGE_2022.replace(
    "</body>", '<label><input type="checkbox">Verify you are human</label></body>'
)
BLOCK = """<!DOCTYPE html><html><head>
<title>Access denied | chat.openai.com used Cloudflare to restrict access</title>
</head><body><h1>Access denied</h1><span>Error code 1020</span></body></html>"""
CAPACITY = "<!DOCTYPE html><html><body><h1>ChatGPT is at capacity right now</h1></body></html>"


@pytest.mark.parametrize(
    ("status", "headers", "body", "expected"),
    [
        (403, HTML, CHALLENGE_2022, PageKind.CHALLENGE),
        (403, HTML, CHALLENGE_2022.encode(), PageKind.CHALLENGE),
        (503, HTML, CHALLENGE_2023, PageKind.CHALLENGE),
        (403, HTML, INTERACTIVE, PageKind.INTERACTIVE_CHALLENGE),
        (403, HTML, BLOCK, PageKind.BLOCKED),
        (503, HTML, CAPACITY, PageKind.AT_CAPACITY),
        (200, {"Content-Type": "application/json"}, '{"user": {}}', PageKind.OK),
        # a JSON 403 is an API error, not a challenge
        (403, {"Content-Type": "application/json"}, '{"detail": "Just a moment"}', PageKind.OK),
        (403, {"cf-mitigated": "challenge"}, "", PageKind.CHALLENGE),
        (200, None, None, PageKind.OK),
    ],
)
def test_classify_page(
    status: int, headers: dict[str, str] | None, body: str | bytes | None, expected: PageKind
) -> None:
    assert classify_page(status, headers, body) is expected


def test_only_challenges_count_as_challenges() -> None:
    assert PageKind.CHALLENGE.is_challenge and PageKind.INTERACTIVE_CHALLENGE.is_challenge
    assert not PageKind.BLOCKED.is_challenge and not PageKind.OK.is_challenge
