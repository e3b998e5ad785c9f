"""What a Playwright error says, read in one place.

Playwright raises one `Error` type for a network failure and for a page replaced under an
evaluation (only timeouts have a type of their own, `TimeoutError`, caught by type
everywhere). Chromium's network error code (`net::ERR_NAME_NOT_RESOLVED`), the "navigated / context
destroyed" condition and a closed or crashed browser exist only in the message, so they
are parsed here, as codes, and nowhere else.
"""

from __future__ import annotations

import re

from .inputs import redact_urls

_NET_ERROR = re.compile(r"\bnet::(ERR_[A-Z0-9_]+)")
_REPLACED = re.compile(r"navigat|context was destroyed|Execution context .*destroyed", re.IGNORECASE)
_GONE = re.compile(r"closed|crash|disconnected|Target page, context or browser", re.IGNORECASE)

#: The origin guard aborts a request with this code (`route.abort("blockedbyclient")`).
BLOCKED_BY_CLIENT = "ERR_BLOCKED_BY_CLIENT"


def net_error(exc: BaseException) -> str | None:
    """Chromium's network error code in a Playwright error (`ERR_CONNECTION_REFUSED`), if any."""
    found = _NET_ERROR.search(str(exc))
    return found.group(1) if found else None


def replaced_by_navigation(exc: BaseException) -> bool:
    """True when the page navigated away under a call (its document is gone, not broken)."""
    return bool(_REPLACED.search(str(exc)))


def browser_gone(exc: BaseException) -> bool:
    """True when the page, context or browser is closed or crashed under a call."""
    return bool(_GONE.search(str(exc)))


def error_line(exc: BaseException) -> str:
    """The error's first line for our messages, URLs redacted (a CDP or proxy URL in it may
    carry `user:pass@` or `?token=`); the type's name when the message is empty."""
    text = str(exc)
    return redact_urls(text.splitlines()[0]) if text else type(exc).__name__


__all__ = ["BLOCKED_BY_CLIENT", "browser_gone", "error_line", "net_error", "replaced_by_navigation"]
