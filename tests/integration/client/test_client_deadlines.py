"""Issue 9, client side: whole-call deadlines, no double post, honest input errors.

Against a black-hole TCP server (accepts, never answers) and the real emulator with
its fault injection. Time bounds are generous (3x the call's timeout), never exact.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from client_helpers import mint, requests_count
from support.bundles import UA
from support.servers import BlackHole

from chatgpt_browser.client import ChatGPTAPI, RetryPolicy
from chatgpt_browser.config import SiteProfile
from chatgpt_browser.credentials import Credentials
from chatgpt_browser.emulator.process import Emulator
from chatgpt_browser.errors import (
    ChatGPTTimeoutError,
    ConfigError,
    InputError,
    InvalidRequestError,
    MessageMaybeSentError,
    MessageTooLongError,
    RateLimitError,
)

Make = Callable[..., ChatGPTAPI]
CONVERSATION = "/backend-api/conversation"
SESSION = "/api/auth/session"
TIMEOUT = 2.0


def hole_bundle(hole: BlackHole, *, access_token: str | None = "a.b.c") -> Credentials:
    return Credentials(
        site=hole.url,
        user_agent=UA,
        session_token="s" * 40,
        clearance_token="c" * 40,
        access_token=access_token,
        access_token_expires_at=time.time() + 3600 if access_token else None,
    )


def timed(call: Callable[[], Any]) -> tuple[BaseException, float]:
    started = time.monotonic()
    try:
        call()
    except Exception as exc:  # the test inspects it
        return exc, time.monotonic() - started
    raise AssertionError("the call returned")


def test_timeout_bounds_a_message_and_the_post_is_sent_once(make_client: Make) -> None:
    with BlackHole() as hole:
        api = make_client(hole_bundle(hole), site=SiteProfile(base_url=hole.url))
        error, elapsed = timed(lambda: api.send_message("hello?", timeout=TIMEOUT, message_id="m-1"))
        assert isinstance(error, MessageMaybeSentError), error
        assert error.message_id == "m-1" and isinstance(error.__cause__, ChatGPTTimeoutError)
        assert elapsed < 3 * TIMEOUT
        assert hole.count("POST /backend-api/conversation") == 1


def test_timeout_bounds_the_session_call_of_a_message(make_client: Make) -> None:
    with BlackHole() as hole:
        api = make_client(hole_bundle(hole, access_token=None), site=SiteProfile(base_url=hole.url))
        error, elapsed = timed(lambda: api.send_message("hello?", timeout=TIMEOUT))
        assert isinstance(error, ChatGPTTimeoutError), error
        assert elapsed < 3 * TIMEOUT
        assert hole.count("POST") == 0 and hole.count("GET /api/auth/session") >= 1


def test_timeout_bounds_a_moderation_with_its_retries(make_client: Make) -> None:
    with BlackHole() as hole:
        retry = RetryPolicy(transient_retries=10, backoff_initial=0.01, jitter=0)
        api = make_client(hole_bundle(hole), site=SiteProfile(base_url=hole.url), retry=retry)
        error, elapsed = timed(lambda: api.send_moderation("hello?", timeout=TIMEOUT))
        assert isinstance(error, ChatGPTTimeoutError), error
        assert elapsed < 3 * TIMEOUT


def test_a_conversation_timeout_bounds_every_message_of_it(make_client: Make) -> None:
    with BlackHole() as hole:
        api = make_client(hole_bundle(hole), site=SiteProfile(base_url=hole.url))
        conversation = api.get_conversation(timeout=TIMEOUT)
        error, elapsed = timed(lambda: conversation.send_message("hello?"))
        assert isinstance(error, MessageMaybeSentError) and elapsed < 3 * TIMEOUT


def test_retry_after_longer_than_the_deadline_is_not_slept(emulator: Emulator, make_client: Make) -> None:
    sleeps: list[float] = []
    api = make_client(mint(emulator), sleep=sleeps.append)
    emulator.admin.fault(CONVERSATION, "status", status=429, headers={"Retry-After": "30"})
    with pytest.raises(RateLimitError):
        api.send_message("later", timeout=5.0)
    assert sleeps == []
    assert requests_count(emulator, "POST /backend-api/conversation 429") == 1


def test_a_429_conversation_post_is_retried(emulator: Emulator, make_client: Make) -> None:
    sleeps: list[float] = []
    api = make_client(mint(emulator), sleep=sleeps.append)
    emulator.admin.fault(CONVERSATION, "status", status=429, headers={"Retry-After": "1"})
    assert api.send_message("again").response
    assert sleeps == [1.0] and requests_count(emulator, "POST /backend-api/conversation 200") == 1


@pytest.mark.parametrize("kind", ["status", "reset"])
def test_transient_session_failure_during_401_recovery_is_retried(
    emulator: Emulator, make_client: Make, kind: str
) -> None:
    api = make_client(mint(emulator, with_access_token=True))
    emulator.admin.expire("access_token")
    emulator.admin.fault(SESSION, kind, status=500 if kind == "status" else None, count=1)
    assert api.send_message("after a 401 and a flaky session call", timeout=30).response
    assert requests_count(emulator, "POST /backend-api/conversation 401") == 1
    assert requests_count(emulator, "GET /api/auth/session 200") == 1


@pytest.mark.parametrize("prompt", ["lone \udc80 surrogate", b"\xff\xfe not utf-8"])
def test_a_prompt_that_is_not_text_is_refused_before_sending(
    emulator: Emulator, make_client: Make, prompt: Any
) -> None:
    api = make_client(mint(emulator))
    emulator.admin.reset_stats()
    with pytest.raises(InputError):
        api.send_message(prompt)
    with pytest.raises(InputError):
        api.send_moderation(prompt)
    assert sum(emulator.admin.stats()["requests"].values()) == 0


@pytest.mark.parametrize(
    ("status", "cls"), [(400, InvalidRequestError), (422, InvalidRequestError), (413, MessageTooLongError)]
)
def test_invalid_requests_are_typed_and_not_retried(
    emulator: Emulator, make_client: Make, status: int, cls: type[InvalidRequestError]
) -> None:
    api = make_client(mint(emulator))
    emulator.admin.fault(CONVERSATION, "status", status=status, body={"detail": "bad request"})
    with pytest.raises(cls) as info:
        api.send_message("invalid")
    assert isinstance(info.value, InvalidRequestError) and info.value.status_code == status
    assert requests_count(emulator, f"POST /backend-api/conversation {status}") == 1


def test_headers_the_client_cannot_set_are_a_config_error(
    shared_emulator: Emulator, make_client: Make
) -> None:
    with pytest.raises(ConfigError, match="sec-ch-ua"):
        make_client(mint(shared_emulator), headers={"sec-ch-ua": '"Fake";v="1"'})


def test_a_cli_json_bundle_is_accepted(shared_emulator: Emulator, make_client: Make) -> None:
    from chatgpt_browser.cli.formats import format_bundle
    from chatgpt_browser.config import Settings

    creds = mint(shared_emulator)
    printed = format_bundle(creds, "json", Settings(url=shared_emulator.url))
    parsed = Credentials.from_json(printed)
    assert (parsed.session_token, parsed.clearance_token, parsed.user_agent) == (
        creds.session_token,
        creds.clearance_token,
        creds.user_agent,
    )
    assert make_client(parsed).send_moderation("from the CLI's json").moderation_id
