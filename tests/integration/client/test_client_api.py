"""Every public method and option of ChatGPTAPI against the live emulator, on both transports."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from client_helpers import UA, MintingProvider, mint, requests_count

from chatgpt_browser import ChatGPTAPI as PublicChatGPTAPI
from chatgpt_browser import Conversation as PublicConversation
from chatgpt_browser.client import ChatGPTAPI, ChatResponse
from chatgpt_browser.client._conversation import Conversation
from chatgpt_browser.client._text import markdown_to_text
from chatgpt_browser.client._trace import TRACE_LOGGER
from chatgpt_browser.credentials import fingerprint
from chatgpt_browser.emulator.process import Emulator
from chatgpt_browser.errors import (
    AbortedError,
    ChatGPTError,
    ClearanceRejectedError,
    ConversationNotFoundError,
    MessageTooLongError,
    UnauthorizedError,
)

Make = Callable[..., ChatGPTAPI]


def test_public_names_are_exported() -> None:
    assert PublicChatGPTAPI is ChatGPTAPI and PublicConversation is Conversation


def test_missing_tokens_raise_401() -> None:
    with pytest.raises(ChatGPTError) as info:
        ChatGPTAPI(session_token="s", clearance_token=None)
    assert info.value.status_code == 401 and "clearance_token" in str(info.value)
    with pytest.raises(ChatGPTError) as info:
        ChatGPTAPI(clearance_token="c")
    assert info.value.status_code == 401


def test_constructor_with_plain_tokens(shared_emulator: Emulator, transport_name: str) -> None:
    creds = mint(shared_emulator, user_agent=UA)
    api = ChatGPTAPI(
        session_token=creds.session_token,
        clearance_token=creds.clearance_token,
        user_agent=UA,
        api_base_url=shared_emulator.url + "/api",
        backend_api_base_url=shared_emulator.url + "/backend-api",
        transport=transport_name,
    )
    with api:
        assert api.session_token == creds.session_token and api.clearance_token == creds.clearance_token
        assert api.user_agent == UA and api.user is None
        api.init_session()
        assert api.user is not None and api.user["email"] == shared_emulator.account.email
        assert api.send_message("plain tokens").response.startswith('You said: "plain tokens"')


def test_session_methods(emulator: Emulator, make_client: Make) -> None:
    provider = MintingProvider(emulator)
    start = provider.current
    api = make_client(start, provider=provider)
    assert api.get_is_authenticated()
    token = api.refresh_session()
    assert api.refresh_session() == token  # cached: no second session call
    assert requests_count(emulator, "GET /api/auth/session 200") == 1
    # The rotated session cookie is kept and handed back to the provider.
    assert api.session_token != start.session_token
    assert provider.updates and provider.updates[-1].session_token == api.session_token
    assert api.credentials.source == "http-refresh" and api.credentials.access_token == token
    assert api.credentials.access_token_expires_at is not None

    api.close_session()
    assert api.user is None
    assert api.refresh_session()  # a new session call (the site may hand out the same token)
    assert requests_count(emulator, "GET /api/auth/session 200") == 2

    renewed = api.reset_session()  # with a provider: a fresh bundle from it
    assert provider.renewals == ["reset"]
    assert renewed.clearance_token == provider.current.clearance_token
    assert api.get_is_authenticated()

    # A dead session: with a provider the client recovers by itself (reset once)...
    emulator.admin.revoke("session")
    api.close_session()
    assert api.get_is_authenticated() and provider.renewals == ["reset", "401"]
    # ...without one it reports False, as the original did.
    orphan = make_client(mint(emulator))
    emulator.admin.revoke("session")
    assert not orphan.get_is_authenticated()


def test_reset_without_provider_is_close_and_init(emulator: Emulator, make_client: Make) -> None:
    api = make_client(mint(emulator, with_access_token=True))
    creds = api.reset_session()
    assert creds.access_token and creds.source == "http-refresh"
    assert requests_count(emulator, "GET /api/auth/session 200") == 1


def test_send_message_streams_progress(shared_emulator: Emulator, make_client: Make) -> None:
    api = make_client(mint(shared_emulator))
    updates: list[ChatResponse] = []
    result = api.send_message("Tell me a story", on_progress=updates.append)
    assert result.response.startswith('You said: "Tell me a story"') and not result.incomplete
    assert len(updates) >= 3
    assert "".join(u.delta for u in updates) == result.response
    assert all(u.incomplete for u in updates) and updates[-1].response == result.response
    assert result.conversation_id and result.message_id
    assert api.send_message("Tell me a story").response == result.response  # deterministic


def test_stream_message_iterator(shared_emulator: Emulator, make_client: Make) -> None:
    api = make_client(mint(shared_emulator))
    stream = api.stream_message("iterate please")
    texts = [(u.response, u.delta) for u in stream]
    assert stream.result is not None and texts[-1][0] == stream.result.response
    assert "".join(d for _, d in texts) == stream.result.response
    # Leaving early closes the response and does not break the client.
    for _ in api.stream_message("leave early"):
        break
    assert api.send_message("after leaving").response


def test_conversation_helper_carries_ids(shared_emulator: Emulator, make_client: Make) -> None:
    api = make_client(mint(shared_emulator))
    conversation = Conversation(api)
    first = conversation.send_message("first question")
    assert conversation.conversation_id == first.conversation_id
    assert conversation.parent_message_id == first.message_id
    second = conversation.send_message("second question")
    assert second.conversation_id == first.conversation_id and second.message_id != first.message_id
    streamed = list(conversation.stream_message("third question"))
    assert streamed[-1].conversation_id == first.conversation_id
    assert conversation.parent_message_id == streamed[-1].message_id and len(conversation.history) == 3


def test_variant_and_model_and_message_id(shared_emulator: Emulator, make_client: Make) -> None:
    api = make_client(mint(shared_emulator))
    parent, user_message = "11111111-2222-4333-8444-555555555555", "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
    first = api.send_message("variant me", parent_message_id=parent, message_id=user_message)
    variant = api.send_message(
        "variant me",
        action="variant",
        conversation_id=first.conversation_id,
        parent_message_id=parent,
        message_id=user_message,
        model="text-davinci-002-render-sha",
    )
    assert variant.response != first.response and "variant" in variant.response
    assert variant.conversation_id == first.conversation_id


def test_markdown_false_gives_plain_text(shared_emulator: Emulator, make_client: Make) -> None:
    api = make_client(mint(shared_emulator), markdown=False)
    updates: list[ChatResponse] = []
    result = api.send_message("some **bold** and `code`", on_progress=updates.append)
    assert "some bold and code" in result.response and "**" not in result.response
    assert all("**" not in u.response for u in updates)
    # Block structure becomes lines; links keep their text; the same answer as markdown=True.
    prompt = "Intro\n\n# A heading\n\n- one\n- two\n\nsee [the docs](http://example.com) and *this*"
    plain = api.send_message(prompt).response
    rich = make_client(mint(shared_emulator)).send_message(prompt).response
    assert "# A heading" in rich and "[the docs](" in rich
    assert "\nA heading\n" in plain and "\none\ntwo\n" in plain and "see the docs and this" in plain
    assert not any(mark in plain for mark in ("#", "](", "*", "- one"))
    assert plain == markdown_to_text(rich)


def test_send_moderation(shared_emulator: Emulator, make_client: Make) -> None:
    api = make_client(mint(shared_emulator))
    clean = api.send_moderation("a kind sentence")
    assert not clean.flagged and not clean.blocked and clean.moderation_id
    assert api.send_moderation("please flagme now").flagged


def test_unknown_conversation_and_too_long(make_emulator: Callable[..., Emulator], make_client: Make) -> None:
    emu = make_emulator(max_message_chars=50)
    api = make_client(mint(emu))
    with pytest.raises(ConversationNotFoundError) as info:
        api.send_message("hi", conversation_id="00000000-0000-4000-8000-000000000000")
    assert info.value.status_code == 404 and "not found" in str(info.value)
    with pytest.raises(MessageTooLongError) as too_long:
        api.send_message("x" * 51)
    assert too_long.value.status_code == 413


def test_abort_from_progress_and_from_another_thread(
    make_emulator: Callable[..., Emulator], make_client: Make
) -> None:
    emu = make_emulator(token_delay=0.05)
    api = make_client(mint(emu))
    abort = threading.Event()
    with pytest.raises(AbortedError) as info:
        api.send_message("abort me", abort=abort, on_progress=lambda update: abort.set())
    assert info.value.partial_response.response
    # A read blocked on a stalled stream is interrupted at once.
    emu.admin.fault("/backend-api/conversation", "stall", after_events=1, stall_seconds=20)
    abort = threading.Event()
    timer = threading.Timer(0.3, abort.set)
    timer.start()
    try:
        with pytest.raises(AbortedError):
            api.send_message("stall then abort", abort=abort, timeout=15)
    finally:
        timer.cancel()
    already = threading.Event()
    already.set()
    with pytest.raises(AbortedError):
        api.send_message("never sent", abort=already)


def test_total_timeout(make_emulator: Callable[..., Emulator], make_client: Make) -> None:
    emu = make_emulator(token_delay=0.1)
    api = make_client(mint(emu))
    with pytest.raises(ChatGPTError) as info:
        api.send_message("slow answer", timeout=0.25)
    assert "longer than the timeout" in str(info.value)
    assert info.value.partial_response is not None  # type: ignore[attr-defined]


def test_user_agent_mismatch_is_a_challenge(shared_emulator: Emulator, make_client: Make) -> None:
    creds = mint(shared_emulator).replace(user_agent=UA.replace("Chrome/120", "Chrome/119"))
    api = make_client(creds)
    with pytest.raises(ClearanceRejectedError) as info:
        api.refresh_session()
    assert info.value.status_code == 403


def test_secrets_stay_out_of_reprs_and_errors(emulator: Emulator, make_client: Make) -> None:
    creds = mint(emulator)
    api = make_client(creds)
    text = repr(api) + repr(api.credentials)
    assert creds.session_token not in text and creds.clearance_token not in text  # type: ignore[operator]
    assert fingerprint(creds.clearance_token) in text
    emulator.admin.revoke("session")
    with pytest.raises(UnauthorizedError) as info:
        api.refresh_session()
    assert creds.session_token not in str(info.value)


def test_debug_option_traces_every_request_without_secrets(
    shared_emulator: Emulator, make_client: Make, caplog: pytest.LogCaptureFixture
) -> None:
    def trace() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == TRACE_LOGGER]

    # No caplog.at_level: the records must reach the handlers at the default levels.
    quiet = make_client(mint(shared_emulator))
    quiet.send_message("quiet")
    assert trace() == []
    creds = mint(shared_emulator)
    loud = make_client(creds, debug=True)
    answer = loud.send_message("loud")
    loud.send_moderation("loud")
    lines = trace()
    url = shared_emulator.url
    assert [line.split(" via ")[0] for line in lines if " via " in line] == [
        f"GET {url}/api/auth/session",
        f"POST {url}/backend-api/conversation",
        f"POST {url}/backend-api/moderations",
    ]
    assert any(line.startswith(f"GET {url}/api/auth/session: 200 application/json") for line in lines)
    assert any(
        line.startswith(f"POST {url}/backend-api/conversation: 200 text/event-stream") for line in lines
    )
    streamed = [
        line for line in lines if line.startswith(f"POST {url}/backend-api/conversation: closed after")
    ]
    assert len(streamed) == 1 and int(streamed[0].split()[4]) > len(answer.response)
    secrets = [creds.session_token, creds.clearance_token, loud.session_token, loud.credentials.access_token]
    assert all(secret and secret not in caplog.text for secret in secrets)
    assert "Cookie: <" in caplog.text and "Authorization: <" in caplog.text


def test_get_conversation_carries_and_resumes_ids(shared_emulator: Emulator, make_client: Make) -> None:
    api = make_client(mint(shared_emulator))
    conversation = api.get_conversation()
    first = conversation.send_message("first turn")
    second = conversation.send_message("second turn")
    assert second.conversation_id == first.conversation_id
    assert conversation.parent_message_id == second.message_id
    # Another client (e.g. the next cron run) resumes it from the two ids.
    later = make_client(mint(shared_emulator)).get_conversation(second.conversation_id, second.message_id)
    third = later.send_message("third turn")
    assert third.conversation_id == first.conversation_id and len(later.history) == 1
    with pytest.raises(ConversationNotFoundError):  # the ids reach the site: a bad one fails
        api.get_conversation("00000000-0000-4000-8000-000000000000", second.message_id).send_message("x")


def test_on_conversation_response_sees_each_raw_event(shared_emulator: Emulator, make_client: Make) -> None:
    api = make_client(mint(shared_emulator), markdown=False)
    events: list[Mapping[str, Any]] = []
    updates: list[ChatResponse] = []
    result = api.send_message(
        "raw **events**", on_progress=updates.append, on_conversation_response=events.append
    )
    assert len(events) >= len(updates) >= 3  # every event, [DONE] excluded
    assert all(e["conversation_id"] == result.conversation_id for e in events)
    assert all(e["message"]["id"] == result.message_id for e in events)
    last_text = events[-1]["message"]["content"]["parts"][0]
    assert "**events**" in last_text and "**" not in result.response  # raw, not converted
    with pytest.raises(TypeError):
        events[0]["error"] = "changed"  # type: ignore[index]
    streamed: list[Mapping[str, Any]] = []
    for _ in api.stream_message("raw stream", on_conversation_response=streamed.append):
        pass
    assert streamed and streamed[-1]["message"]["role"] == "assistant"
