"""Expiry times read out of tokens and session answers (never verified: only when to renew)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json


def jwt_expiry(token: str | None) -> float | None:
    """The `exp` claim of a JWT access token, as epoch seconds (None: absent or unreadable).

    Not verified: it only tells when to renew, and the site checks the token anyway.
    """
    if not token or token.count(".") != 2:
        return None
    payload = token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, TypeError, binascii.Error):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return float(exp) if isinstance(exp, (int, float)) and not isinstance(exp, bool) else None


def parse_iso8601(text: object) -> float | None:
    """Epoch seconds from the session's "expires" ("2023-01-10T12:00:00.000Z"); None if unreadable."""
    if not isinstance(text, str) or not text:
        return None
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.timestamp()


__all__ = ["jwt_expiry", "parse_iso8601"]
