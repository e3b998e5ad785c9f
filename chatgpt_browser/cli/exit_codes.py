"""Exit codes of the `chatgpt-browser` CLI and the one mapping from errors to them.

The library raises typed errors and knows nothing of processes; the CLI turns an
error into a status here. The most specific class wins: the mapping is looked up
along the exception's MRO, so `BlockedError` (6) beats its base
`ChallengeNotClearedError` (5). This is the only place that knows the codes.
"""

from __future__ import annotations

import enum

from .. import errors


class ExitStatus(enum.IntEnum):
    """Process exit codes (documented in docs/settings.md and `--help`)."""

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
    SECURITY = 12
    FLAGGED = 13
    CHECK_FAILED = 14
    NOT_THE_SITE = 15
    MESSAGE_MAYBE_SENT = 16
    INTERRUPTED = 130
    TERMINATED = 143


# Error class -> status (CORE's class names; the deprecated aliases are the same objects).
EXIT_CODES: dict[type[BaseException], ExitStatus] = {
    errors.ChatGPTBrowserError: ExitStatus.ERROR,
    errors.ConfigError: ExitStatus.BAD_CONFIG,
    errors.InputError: ExitStatus.BAD_CONFIG,
    errors.BrowserError: ExitStatus.BROWSER,
    errors.ChallengeNotClearedError: ExitStatus.CHALLENGE_NOT_CLEARED,
    errors.BlockedError: ExitStatus.BLOCKED,
    errors.LoginFailedError: ExitStatus.AUTH_FAILED,
    errors.HumanNeededError: ExitStatus.HUMAN_NEEDED,
    errors.StoreError: ExitStatus.STORE,
    errors.LockTimeoutError: ExitStatus.LOCK_TIMEOUT,
    errors.ChatGPTError: ExitStatus.NETWORK,
    errors.NetworkError: ExitStatus.NETWORK,
    errors.ConnectError: ExitStatus.NETWORK,
    errors.UnauthorizedError: ExitStatus.AUTH_FAILED,
    errors.ClearanceRejectedError: ExitStatus.CHALLENGE_NOT_CLEARED,
    errors.RateLimitError: ExitStatus.RATE_LIMITED,
    # The site refused the request itself (too long, bad conversation id): retrying
    # cannot help, so it is bad input, never "network" (retry wrappers loop on 8).
    errors.InvalidRequestError: ExitStatus.BAD_CONFIG,
    errors.ConversationNotFoundError: ExitStatus.BAD_CONFIG,
    errors.MessageMaybeSentError: ExitStatus.MESSAGE_MAYBE_SENT,
    # A fresh clearance refused for the client's TLS family: the challenge was not passed.
    errors.TLSFingerprintError: ExitStatus.CHALLENGE_NOT_CLEARED,
    errors.SecurityError: ExitStatus.SECURITY,
    errors.NotTheSiteError: ExitStatus.NOT_THE_SITE,
}


def exit_status_for(exc: BaseException) -> ExitStatus:
    """The status of a failure: the entry of the most specific class in its MRO."""
    for cls in type(exc).__mro__:
        status = EXIT_CODES.get(cls)
        if status is not None:
            return status
    return ExitStatus.ERROR


def table() -> str:
    """`0 ok, 1 error, ...` for `--help`."""
    return ", ".join(f"{s.value} {s.name.lower()}" for s in ExitStatus)


__all__ = ["EXIT_CODES", "ExitStatus", "exit_status_for", "table"]
