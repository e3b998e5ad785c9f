"""One exception tree for the whole package, split by what the caller does next.

    ChatGPTBrowserError                       anything of ours (`artifacts_dir`: screenshot + HTML)
    +-- ConfigError                           fix the configuration / arguments
    |   +-- InputError                        bad user input (a prompt that is not valid text, ...)
    +-- BrowserError                          the browser could not be found / started / died
    |   +-- BrowserNotFoundError
    |   +-- BrowserCrashedError
    +-- ChallengeNotClearedError              the harvest could not clear Cloudflare's challenge
    |   +-- BlockedError                      hard block ("Access denied", error 1020)
    +-- LoginFailedError                      the harvest could not log in
    |   +-- InvalidCredentialsError           wrong e-mail or password
    |   +-- HumanNeededError                  captcha / 2FA / interactive step and nobody there
    +-- StoreError                            stored credentials unreadable / unwritable
    |   +-- CorruptRecordError                a record that does not parse (moved aside)
    |   +-- LockTimeoutError                  another job held the lock too long
    +-- NoHealthyAccountError                 every account of a pool is quarantined
    +-- SecurityError                         credentials would go to a foreign origin
    +-- NotTheSiteError                       no challenge, login page or session endpoint
    +-- ChatGPTError                          an HTTP exchange with the site failed
        +-- UnauthorizedError (401)           -> refresh, then a new session
        +-- ClearanceRejectedError (403)      -> clear the challenge again
        +-- RateLimitError (429)              -> wait `retry_after`
        +-- ConversationNotFoundError (404)
        +-- InvalidRequestError (400/413/422) the site rejected the request as invalid
        |   +-- MessageTooLongError (413)
        +-- ServerError (5xx, 524)            -> retry with backoff
        |   +-- SiteAtCapacityError (503 / "at capacity")
        +-- NetworkError                      -> retry with backoff
        |   +-- ConnectError                  no connection: nothing was sent
        |   +-- ChatGPTTimeoutError           a deadline passed
        +-- StreamError                       a stream broke; carries `partial_response`
        +-- AbortedError                      the caller aborted
        +-- MessageMaybeSentError             a message POST may have reached the server
        +-- TLSFingerprintError               a fresh clearance sent with another TLS family

Messages never contain secrets (`redact.fingerprint()` identifies a token). The CLI
maps each class to an exit code (`cli/exit_codes.py`).
"""

from __future__ import annotations


class ChatGPTBrowserError(Exception):
    """Base of every error this package raises.

    `artifacts_dir`, when set, names a folder with a screenshot and the page HTML.
    """

    def __init__(self, message: str = "", *, artifacts_dir: str | None = None) -> None:
        if artifacts_dir:
            message = f"{message} (screenshot and HTML in {artifacts_dir})"
        super().__init__(message)
        self.artifacts_dir = artifacts_dir


class ConfigError(ChatGPTBrowserError):
    """Bad or missing configuration (argument, environment variable, TOML file)."""


class InputError(ConfigError):
    """Bad user input: a prompt or file that is not valid text, and the like."""


class BrowserError(ChatGPTBrowserError):
    """The browser could not be started, connected to, or stopped working."""


class BrowserNotFoundError(BrowserError):
    """No usable Chromium/Chrome executable was found."""


class BrowserCrashedError(BrowserError):
    """The browser (or its page) died while we were using it."""


class ChallengeNotClearedError(ChatGPTBrowserError):
    """The harvest could not clear the Cloudflare challenge within its budget."""


class BlockedError(ChallengeNotClearedError):
    """The site answered with a hard block ("Access denied", error 1020)."""


class LoginFailedError(ChatGPTBrowserError):
    """The harvest could not log in."""


class InvalidCredentialsError(LoginFailedError):
    """The site rejected the e-mail or password."""


class HumanNeededError(LoginFailedError):
    """A captcha, one-time code or other interactive step needs a person.

    Run `chatgpt-browser login --headed` once, or configure a solver / TOTP secret.
    """


class StoreError(ChatGPTBrowserError):
    """Stored credentials could not be read or written."""


class CorruptRecordError(StoreError):
    """A stored record that does not parse (truncated, edited, foreign)."""


class LockTimeoutError(StoreError):
    """Waiting for another job's lock took longer than allowed."""


class NoHealthyAccountError(ChatGPTBrowserError):
    """Every account of the pool is quarantined."""


class SecurityError(ChatGPTBrowserError):
    """Credentials would have gone to a foreign origin (a login page off the site's
    allowed hosts); nothing was typed or sent there."""


class NotTheSiteError(ChatGPTBrowserError):
    """The URL shows no challenge, no login page and no session endpoint: not the site."""


