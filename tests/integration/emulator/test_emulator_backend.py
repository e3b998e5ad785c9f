"""The backend API over plain HTTP: SSE framing and event shape, message trees, every
error body, moderations and models."""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Callable

import requests
from emu_helpers import Client, conversation_body, make_client, sse_data

from chatgpt_browser.emulator.backend import answer_for
from chatgpt_browser.emulator.process import Emulator

MESSAGE_KEYS = [
    "id",
    "role",
    "user",
    "create_time",
    "update_time",
    "content",
    "end_turn",
    "weight",
    "metadata",
    "recipient",
]


def _events(response: requests.Response) -> list[dict[str, object]]:
    payloads = sse_data(response.text)
    assert payloads[-1] == "[DONE]"
    return [json.loads(p) for p in payloads[:-1]]


def test_sse_framing_and_exact_event_shape(client: Client) -> None:
    response = client.converse(conversation_body("Hello there"))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/event-stream; charset=utf-8"
    payloads = sse_data(response.text)
    assert payloads[-1] == "[DONE]" and len(payloads) >= 4
    events = [json.loads(p) for p in payloads[:-1]]
    for raw, event in zip(payloads, events, strict=False):
        assert raw == json.dumps(event)  # Python-style ", " and ": " separators, key order kept
        assert list(event) == ["message", "conversation_id", "error"]
        assert list(event["message"]) == MESSAGE_KEYS  # type: ignore[call-overload]
        assert event["error"] is None
    message = events[0]["message"]
    assert message["role"] == "assistant" and message["user"] is None and message["weight"] == 1.0  # type: ignore[index]
    assert message["recipient"] == "all" and message["metadata"] == {} and message["end_turn"] is None  # type: ignore[index]
    texts = [e["message"]["content"]["parts"][0] for e in events]  # type: ignore[index]
    assert all(
        later.startswith(earlier) and len(later) > len(earlier)
        for earlier, later in itertools.pairwise(texts)
    )
    assert texts[-1] == answer_for("Hello there")
    assert len({e["message"]["id"] for e in events}) == 1  # type: ignore[index]
    assert len({e["conversation_id"] for e in events}) == 1


def test_answers_are_deterministic(client: Client) -> None:
    first = _events(client.converse(conversation_body("same prompt")))
    second = _events(client.converse(conversation_body("same prompt")))
    assert first[-1]["message"]["content"] == second[-1]["message"]["content"]  # type: ignore[index]
    assert first[-1]["conversation_id"] != second[-1]["conversation_id"]


def test_continuation_and_variant_follow_the_message_tree(client: Client) -> None:
    root = str(uuid.uuid4())
    first = _events(client.converse(conversation_body("one", parent=root)))[-1]
    conversation_id = str(first["conversation_id"])
    first_answer = first["message"]["id"]  # type: ignore[index]
    second_user = str(uuid.uuid4())
    second = _events(
        client.converse(
            conversation_body(
                "two", parent=first_answer, conversation_id=conversation_id, message_id=second_user
            )
        )
    )[-1]
    assert second["conversation_id"] == conversation_id
    variant = _events(
        client.converse(
            conversation_body(
                "two",
                parent=first_answer,
                conversation_id=conversation_id,
                message_id=second_user,
                action="variant",
            )
        )
    )[-1]
    assert variant["message"]["content"]["parts"][0] == answer_for("two", 1)  # type: ignore[index]
    assert variant["message"]["content"] != second["message"]["content"]  # type: ignore[index]
    tree = client.get(f"/backend-api/conversation/{conversation_id}").json()
    mapping = tree["mapping"]
    assert mapping[second_user]["parent"] == first_answer
    assert set(mapping[second_user]["children"]) == {second["message"]["id"], variant["message"]["id"]}  # type: ignore[index]
    assert mapping[first_answer]["parent"] in mapping and tree["current_node"] == variant["message"]["id"]  # type: ignore[index]
    listing = client.get("/backend-api/conversations?offset=0&limit=20").json()
    assert listing["total"] == 1 and listing["items"][0]["id"] == conversation_id


def test_401_bodies(client: Client) -> None:
    empty = client.converse(conversation_body("x"), bearer="")
    assert empty.status_code == 401
    assert empty.json()["detail"]["code"] == "invalid_api_key"
    malformed = client.converse(conversation_body("x"), bearer="not-a-jwt")
    assert malformed.status_code == 401 and malformed.json()["detail"]["code"] == "invalid_jwt"


def test_expired_and_revoked_access_tokens(emulator: Emulator) -> None:
    api = make_client(emulator)
    emulator.admin.expire("access_token")
    response = api.converse(conversation_body("x"))
    assert response.status_code == 401
    assert response.json() == {
        "detail": {
            "message": "Your authentication token has expired. Please try signing in again.",
            "type": "invalid_request_error",
            "param": None,
            "code": "token_expired",
        }
    }
    api = make_client(emulator)
    emulator.admin.revoke("access_token")
    assert api.converse(conversation_body("x")).json()["detail"]["code"] == "invalid_jwt"
    api = make_client(emulator)
    emulator.admin.advance_clock(3601)
    assert api.get("/backend-api/models").status_code == 403  # the clearance expired too
    api.clearance = emulator.admin.issue_clearance(api.user_agent)
    assert api.converse(conversation_body("x")).json()["detail"]["code"] == "token_expired"


