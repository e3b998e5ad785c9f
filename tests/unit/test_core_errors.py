"""The exception tree: what the caller does next (exit codes: test_cli_exit_codes.py)."""

from __future__ import annotations

import chatgpt_browser
from chatgpt_browser import errors


def test_every_error_is_ours() -> None:
    for name in errors.__all__:
        assert issubclass(getattr(errors, name), errors.ChatGPTBrowserError)


def test_deprecated_names_are_the_renamed_classes() -> None:
    # Kept for users of the old names; the package itself uses the new ones.
    assert errors.AuthError is errors.LoginFailedError
    assert errors.AuthenticationError is errors.UnauthorizedError
    assert errors.ChallengeError is errors.ChallengeNotClearedError
    assert errors.ChallengeRequiredError is errors.ClearanceRejectedError
    assert issubclass(errors.BlockedError, errors.ChallengeNotClearedError)
    assert issubclass(errors.HumanNeededError, errors.LoginFailedError)


def test_http_errors_carry_their_context() -> None:
    cause = OSError("reset")
    exc = errors.RateLimitError("slow down", retry_after=12.0, detail="Too many", original_error=cause)
    assert (exc.status_code, exc.retry_after, exc.detail, exc.original_error) == (
        429,
        12.0,
        "Too many",
        cause,
    )
    auth = errors.UnauthorizedError("expired", code="token_expired")
    assert (auth.status_code, auth.code) == (401, "token_expired")
    assert isinstance(errors.SiteAtCapacityError("x"), errors.ServerError)
    assert isinstance(errors.ChatGPTTimeoutError("x"), errors.NetworkError)
    assert errors.StreamError("cut", partial_response="Hel").partial_response == "Hel"


def test_artifacts_folder_is_named_in_the_message() -> None:
    exc = errors.ChallengeNotClearedError("not cleared", artifacts_dir="/tmp/run-1")
    assert "/tmp/run-1" in str(exc) and exc.artifacts_dir == "/tmp/run-1"


def test_errors_are_exported_from_the_package() -> None:
    for name in errors.__all__:
        assert getattr(chatgpt_browser, name) is getattr(errors, name)