class ChatGPTError(ChatGPTBrowserError):
    """An HTTP exchange with the site failed.

    Mirrors the original JS `ChatGPTError`: `status_code`, `status_text`, plus the
    server's `detail` (the parsed JSON `detail` envelope, or a short text excerpt),
    the `response` when there was one, and `original_error` for a wrapped foreign error.
    Every subclass takes the same keywords; the few extra fields (`code`,
    `retry_after`, `partial_response`) are set here, once, for all of them.
    """

    #: The status a subclass stands for when the caller names none (401, 429, ...).
    default_status: int | None = None

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        status_text: str | None = None,
        detail: object = None,
        response: object = None,
        original_error: BaseException | None = None,
        code: str | None = None,
        retry_after: float | None = None,
        partial_response: object = None,
    ) -> None:
        super().__init__(message)
        self.status_code = self.default_status if status_code is None else status_code
        self.status_text = status_text
        self.detail = detail
        self.response = response
        self.original_error = original_error
        #: The server's error code (401: `token_expired`, `invalid_jwt`, ...).
        self.code = code
        #: Seconds to wait (429, from `Retry-After`), or None when the server gave none.
        self.retry_after = retry_after
        #: The answer received before a stream broke, stalled or was aborted.
        self.partial_response = partial_response


class UnauthorizedError(ChatGPTError):
    """401: the access or session token is missing, expired or invalid (`code`:
    `token_expired`, `invalid_api_key`, `invalid_jwt`)."""

    default_status = 401


class ClearanceRejectedError(ChatGPTError):
    """403 with a Cloudflare challenge page: the clearance is missing, expired or
    bound to another IP / User-Agent."""

    default_status = 403


class RateLimitError(ChatGPTError):
    """429: too many requests, or another message is still streaming."""

    default_status = 429


class ConversationNotFoundError(ChatGPTError):
    """404: the conversation (or parent message) does not exist."""

    default_status = 404


class InvalidRequestError(ChatGPTError):
    """400 / 413 / 422: the site rejected the request as invalid; resending will not help."""


class MessageTooLongError(InvalidRequestError):
    """413: the message is longer than the model accepts."""

    default_status = 413


class ServerError(ChatGPTError):
    """5xx or Cloudflare 524: the site failed; usually worth a retry with backoff."""


class SiteAtCapacityError(ServerError):
    """The site says it is at capacity right now (503 or its landing page)."""


class NetworkError(ChatGPTError):
    """The connection failed (refused, reset, TLS, DNS) before a usable answer."""


class ConnectError(NetworkError):
    """No connection could be made (refused, DNS, proxy, connect timeout): nothing was sent."""


class ChatGPTTimeoutError(NetworkError):
    """A deadline passed: connect, read, a stalled stream (`partial_response` holds the
    text so far), or the whole call's `timeout`."""


class StreamError(ChatGPTError):
    """A conversation stream broke; `partial_response` holds the text received so far."""


class AbortedError(ChatGPTError):
    """The caller aborted the request (e.g. set the `abort` event)."""


class MessageMaybeSentError(ChatGPTError):
    """A conversation POST failed after its request may have reached the server.

    It is never sent again blindly (the site could post the message twice). The ids let
    the caller look at the conversation or continue it: `message_id` is the id of the
    message that may have been posted; the cause is in `__cause__`.
    """

    def __init__(
        self,
        message: str,
        *,
        message_id: str,
        conversation_id: str | None = None,
        parent_message_id: str | None = None,
        status_code: int | None = None,
        original_error: BaseException | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, original_error=original_error)
        self.message_id = message_id
        self.conversation_id = conversation_id
        self.parent_message_id = parent_message_id


class TLSFingerprintError(ChatGPTError):
    """403 challenge on a clearance a browser earned moments ago, sent by a client whose
    TLS handshake is not that browser's: the edge binds clearances to the TLS client
    family. Clearing again cannot help; use the impersonating transport. Not retried."""


# Deprecated aliases of the renamed classes (same objects; remove after one release).
AuthError = LoginFailedError
AuthenticationError = UnauthorizedError
ChallengeError = ChallengeNotClearedError
ChallengeRequiredError = ClearanceRejectedError


__all__ = [
    "AbortedError",
    "AuthError",
    "AuthenticationError",
    "BlockedError",
    "BrowserCrashedError",
    "BrowserError",
    "BrowserNotFoundError",
    "ChallengeError",
    "ChallengeNotClearedError",
    "ChallengeRequiredError",
    "ChatGPTBrowserError",
    "ChatGPTError",
    "ChatGPTTimeoutError",
    "ClearanceRejectedError",
    "ConfigError",
    "ConnectError",
    "ConversationNotFoundError",
    "CorruptRecordError",
    "HumanNeededError",
    "InputError",
    "InvalidCredentialsError",
    "InvalidRequestError",
    "LockTimeoutError",
    "LoginFailedError",
    "MessageMaybeSentError",
    "MessageTooLongError",
    "NetworkError",
    "NoHealthyAccountError",
    "NotTheSiteError",
    "RateLimitError",
    "SecurityError",
    "ServerError",
    "SiteAtCapacityError",
    "StoreError",
    "StreamError",
    "TLSFingerprintError",
    "UnauthorizedError",
]
