"""The exception tree: what the caller does next, and the CLI exit code of each class."""

from __future__ import annotations

import chatgpt_browser
from chatgpt_browser import errors
from chatgpt_browser.errors import ExitStatus


def test_every_error_is_ours_and_has_an_exit_code() -> None:
    classes = [getattr(errors, name) for name in errors.__all__ if name != "ExitStatus"]
    for cls in classes:
        assert issubclass(cls, errors.ChatGPTBrowserError)
        assert isinstance(cls.exit_code, ExitStatus)


def test_failure_classes_have_distinct_exit_codes() -> None:
    by_class = {
        errors.ConfigError: ExitStatus.BAD_CONFIG,
        errors.InvalidCredentialsError: ExitStatus.AUTH_FAILED,
        errors.HumanNeededError: ExitStatus.HUMAN_NEEDED,
        errors.ChallengeError: ExitStatus.CHALLENGE_NOT_CLEARED,
        errors.BlockedError: ExitStatus.BLOCKED,
        errors.RateLimitError: ExitStatus.RATE_LIMITED,
        errors.NetworkError: ExitStatus.NETWORK,
        errors.BrowserNotFoundError: ExitStatus.BROWSER,
        errors.StoreError: ExitStatus.STORE,
        errors.LockTimeoutError: ExitStatus.LOCK_TIMEOUT,
    }
    for cls, code in by_class.items():
        assert cls.exit_code is code
    assert len(set(by_class.values())) == len(by_class)
    assert ExitStatus.INTERRUPTED == 130


def test_http_errors_carry_their_context() -> None:
    cause = OSError("reset")
    exc = errors.RateLimitError("slow down", retry_after=12.0, detail="Too many", original_error=cause)
    assert (exc.status_code, exc.retry_after, exc.detail, exc.original_error) == (
        429,
        12.0,
        "Too many",
        cause,
    )
    auth = errors.AuthenticationError("expired", code="token_expired")
    assert (auth.status_code, auth.code) == (401, "token_expired")
    assert isinstance(errors.SiteAtCapacityError("x"), errors.ServerError)
    assert isinstance(errors.ChatGPTTimeoutError("x"), errors.NetworkError)
    assert errors.StreamError("cut", partial_response="Hel").partial_response == "Hel"


def test_artifacts_folder_is_named_in_the_message() -> None:
    exc = errors.ChallengeError("not cleared", artifacts_dir="/tmp/run-1")
    assert "/tmp/run-1" in str(exc) and exc.artifacts_dir == "/tmp/run-1"


def test_errors_are_exported_from_the_package() -> None:
    for name in errors.__all__:
        assert getattr(chatgpt_browser, name) is getattr(errors, name)
