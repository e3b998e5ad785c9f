"""The backend API (wire doc sections 4-7): the SSE conversation endpoint with its
validation and error bodies, moderations, models, and the conversation list.

Answers are deterministic: the same prompt (and variant number) gives the same text,
long enough to span several cumulative SSE events.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import uuid
from collections.abc import Iterator
from typing import Any

from aiohttp import web

from .conversations import Conversation, ConversationError
from .faults import STREAM_KINDS, Fault
from .state import AuthError, State

log = logging.getLogger(__name__)

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


def detail(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"detail": body}, status=status, headers=headers)


def error_401(code: str) -> web.Response:
    return detail(
        401, {"message": MESSAGES_401[code], "type": "invalid_request_error", "param": None, "code": code}
    )


def validation_error(message: str, loc: list[str]) -> web.Response:
    return detail(422, [{"loc": ["body", *loc], "msg": message, "type": "value_error"}])


def _is_uuid(value: Any) -> bool:
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


class Backend:
    def __init__(self, state: State) -> None:
        self.state = state

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/backend-api/conversation", self.conversation),
            web.post("/backend-api/moderations", self.moderations),
            web.get("/backend-api/models", self.models),
            web.get("/backend-api/conversations", self.conversations),
            web.get("/backend-api/conversation/{conversation_id}", self.get_conversation),
        ]

    def _account(self, request: web.Request) -> str:
        try:
            return self.state.check_bearer(request.headers.get("Authorization"))
        except AuthError as exc:
            raise _Reply(error_401(exc.code)) from None

    async def models(self, request: web.Request) -> web.StreamResponse:
        try:
            self._account(request)
        except _Reply as reply:
            return reply.response
        return web.json_response({"models": MODELS})

    async def conversations(self, request: web.Request) -> web.StreamResponse:
        try:
            email = self._account(request)
        except _Reply as reply:
            return reply.response
        try:
            offset, limit = int(request.query.get("offset", 0)), int(request.query.get("limit", 20))
        except ValueError:
            return validation_error("value is not a valid integer", ["offset"])
        items = self.state.conversations.list_for(email)
        page = [c.summary() for c in items[offset : offset + limit]]
        return web.json_response({"items": page, "total": len(items), "limit": limit, "offset": offset})

    async def get_conversation(self, request: web.Request) -> web.StreamResponse:
        try:
            email = self._account(request)
        except _Reply as reply:
            return reply.response
        conversation = self.state.conversations.get(request.match_info["conversation_id"], email)
        if conversation is None:
            return detail(404, "Conversation not found")
        return web.json_response(conversation.to_dict())

    async def moderations(self, request: web.Request) -> web.StreamResponse:
        try:
            self._account(request)
            body = await _json_body(request)
        except _Reply as reply:
            return reply.response
        text = body.get("input")
        if not isinstance(text, str):
            return validation_error("field required", ["input"])
        lowered = text.lower()
        flagged = any(word in lowered for word in self.state.options.flagged_words)
        moderation_id = "modr-" + hashlib.sha256(text.encode()).hexdigest()[:29]
        return web.json_response({"flagged": flagged, "blocked": False, "moderation_id": moderation_id})

    async def conversation(self, request: web.Request) -> web.StreamResponse:
        try:
            email = self._account(request)
            body = await _json_body(request)
            prompt, message_id, parent_id, action = self._validate(body)
        except _Reply as reply:
            return reply.response
        options = self.state.options
        if len(prompt) > options.max_message_chars:
            return detail(413, TOO_LONG)
        conversation_id = body.get("conversation_id")
        conversation = None
        if conversation_id is not None:
            conversation = self.state.conversations.get(str(conversation_id), email)
            if conversation is None:
                return detail(404, "Conversation not found")
            if parent_id not in conversation.mapping:
                return detail(404, "Parent message not found")
        if options.one_stream_per_account and self.state.active_streams[email] > 0:
            return detail(429, ONE_AT_A_TIME)
        wait = self.state.rate_limited(email)
        if wait is not None:
            return detail(429, TOO_MANY_PER_HOUR, headers={"Retry-After": str(int(wait + 0.999))})
        if conversation is None:
            conversation = self.state.conversations.create(email, parent_id)
            self.state.stats.conversations += 1
        try:
            user_id, variant = self._add_user_message(conversation, action, message_id, prompt, parent_id)
        except ConversationError as exc:
            return detail(400, str(exc).capitalize())
        self.state.stats.messages += 1
        fault = self.state.faults.take(request.path, STREAM_KINDS)
        if fault is not None:
            self.state.stats.faults_applied += 1
        return await self._stream(request, email, conversation, user_id, answer_for(prompt, variant), fault)

    def _add_user_message(
        self, conversation: Conversation, action: str, message_id: str, prompt: str, parent_id: str
    ) -> tuple[str, int]:
        """The user message to answer under, and which variant of the answer to give."""
        store = self.state.conversations
        if action == "variant" and message_id not in conversation.mapping:
            earlier = store.variant_of(conversation, parent_id, prompt)
            if earlier is not None:
                return earlier  # re-asked with a fresh id: answer the original message again
        return message_id, store.add_user_message(conversation, message_id, prompt, parent_id)

    def _validate(self, body: dict[str, Any]) -> tuple[str, str, str, str]:
        action = body.get("action")
        if action not in ("next", "variant"):
            raise _Reply(
                validation_error(
                    "value is not a valid enumeration member; permitted: 'next', 'variant'", ["action"]
                )
            )
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise _Reply(validation_error("field required", ["messages"]))
        message = messages[-1]
        if not isinstance(message, dict) or not _is_uuid(message.get("id")):
            raise _Reply(validation_error("value is not a valid uuid", ["messages", "0", "id"]))
        content = message.get("content")
        parts = content.get("parts") if isinstance(content, dict) else None
        if (
            message.get("role") != "user"
            or not isinstance(parts, list)
            or not all(isinstance(p, str) for p in parts)
        ):
            raise _Reply(validation_error("invalid message content", ["messages", "0", "content"]))
        if not _is_uuid(body.get("parent_message_id")):
            raise _Reply(validation_error("value is not a valid uuid", ["parent_message_id"]))
        if not isinstance(body.get("model"), str):
            raise _Reply(validation_error("field required", ["model"]))
        cid = body.get("conversation_id")
        if cid is not None and not isinstance(cid, str):
            raise _Reply(validation_error("str type expected", ["conversation_id"]))
        return "\n".join(parts), str(message["id"]), str(body["parent_message_id"]), str(action)

    async def _stream(
        self,
        request: web.Request,
        email: str,
        conversation: Conversation,
        user_id: str,
        text: str,
        fault: Fault | None,
    ) -> web.StreamResponse:
        store = self.state.conversations
        user_node = conversation.mapping[user_id]
        node = store.add_assistant_message(conversation, user_node.id, str(uuid.uuid4()))
        node.text = text
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache"}
        )
        self.state.active_streams[email] += 1
        try:
            await response.prepare(request)
            for sent, chunk in enumerate(answer_chunks(text)):
                if fault is not None and fault.after_events is not None and sent >= fault.after_events:
                    if await self._apply_stream_fault(request, response, fault):
                        return response
                    fault = None
                await response.write(sse_event(node.id, chunk, conversation.id))
                if self.state.options.token_delay > 0:
                    await _pause(request, self.state.options.token_delay)
            if fault is not None and await self._apply_stream_fault(request, response, fault):
                return response
            await response.write(b"data: [DONE]\n\n")
            await response.write_eof()
        except ConnectionResetError:
            log.info("client went away mid-stream")
        finally:
            self.state.active_streams[email] -= 1
        return response

    async def _apply_stream_fault(
        self, request: web.Request, response: web.StreamResponse, fault: Fault
    ) -> bool:
        """Apply a stream fault; True when the stream is over."""
        if fault.kind == "cut":
            if request.transport is not None:
                request.transport.abort()
            return True
        if fault.kind == "no_done":
            await response.write_eof()
            return True
        if fault.kind == "malformed":
            await response.write(b"data: {this is not json\n\n")
            return False
        if fault.kind == "stall":
            await _pause(request, fault.stall_seconds if fault.stall_seconds is not None else 3600.0)
            return False
        return False


async def _pause(request: web.Request, seconds: float) -> None:
    """Sleep, but stop early when the client has gone: a stalled stream whose client
    timed out must not keep the account's one stream slot busy."""
    deadline = asyncio.get_running_loop().time() + seconds
    while (remaining := deadline - asyncio.get_running_loop().time()) > 0:
        transport = request.transport
        if transport is None or transport.is_closing():
            raise ConnectionResetError("client went away")
        await asyncio.sleep(min(remaining, 0.1))


class _Reply(Exception):
    """Carries a finished error response out of a validation helper."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise _Reply(validation_error("Expecting value: body is not valid JSON", [])) from None
    if not isinstance(body, dict):
        raise _Reply(validation_error("value is not a valid dict", []))
    return body
