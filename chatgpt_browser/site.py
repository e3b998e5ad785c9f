"""The site's wire rules that the browser side and the client side both need.

One copy of each (wire-protocol.md sections 3-6): the client-hint headers a client
copies from the harvesting browser, the `/api/auth/session` answer, the access
token's expiry rule, the error envelopes and Cloudflare pages of an HTTP answer
(-> one typed error), and why credentials are renewed (`RenewReason`). The
emulator mirrors these on purpose and imports none of them (docs/architecture.md).
"""

from __future__ import annotations

import dataclasses
import enum
import json
import time
from collections.abc import Mapping
from http import HTTPStatus

from .credentials import jwt_expiry, parse_iso8601
from .errors import (
    BlockedError,
    ChatGPTBrowserError,
    ChatGPTError,
    ClearanceRejectedError,
    ConversationNotFoundError,
    InvalidRequestError,
    MessageTooLongError,
    RateLimitError,
    ServerError,
    SiteAtCapacityError,
    UnauthorizedError,
)
from .pages import PageKind, classify_page

#: Request headers an HTTP client must copy to look like the browser that earned the clearance.
CLIENT_HINT_HEADERS = ("sec-ch-ua", "sec-ch-ua-mobile", "sec-ch-ua-platform", "accept-language")

#: The server's text for a second message while one is still streaming.
BUSY_MARKER = "only one message at a time"
_EXCERPT = 200


class RenewReason(str, enum.Enum):
    """Why credentials are renewed; a `str`, so logs and old string callers keep working."""

    EMPTY = "empty"  # nothing stored yet
    CLEARANCE_PROXY_CHANGED = "clearance-proxy-changed"
    CLEARANCE_EXPIRING = "clearance-expiring"
    SESSION_EXPIRING = "session-expiring"
    ACCESS_TOKEN_EXPIRING = "access-token-expiring"
    UNAUTHORIZED = "401"  # the site answered 401: the session side is dead
    CHALLENGE = "403-challenge"  # the site answered a challenge: the clearance is dead
    FORCED = "forced"  # the user asked (`session --renew`)
    LOGIN = "login"  # the user asked for a full login
    RESET = "reset"  # `ChatGPTAPI.reset_session()`

    @property
    def needs_browser(self) -> bool:
        """True when only a browser can fix it (the clearance side, or a fresh login)."""
        return self in _BROWSER_REASONS

    @classmethod
    def of(cls, reason: str | RenewReason) -> RenewReason | None:
        """The member for a reason string, None for a reason this package does not know."""
        try:
            return cls(reason)
        except ValueError:
            return None

    def __str__(self) -> str:
        return self.value


_BROWSER_REASONS = frozenset(
    {
        RenewReason.EMPTY,
        RenewReason.CLEARANCE_PROXY_CHANGED,
        RenewReason.CLEARANCE_EXPIRING,
        RenewReason.CHALLENGE,
        RenewReason.FORCED,
        RenewReason.LOGIN,
    }
)


def client_hints(sent: Mapping[str, str]) -> dict[str, str]:
    """The client hints (and Accept-Language) among headers a browser sent, lower-cased."""
    lowered = {k.lower(): v for k, v in sent.items()}
    return {name: lowered[name] for name in CLIENT_HINT_HEADERS if name in lowered}


def access_token_expiry(token: str | None, *, now: float, ttl: float) -> float | None:
    """When an access token stops being usable: its JWT `exp`, capped at `now + ttl`
    (the site's own cache lifetime); None for no token."""
    if not token:
        return None
    expiry = jwt_expiry(token)
    return now + ttl if expiry is None else min(expiry, now + ttl)


# -- the session answer ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SessionAnswer:
    """The parsed `/api/auth/session` answer of a live session."""

    user: Mapping[str, object]
    access_token: str
    session_expires_at: float | None

    @property
    def access_token_expires_at(self) -> float | None:
        """The token's own `exp` (uncapped; see `access_token_expiry`)."""
        return jwt_expiry(self.access_token)


def session_document(body: bytes | str) -> dict[str, object]:
    """The JSON object of a session answer; {} for anything else (HTML, a list, junk)."""
    try:
        document = json.loads(body)
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def session_has_user(document: Mapping[str, object]) -> bool:
    """True for the answer of a signed-in session (a user and no refresh error)."""
    return isinstance(document.get("user"), dict) and not document.get("error")


