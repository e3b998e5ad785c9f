"""One exception tree for the whole package, split by what the caller does next.

    ChatGPTBrowserError                     exit 1   anything of ours
    +-- ConfigError                         exit 2   fix the configuration / arguments
    +-- BrowserError                        exit 9   the browser could not be found / started / died
    |   +-- BrowserNotFoundError
    |   +-- BrowserCrashedError
    +-- ChallengeError                      exit 5   Cloudflare challenge did not clear
    |   +-- BlockedError                    exit 6   hard block ("Access denied", error 1020)
    +-- AuthError                           exit 3   login failed
    |   +-- InvalidCredentialsError                  wrong e-mail or password
    |   +-- HumanNeededError                exit 4   captcha / 2FA / interactive step and nobody there
    +-- StoreError                          exit 10  stored credentials unreadable / unwritable
    |   +-- LockTimeoutError                exit 11  another job held the lock too long
    +-- ChatGPTError                        exit 8   an HTTP exchange with the site failed
        +-- AuthenticationError (401)       exit 3   -> reset_session (harvest again)
        +-- ChallengeRequiredError (403)    exit 5   -> clear the challenge again
        +-- RateLimitError (429)            exit 7   -> wait `retry_after`
        +-- ConversationNotFoundError (404)
        +-- MessageTooLongError (413)
        +-- ServerError (5xx, 524)                   -> retry with backoff
        |   +-- SiteAtCapacityError (503 / "at capacity")
        +-- NetworkError                             -> retry with backoff
        |   +-- ChatGPTTimeoutError                  a deadline passed
        +-- StreamError                              a stream broke; carries `partial_response`
        +-- AbortedError                             the caller aborted

Each class carries its CLI exit code (`exit_code`), so `cli.py` maps any failure to a
distinct status with one handler. Messages never contain secrets: use
`chatgpt_browser.credentials.fingerprint()` when a token must be identified.
"""

from __future__ import annotations

import enum
from typing import Any


class ExitStatus(enum.IntEnum):
    """Process exit codes of the `chatgpt-browser` CLI (documented in the README)."""

    OK = 0
    ERROR = 1
    BAD_CONFIG = 2
    AUTH_FAILED = 3
    HUMAN_NEEDED = 4
    CHALLENGE_NOT_CLEARED = 5
    BLOCKED = 6
    RATE_LIMITED = 7
    NETWORK = 8
    BROWSER = 9
    STORE = 10
    LOCK_TIMEOUT = 11
    INTERRUPTED = 130


class ChatGPTBrowserError(Exception):
    """Base of every error this package raises."""

    exit_code: ExitStatus = ExitStatus.ERROR


class ConfigError(ChatGPTBrowserError):
    """Bad or missing configuration (argument, environment variable, TOML file)."""

    exit_code = ExitStatus.BAD_CONFIG


class BrowserError(ChatGPTBrowserError):
    """The browser could not be started, connected to, or stopped working."""

    exit_code = ExitStatus.BROWSER


class BrowserNotFoundError(BrowserError):
    """No usable Chromium/Chrome executable was found."""


class BrowserCrashedError(BrowserError):
    """The browser (or its page) died while we were using it."""


class ChallengeError(ChatGPTBrowserError):
    """The Cloudflare challenge was not cleared within the budget.

    `artifacts_dir`, when set, names a folder with a screenshot and the page HTML.
    """

    exit_code = ExitStatus.CHALLENGE_NOT_CLEARED

    def __init__(self, message: str, *, artifacts_dir: str | None = None) -> None:
        if artifacts_dir:
            message = f"{message} (screenshot and HTML in {artifacts_dir})"
        super().__init__(message)
        self.artifacts_dir = artifacts_dir


class BlockedError(ChallengeError):
    """The site answered with a hard block ("Access denied", error 1020)."""

    exit_code = ExitStatus.BLOCKED


class AuthError(ChatGPTBrowserError):
    """Logging in failed.

    `artifacts_dir`, when set, names a folder with a screenshot and the page HTML.
    """

    exit_code = ExitStatus.AUTH_FAILED

    def __init__(self, message: str, *, artifacts_dir: str | None = None) -> None:
        if artifacts_dir:
            message = f"{message} (screenshot and HTML in {artifacts_dir})"
        super().__init__(message)
        self.artifacts_dir = artifacts_dir


class InvalidCredentialsError(AuthError):
    """The site rejected the e-mail or password."""


class HumanNeededError(AuthError):
    """A captcha, one-time code or other interactive step needs a person.

    Run `chatgpt-browser login --headed` once, or configure a solver / TOTP secret.
    """

    exit_code = ExitStatus.HUMAN_NEEDED


