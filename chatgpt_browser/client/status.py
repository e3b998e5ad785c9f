"""Map an HTTP answer (status, headers, body) to the package's typed errors.

The one place that reads the site's error envelopes (wire-protocol.md section 6):
`{"detail": "text"}` or `{"detail": {"message", "code", ...}}`, and the Cloudflare
pages recognised by the core `pages.classify_page` (the harvest's detector).
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from ..errors import (
    AuthenticationError,
    BlockedError,
    ChallengeRequiredError,
    ChatGPTBrowserError,
    ChatGPTError,
    ConversationNotFoundError,
    MessageTooLongError,
    RateLimitError,
    ServerError,
    SiteAtCapacityError,
)
from ..pages import PageKind, classify_page

#: The server's text for a second message while one is still streaming.
BUSY_MARKER = "only one message at a time"
_EXCERPT = 200


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """`Retry-After` as seconds: delta-seconds or an HTTP date; None when absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def parse_detail(body: bytes) -> Any:
    """The `detail` of a JSON error envelope, else a short text excerpt of the body."""
    try:
        document = json.loads(body)
    except ValueError:
        return body[:_EXCERPT].decode("utf-8", "replace").strip() or None
    if isinstance(document, dict) and "detail" in document:
        return document["detail"]
    return document


def detail_message(detail: Any) -> str:
    """A one-line human message from a `detail` value."""
    if isinstance(detail, dict):
        return str(detail.get("message") or detail.get("code") or "")
    if isinstance(detail, str):
        return detail
    return "" if detail is None else json.dumps(detail)[:_EXCERPT]


def is_busy(error: BaseException) -> bool:
    """True for the 429 "Only one message at a time" answer."""
    return isinstance(error, RateLimitError) and BUSY_MARKER in detail_message(error.detail).lower()


def error_for_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    what: str,
    response: Any = None,
) -> ChatGPTBrowserError:
    """The typed error for a non-success answer to `what` (e.g. "POST /backend-api/conversation")."""
    kind = classify_page(status, headers, body)
    try:
        status_text = HTTPStatus(status).phrase
    except ValueError:
        status_text = "Origin Timeout" if status == 524 else ""
    common: dict[str, Any] = {"status_code": status, "status_text": status_text, "response": response}

    if kind is PageKind.BLOCKED:
        return BlockedError(f"{what}: the site blocks this IP address (403 Access denied, error 1020)")
    if kind.is_challenge:
        interactive = " (interactive)" if kind is PageKind.INTERACTIVE_CHALLENGE else ""
        return ChallengeRequiredError(
            f"{what}: Cloudflare challenge{interactive} ({status}); the clearance is missing, expired "
            "or bound to another IP / User-Agent",
            detail="challenge",
            **common,
        )
    if kind is PageKind.AT_CAPACITY:
        return SiteAtCapacityError(f"{what}: the site is at capacity right now ({status})", **common)

    detail = parse_detail(body)
    message = detail_message(detail)
    summary = f"{what}: {status} {status_text}".rstrip() + (f": {message}" if message else "")
    common["detail"] = detail
    if status == 401:
        code = detail.get("code") if isinstance(detail, dict) else None
        return AuthenticationError(summary, code=code, **common)
    if status == 429:
        retry_after = parse_retry_after(_header(headers, "retry-after"))
        return RateLimitError(summary, retry_after=retry_after, **common)
    if status == 404:
        return ConversationNotFoundError(summary, **common)
    if status == 413:
        return MessageTooLongError(summary, **common)
    if status == 503:
        return SiteAtCapacityError(summary, **common)
    if status >= 500:
        return ServerError(summary, **common)
    return ChatGPTError(summary, **common)


__all__ = [
    "BUSY_MARKER",
    "detail_message",
    "error_for_response",
    "is_busy",
    "parse_detail",
    "parse_retry_after",
]
