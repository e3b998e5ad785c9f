"""Recognise what the site answered: the page, a Cloudflare challenge, a hard block,
or the "at capacity" page. Pure (no I/O), shared by the browser harvest and the client.

Markers come from captures of the real site (see wire-protocol.md section 1): the
2022 managed challenge ("Just a moment...", `challenge-running`, `_cf_chl_opt`,
`/cdn-cgi/styles/challenges.css`), its 2023 variant (`cf-please-wait`, "Please stand
by"), interactive variants ("Verify you are human", hCaptcha / Turnstile), and the
hard block ("Access denied", error code 1020).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

# A challenge page is small; looking at the head of the body is enough and keeps
# classifying a large JSON or HTML answer cheap.
_SCAN_LIMIT = 64 * 1024

_CHALLENGE_MARKERS = (
    "<title>just a moment...</title>",
    'id="challenge-running"',
    'id="challenge-form"',
    "window._cf_chl_opt",
    "/cdn-cgi/styles/challenges.css",
    'id="cf-please-wait"',
    "please stand by, while we are checking your browser",
    "checking if the site connection is secure",
)
_INTERACTIVE_MARKERS = (
    "verify you are human",
    "cf-turnstile",
    "hcaptcha",
    "challenges.cloudflare.com/turnstile",
)
_BLOCK_MARKERS = (
    "error code: 1020",
    "error code 1020",
    "<title>access denied",
    'data-translate="error" >access denied',
)
_CAPACITY_MARKERS = ("chatgpt is at capacity right now", "is at capacity right now")


class PageKind(enum.Enum):
    """What a response is, as far as getting through to the site is concerned."""

    OK = "ok"
    CHALLENGE = "challenge"
    INTERACTIVE_CHALLENGE = "interactive_challenge"
    BLOCKED = "blocked"
    AT_CAPACITY = "at_capacity"

    @property
    def is_challenge(self) -> bool:
        return self in (PageKind.CHALLENGE, PageKind.INTERACTIVE_CHALLENGE)


def _header(headers: Mapping[str, str] | None, name: str) -> str:
    if not headers:
        return ""
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return ""


def classify_page(
    status: int | None, headers: Mapping[str, str] | None, body: str | bytes | None
) -> PageKind:
    """Classify a response by status, headers and (the head of) its body.

    A challenge is recognised by its markers, not by the status alone: a 403 with a
    JSON body is an ordinary API error, and a 200 page may still be a challenge when a
    browser is mid-way through one.
    """
    if isinstance(body, bytes):
        text = body[:_SCAN_LIMIT].decode("utf-8", "replace").lower()
    else:
        text = (body or "")[:_SCAN_LIMIT].lower()
    content_type = _header(headers, "content-type").lower()
    looks_html = "html" in content_type or text.lstrip().startswith(("<!doctype", "<html"))

    if looks_html and any(marker in text for marker in _BLOCK_MARKERS):
        return PageKind.BLOCKED
    if looks_html and any(marker in text for marker in _CHALLENGE_MARKERS):
        if any(marker in text for marker in _INTERACTIVE_MARKERS):
            return PageKind.INTERACTIVE_CHALLENGE
        return PageKind.CHALLENGE
    if status in (403, 503) and _header(headers, "cf-mitigated").lower() == "challenge":
        return PageKind.CHALLENGE
    if any(marker in text for marker in _CAPACITY_MARKERS):
        return PageKind.AT_CAPACITY
    return PageKind.OK


__all__ = ["PageKind", "classify_page"]