class StoreError(ChatGPTBrowserError):
    """Stored credentials could not be read or written."""

    exit_code = ExitStatus.STORE


class LockTimeoutError(StoreError):
    """Waiting for another job's lock took longer than allowed."""

    exit_code = ExitStatus.LOCK_TIMEOUT


class ChatGPTError(ChatGPTBrowserError):
    """An HTTP exchange with the site failed.

    Mirrors the original JS `ChatGPTError`: `status_code`, `status_text`, plus the
    server's `detail` (the parsed JSON `detail` envelope, or a short text excerpt),
    the `response` when there was one, and `original_error` for a wrapped foreign error.
    """

    exit_code = ExitStatus.NETWORK

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        status_text: str | None = None,
        detail: Any = None,
        response: Any = None,
        original_error: BaseException | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.status_text = status_text
        self.detail = detail
        self.response = response
        self.original_error = original_error


class AuthenticationError(ChatGPTError):
    """401: the access or session token is missing, expired or invalid.

    `code` is the server's code (`token_expired`, `invalid_api_key`, `invalid_jwt`).
    """

    exit_code = ExitStatus.AUTH_FAILED

    def __init__(self, message: str, *, code: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("status_code", 401)
        super().__init__(message, **kwargs)
        self.code = code


class ChallengeRequiredError(ChatGPTError):
    """403 with a Cloudflare challenge page: the clearance is missing, expired or
    bound to another IP / User-Agent."""

    exit_code = ExitStatus.CHALLENGE_NOT_CLEARED


class RateLimitError(ChatGPTError):
    """429: too many requests, or another message is still streaming.

    `retry_after` is in seconds (from `Retry-After`), or None when the server gave none.
    """

    exit_code = ExitStatus.RATE_LIMITED

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("status_code", 429)
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ConversationNotFoundError(ChatGPTError):
    """404: the conversation (or parent message) does not exist."""


class MessageTooLongError(ChatGPTError):
    """413: the message is longer than the model accepts."""


class ServerError(ChatGPTError):
    """5xx or Cloudflare 524: the site failed; usually worth a retry with backoff."""


class SiteAtCapacityError(ServerError):
    """The site says it is at capacity right now (503 or its landing page)."""


class NetworkError(ChatGPTError):
    """The connection failed (refused, reset, TLS, DNS) before a usable answer."""


class ChatGPTTimeoutError(NetworkError):
    """A deadline passed: connect, read, a stalled stream, or a total budget.

    For a stalled stream, `partial_response` holds the text received before the stall.
    """

    def __init__(self, message: str, *, partial_response: Any = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.partial_response = partial_response


class StreamError(ChatGPTError):
    """A conversation stream broke; `partial_response` holds the text received so far."""

    def __init__(self, message: str, *, partial_response: Any = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.partial_response = partial_response


class AbortedError(ChatGPTError):
    """The caller aborted the request (e.g. set the `abort` event)."""

    def __init__(self, message: str, *, partial_response: Any = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.partial_response = partial_response


__all__ = [
    "AbortedError",
    "AuthError",
    "AuthenticationError",
    "BlockedError",
    "BrowserCrashedError",
    "BrowserError",
    "BrowserNotFoundError",
    "ChallengeError",
    "ChallengeRequiredError",
    "ChatGPTBrowserError",
    "ChatGPTError",
    "ChatGPTTimeoutError",
    "ConfigError",
    "ConversationNotFoundError",
    "ExitStatus",
    "HumanNeededError",
    "InvalidCredentialsError",
    "LockTimeoutError",
    "MessageTooLongError",
    "NetworkError",
    "RateLimitError",
    "ServerError",
    "SiteAtCapacityError",
    "StoreError",
    "StreamError",
]


# --- added by BROWSER ---


def _exit_status(value: int, name: str) -> ExitStatus:
    """An ExitStatus value the enum does not list yet. A bridge only: exit codes move to
    the CLI (contracts 2), and these `exit_code` attributes go with the others."""
    status = int.__new__(ExitStatus, value)
    status._name_, status._value_ = name, value
    return status


class SecurityError(ChatGPTBrowserError):
    """Credentials would have gone to a foreign origin (a login page off the site's
    allowed hosts); nothing was typed or sent there."""

    exit_code = _exit_status(12, "SECURITY")


class NotTheSiteError(ChatGPTBrowserError):
    """The URL shows no challenge, no login page and no session endpoint: not the site."""

    exit_code = _exit_status(15, "NOT_THE_SITE")


__all__ += ["NotTheSiteError", "SecurityError"]
