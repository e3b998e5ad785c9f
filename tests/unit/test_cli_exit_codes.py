"""The CLI's mapping from errors to exit codes (contract 2): most specific class wins."""

from __future__ import annotations

import pytest

from chatgpt_browser import errors
from chatgpt_browser.cli.exit_codes import EXIT_CODES, ExitStatus, exit_status_for


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (errors.ConfigError("x"), ExitStatus.BAD_CONFIG),
        (errors.BlockedError("x"), ExitStatus.BLOCKED),  # beats its base ChallengeNotClearedError (5)
        (errors.HumanNeededError("x"), ExitStatus.HUMAN_NEEDED),  # beats LoginFailedError (3)
        (errors.InvalidCredentialsError("x"), ExitStatus.AUTH_FAILED),
        (errors.LockTimeoutError("x"), ExitStatus.LOCK_TIMEOUT),  # beats StoreError (10)
        (errors.StoreError("x"), ExitStatus.STORE),
        (errors.BrowserNotFoundError("x"), ExitStatus.BROWSER),
        (errors.RateLimitError("x"), ExitStatus.RATE_LIMITED),
        (errors.MessageTooLongError("x"), ExitStatus.BAD_CONFIG),  # never "network"
        (errors.ConversationNotFoundError("x"), ExitStatus.BAD_CONFIG),
        (errors.ChatGPTTimeoutError("x"), ExitStatus.NETWORK),
        (errors.ServerError("x"), ExitStatus.NETWORK),
        (errors.ChatGPTBrowserError("x"), ExitStatus.ERROR),
        (errors.LoginFailedError("x"), ExitStatus.AUTH_FAILED),
        (errors.UnauthorizedError("x"), ExitStatus.AUTH_FAILED),
        (errors.ClearanceRejectedError("x"), ExitStatus.CHALLENGE_NOT_CLEARED),
        (errors.ChallengeNotClearedError("x"), ExitStatus.CHALLENGE_NOT_CLEARED),
        (errors.InvalidRequestError("x", status_code=422), ExitStatus.BAD_CONFIG),
        (errors.InputError("x"), ExitStatus.BAD_CONFIG),
        (errors.MessageMaybeSentError("x", message_id="m1"), ExitStatus.MESSAGE_MAYBE_SENT),
        (errors.ConnectError("x"), ExitStatus.NETWORK),
        (errors.CorruptRecordError("x"), ExitStatus.STORE),
        (errors.TLSFingerprintError("x"), ExitStatus.CHALLENGE_NOT_CLEARED),
        (errors.SecurityError("x"), ExitStatus.SECURITY),
        (errors.NotTheSiteError("x"), ExitStatus.NOT_THE_SITE),
    ],
)
def test_most_specific_class_wins(error: Exception, status: ExitStatus) -> None:
    assert exit_status_for(error) == status


def test_a_subclass_nobody_mapped_inherits_its_base_code() -> None:
    class MyLockError(errors.LockTimeoutError):
        pass

    assert exit_status_for(MyLockError("x")) == ExitStatus.LOCK_TIMEOUT
    assert exit_status_for(ValueError("not ours")) == ExitStatus.ERROR


def _blank(cls: type[errors.ChatGPTBrowserError]) -> errors.ChatGPTBrowserError:
    return cls.__new__(cls)


def test_every_error_class_of_the_package_has_a_code() -> None:
    classes = [
        c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, errors.ChatGPTBrowserError)
    ]
    # Classes, not instances: MessageMaybeSentError needs keywords to be built.
    assert classes and all(EXIT_CODES.get(c) or exit_status_for(_blank(c)) for c in classes)
    assert set(EXIT_CODES.values()) <= set(ExitStatus)


def test_the_library_errors_carry_no_exit_codes() -> None:
    # Exit codes live only in the CLI (cli/exit_codes.py); the library knows no processes.
    assert not hasattr(errors, "ExitStatus")
    assert not any(hasattr(getattr(errors, name), "exit_code") for name in errors.__all__)


def test_codes_are_the_contract() -> None:
    assert {s.name: s.value for s in ExitStatus} == {
        "OK": 0, "ERROR": 1, "BAD_CONFIG": 2, "AUTH_FAILED": 3, "HUMAN_NEEDED": 4,
        "CHALLENGE_NOT_CLEARED": 5, "BLOCKED": 6, "RATE_LIMITED": 7, "NETWORK": 8, "BROWSER": 9,
        "STORE": 10, "LOCK_TIMEOUT": 11, "SECURITY": 12, "FLAGGED": 13, "CHECK_FAILED": 14,
        "NOT_THE_SITE": 15, "MESSAGE_MAYBE_SENT": 16, "INTERRUPTED": 130, "TERMINATED": 143,
    }  # fmt: skip