def test_413_404_and_422(make_emulator: Callable[..., Emulator]) -> None:
    emu = make_emulator(max_message_chars=100)
    api = make_client(emu)
    too_long = api.converse(conversation_body("x" * 101))
    assert too_long.status_code == 413
    assert too_long.json() == {
        "detail": {
            "message": "The message you submitted was too long, please reload the conversation and "
            "submit something shorter.",
            "code": "message_length_exceeds_limit",
        }
    }
    missing = api.converse(conversation_body("x", conversation_id=str(uuid.uuid4())))
    assert missing.status_code == 404 and missing.json() == {"detail": "Conversation not found"}
    first = _events(api.converse(conversation_body("x")))[-1]
    orphan = api.converse(
        conversation_body("y", conversation_id=str(first["conversation_id"]), parent=str(uuid.uuid4()))
    )
    assert orphan.status_code == 404
    assert api.converse("{not json").status_code == 422
    bad_action = conversation_body("x", action="jump")
    assert api.converse(bad_action).json()["detail"][0]["loc"] == ["body", "action"]
    no_parent = conversation_body("x")
    no_parent["parent_message_id"] = "nope"
    assert api.converse(no_parent).status_code == 422


def test_hourly_rate_limit_with_retry_after(make_emulator: Callable[..., Emulator]) -> None:
    emu = make_emulator(rate_limit=2)
    api = make_client(emu)
    assert api.converse(conversation_body("a")).status_code == 200
    assert api.converse(conversation_body("b")).status_code == 200
    limited = api.converse(conversation_body("c"))
    assert limited.status_code == 429
    assert limited.json() == {"detail": "Too many requests in 1 hour. Try again later."}
    assert 3500 <= int(limited.headers["Retry-After"]) <= 3600
    emu.admin.advance_clock(3601)
    api.clearance = emu.admin.issue_clearance(api.user_agent)
    api.access_token = emu.admin.issue_session()["access_token"]
    assert api.converse(conversation_body("d")).status_code == 200


def test_only_one_stream_at_a_time_per_account(make_emulator: Callable[..., Emulator]) -> None:
    emu = make_emulator(token_delay=0.2, accounts=[{"email": "other@example.com", "password": "pw-other"}])
    api, other = make_client(emu), make_client(emu, "other@example.com")
    with api.converse(conversation_body("a long answer"), stream=True) as streaming:
        first_line = next(streaming.iter_lines())
        assert first_line.startswith(b"data: {")
        busy = api.converse(conversation_body("another"))
        assert busy.status_code == 429
        assert busy.json()["detail"].startswith(
            "Only one message at a time. Please allow any other responses"
        )
        assert emu.admin.stats()["active_streams"] == 1
        emu.admin.configure(token_delay=0)
        assert other.converse(conversation_body("other account")).status_code == 200
    deadline = time.monotonic() + 10  # the server notices the closed stream within ~0.1 s
    while emu.admin.stats()["active_streams"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert api.converse(conversation_body("after")).status_code == 200


def test_moderations_and_models(client: Client) -> None:
    flagged = client.post_json(
        "/backend-api/moderations", {"input": "please FLAGME now", "model": "text-moderation-playground"}
    )
    assert flagged.status_code == 200
    body = flagged.json()
    assert body["flagged"] is True and body["blocked"] is False and body["moderation_id"].startswith("modr-")
    clean = client.post_json(
        "/backend-api/moderations", {"input": "hello", "model": "text-moderation-playground"}
    ).json()
    assert clean["flagged"] is False
    models = client.get("/backend-api/models").json()["models"]
    assert models[0]["slug"] == "text-davinci-002-render" and models[0]["max_tokens"] == 4097


def test_counters(client: Client, emulator: Emulator) -> None:
    client.converse(conversation_body("count me"))
    client.converse(conversation_body("x"), bearer="")
    stats = emulator.admin.stats()
    assert stats["requests"]["POST /backend-api/conversation 200"] == 1
    assert stats["requests"]["POST /backend-api/conversation 401"] == 1
    assert stats["conversations"] == 1 and stats["messages"] == 1
    emulator.admin.reset_stats()
    assert emulator.admin.stats()["requests"] == {}


def test_flagged_words_are_configurable(make_emulator: Callable[..., Emulator]) -> None:
    api = make_client(make_emulator(flagged_words=("forbidden",)))
    moderate = "/backend-api/moderations"
    assert api.post_json(moderate, {"input": "A FORBIDDEN word", "model": "m"}).json()["flagged"] is True
    assert api.post_json(moderate, {"input": "flagme", "model": "m"}).json()["flagged"] is False
    quiet = make_client(make_emulator(flagged_words=()))
    assert quiet.post_json(moderate, {"input": "flagme forbidden", "model": "m"}).json()["flagged"] is False


def test_rate_limit_zero_refuses_every_message(make_emulator: Callable[..., Emulator]) -> None:
    emu = make_emulator(rate_limit=0)
    api = make_client(emu)
    limited = api.converse(conversation_body("a"))
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) == 3600