def parse_session_answer(body: bytes | str, *, what: str) -> SessionAnswer:
    """Validate the session JSON; `{}` or a refresh error -> `UnauthorizedError`."""
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise ChatGPTError(f"{what}: expected JSON, got {body[:40]!r}...", status_code=200) from exc
    if not isinstance(document, dict):
        raise ChatGPTError(f"{what}: unexpected answer", status_code=200, detail=document)
    if document.get("error"):
        raise UnauthorizedError(
            f"{what}: the site could not refresh the session ({document['error']})",
            code=str(document["error"]),
            detail=document["error"],
        )
    token = document.get("accessToken")
    if not token or not isinstance(token, str):
        raise UnauthorizedError(
            f"{what}: the session is no longer valid (empty session); log in again",
            code="session_expired",
        )
    user = document.get("user")
    return SessionAnswer(
        user=user if isinstance(user, dict) else {},
        access_token=token,
        session_expires_at=parse_iso8601(document.get("expires")),
    )


# -- an HTTP answer -> a typed error -----------------------------------------------------


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """`Retry-After` as seconds: delta-seconds or an HTTP date; None when absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    import email.utils  # rare (most sites send seconds), and a few ms of every start-up

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


def parse_detail(body: bytes) -> object:
    """The `detail` of a JSON error envelope, else a short text excerpt of the body."""
    try:
        document = json.loads(body)
    except ValueError:
        return body[:_EXCERPT].decode("utf-8", "replace").strip() or None
    if isinstance(document, dict) and "detail" in document:
        return document["detail"]
    return document


def detail_message(detail: object) -> str:
    """A one-line human message from a `detail` value."""
    if isinstance(detail, dict):
        return str(detail.get("message") or detail.get("code") or "")
    if isinstance(detail, str):
        return detail
    return "" if detail is None else json.dumps(detail)[:_EXCERPT]


def is_busy(error: BaseException) -> bool:
    """True for the 429 "Only one message at a time" answer."""
    return isinstance(error, RateLimitError) and BUSY_MARKER in detail_message(error.detail).lower()


#: Status -> error class for answers that carry the site's JSON error envelope.
_BY_STATUS: dict[int, type[ChatGPTError]] = {
    400: InvalidRequestError,
    404: ConversationNotFoundError,
    413: MessageTooLongError,
    422: InvalidRequestError,
    503: SiteAtCapacityError,
}


def error_for_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    what: str,
    response: object = None,
) -> ChatGPTBrowserError:
    """The typed error for a non-success answer to `what` (e.g. "POST /backend-api/conversation")."""
    kind = classify_page(status, headers, body)
    try:
        status_text = HTTPStatus(status).phrase
    except ValueError:
        status_text = "Origin Timeout" if status == 524 else ""

    def typed(
        cls: type[ChatGPTError],
        message: str,
        *,
        detail: object = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> ChatGPTError:
        return cls(
            message,
            status_code=status,
            status_text=status_text,
            response=response,
            detail=detail,
            code=code,
            retry_after=retry_after,
        )

    if kind is PageKind.BLOCKED:
        return BlockedError(f"{what}: the site blocks this IP address (403 Access denied, error 1020)")
    if kind.is_challenge:
        interactive = " (interactive)" if kind is PageKind.INTERACTIVE_CHALLENGE else ""
        return typed(
            ClearanceRejectedError,
            f"{what}: Cloudflare challenge{interactive} ({status}); the clearance is missing, expired "
            "or bound to another IP / User-Agent",
            detail="challenge",
        )
    if kind is PageKind.AT_CAPACITY:
        return typed(SiteAtCapacityError, f"{what}: the site is at capacity right now ({status})")

    detail = parse_detail(body)
    message = detail_message(detail)
    summary = f"{what}: {status} {status_text}".rstrip() + (f": {message}" if message else "")
    if status == 401:
        code = detail.get("code") if isinstance(detail, dict) else None
        return typed(UnauthorizedError, summary, code=code, detail=detail)
    if status == 429:
        retry_after = parse_retry_after(_header(headers, "retry-after"))
        return typed(RateLimitError, summary, retry_after=retry_after, detail=detail)
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else ChatGPTError)
    return typed(cls, summary, detail=detail)


__all__ = [
    "BUSY_MARKER",
    "CLIENT_HINT_HEADERS",
    "RenewReason",
    "SessionAnswer",
    "access_token_expiry",
    "client_hints",
    "detail_message",
    "error_for_response",
    "is_busy",
    "parse_detail",
    "parse_retry_after",
    "parse_session_answer",
    "session_document",
    "session_has_user",
]
