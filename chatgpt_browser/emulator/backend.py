"""The backend API (wire doc sections 4-7): the SSE conversation endpoint, moderations,
models, and the conversation list (validation and error bodies: backend_wire.py).

Answers are deterministic: the same prompt (and variant number) gives the same text,
long enough to span several cumulative SSE events.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid

from aiohttp import web

from .backend_wire import (
    MODELS,
    ONE_AT_A_TIME,
    TOO_LONG,
    TOO_MANY_PER_HOUR,
    Reply,
    answer_chunks,
    answer_for,
    detail,
    error_401,
    json_body,
    sse_event,
    validate_conversation,
    validation_error,
)
from .conversations import Conversation, ConversationError
from .faults import STREAM_KINDS, Fault
from .state import AuthError, State

log = logging.getLogger(__name__)


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
            raise Reply(error_401(exc.code)) from None

    async def models(self, request: web.Request) -> web.StreamResponse:
        try:
            self._account(request)
        except Reply as reply:
            return reply.response
        return web.json_response({"models": MODELS})

    async def conversations(self, request: web.Request) -> web.StreamResponse:
        try:
            email = self._account(request)
        except Reply as reply:
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
        except Reply as reply:
            return reply.response
        conversation = self.state.conversations.get(request.match_info["conversation_id"], email)
        if conversation is None:
            return detail(404, "Conversation not found")
        return web.json_response(conversation.to_dict())

    async def moderations(self, request: web.Request) -> web.StreamResponse:
        try:
            self._account(request)
            body = await json_body(request)
        except Reply as reply:
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
            body = await json_body(request)
            prompt, message_id, parent_id, action = validate_conversation(body)
        except Reply as reply:
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
