"""The backend API's wire shapes (wire doc sections 4-7): error bodies, request
validation, the deterministic answers and their SSE events.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator

from aiohttp import web

from .jsontypes import JSONMapping, JSONObject

MESSAGES_401 = {
    "token_expired": "Your authentication token has expired. Please try signing in again.",
    "invalid_api_key": "Missing authentication header or invalid authentication header format.",
    "invalid_jwt": "Could not parse your authentication token. Please try signing in again.",
}
TOO_MANY_PER_HOUR = "Too many requests in 1 hour. Try again later."
ONE_AT_A_TIME = (
    "Only one message at a time. Please allow any other responses to complete before sending "
    "another message, or wait one minute."
)
TOO_LONG = {
    "message": "The message you submitted was too long, please reload the conversation and submit "
    "something shorter.",
    "code": "message_length_exceeds_limit",
}
MODELS = [
    {
        "slug": "text-davinci-002-render",
        "max_tokens": 4097,
        "title": "Default",
        "description": "Our default model.",
        "tags": [],
    },
    {
        "slug": "text-davinci-002-render-sha",
        "max_tokens": 4097,
        "title": "Turbo (Default for free users)",
        "description": "Optimized for speed.",
        "tags": [],
    },
    {
        "slug": "text-davinci-002-render-paid",
        "max_tokens": 4097,
        "title": "Legacy (Plus)",
        "description": "The previous model.",
        "tags": [],
    },
]
# Readable sentences the emulator picks from, so a person watching the demo sees an
# answer rather than word salad; which ones and in what order depends on the prompt.
_SENTENCES = (
    "This answer comes from the local site emulator, not from a model.",
    "It streams as cumulative server-sent events, the way the site sent them in December 2022.",
    "The same prompt always gets the same words, so tests can predict every part of it.",
    "Ask for a variant and you get another take on the same prompt.",
    "Through the admin API a test can cut, stall or garble this stream on purpose.",
    "Each event repeats the whole answer so far, so a client only needs the latest one.",
    "A stream that ends without its closing marker is reported as incomplete.",
    "Unattended jobs see what they would see on the real site, minus the model.",
)
_SENTENCES_PER_ANSWER = 3


def answer_for(prompt: str, variant: int = 0) -> str:
    """The deterministic answer to `prompt` (variant n gives a different text)."""
    digest = hashlib.sha256(f"{variant}:{prompt}".encode()).digest()
    order = sorted(range(len(_SENTENCES)), key=lambda index: digest[index])
    body = " ".join(_SENTENCES[index] for index in order[:_SENTENCES_PER_ANSWER])
    opener = (
        f'You said: "{prompt[:200]}"'
        if variant == 0
        else f'Another take (variant {variant}) on "{prompt[:200]}":'
    )
    return f"{opener} {body}"


def answer_chunks(text: str) -> Iterator[str]:
    """Cumulative prefixes of the answer, a few words at a time."""
    words = text.split(" ")
    for end in range(2, len(words), 3):
        yield " ".join(words[:end])
    yield text


def detail(status: int, body: object, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"detail": body}, status=status, headers=headers)


def error_401(code: str) -> web.Response:
    return detail(
        401, {"message": MESSAGES_401[code], "type": "invalid_request_error", "param": None, "code": code}
    )


def validation_error(message: str, loc: list[str]) -> web.Response:
    return detail(422, [{"loc": ["body", *loc], "msg": message, "type": "value_error"}])


def is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return isinstance(value, str)


def sse_event(message_id: str, text: str, conversation_id: str) -> bytes:
    event = {
        "message": {
            "id": message_id,
            "role": "assistant",
            "user": None,
            "create_time": None,
            "update_time": None,
            "content": {"content_type": "text", "parts": [text]},
            "end_turn": None,
            "weight": 1.0,
            "metadata": {},
            "recipient": "all",
        },
        "conversation_id": conversation_id,
        "error": None,
    }
    return f"data: {json.dumps(event)}\n\n".encode()


def validate_conversation(body: JSONMapping) -> tuple[str, str, str, str]:
    """(prompt, message id, parent id, action) of a conversation request, or a 422 `Reply`."""
    action = body.get("action")
    if action not in ("next", "variant"):
        raise Reply(
            validation_error(
                "value is not a valid enumeration member; permitted: 'next', 'variant'", ["action"]
            )
        )
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise Reply(validation_error("field required", ["messages"]))
    message = messages[-1]
    if not isinstance(message, dict) or not is_uuid(message.get("id")):
        raise Reply(validation_error("value is not a valid uuid", ["messages", "0", "id"]))
    content = message.get("content")
    parts = content.get("parts") if isinstance(content, dict) else None
    if (
        message.get("role") != "user"
        or not isinstance(parts, list)
        or not all(isinstance(p, str) for p in parts)
    ):
        raise Reply(validation_error("invalid message content", ["messages", "0", "content"]))
    if not is_uuid(body.get("parent_message_id")):
        raise Reply(validation_error("value is not a valid uuid", ["parent_message_id"]))
    if not isinstance(body.get("model"), str):
        raise Reply(validation_error("field required", ["model"]))
    cid = body.get("conversation_id")
    if cid is not None and not isinstance(cid, str):
        raise Reply(validation_error("str type expected", ["conversation_id"]))
    return "\n".join(parts), str(message["id"]), str(body["parent_message_id"]), str(action)


class Reply(Exception):
    """Carries a finished error response out of a validation helper."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


async def json_body(request: web.Request) -> JSONObject:
    try:
        body = await request.json()
    except ValueError:
        raise Reply(validation_error("Expecting value: body is not valid JSON", [])) from None
    if not isinstance(body, dict):
        raise Reply(validation_error("value is not a valid dict", []))
    return body
