"""Decoding the site's conversation events into updates of the answer.

Each `data:` event carries the *whole* answer so far (wire-protocol.md section 4);
`ConversationDecoder` turns it into a `ConversationUpdate` with the full text and the
newly added delta, recognises `[DONE]`, and skips (and logs) a stray non-JSON line
instead of failing the whole answer.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from ._sse import SSEEvent

log = logging.getLogger(__name__)

DONE = "[DONE]"
_json_decode = json.JSONDecoder().decode  # json.loads minus its per-call argument handling


class ConversationUpdate(NamedTuple):
    """The answer so far after one event: full `text`, the newly added `delta`."""

    text: str
    delta: str
    message_id: str | None
    conversation_id: str | None
    end_turn: bool | None = None
    model_slug: str | None = None


class ConversationDecoder:
    """Turns conversation `data:` events into updates; tracks `[DONE]` and errors.

    Each event carries the whole answer so far. The delta is the new tail; when the
    text does not extend the previous one (the server rewrote it), the delta is the
    whole new text and `rewrites` counts it.
    """

    def __init__(self) -> None:
        self.text = ""
        self.message_id: str | None = None
        self.conversation_id: str | None = None
        self.done = False
        self.skipped = 0
        self.rewrites = 0
        self.server_error: object = None
        self.end_turn: bool | None = None
        self.model_slug: str | None = None
        #: The JSON object of the last event decoded (None after a skipped line).
        self.payload: dict[str, object] | None = None

    def decode(self, event: SSEEvent) -> ConversationUpdate | None:
        """One SSE event -> an update, or None (DONE, skipped line, no new text)."""
        data = event.data
        if data == DONE:
            self.done = True
            self.payload = None
            return None
        try:
            self.payload = payload = _json_decode(data)
        except ValueError:
            self.payload = None
            self.skipped += 1
            log.warning("skipped a non-JSON line in the conversation stream (%d bytes)", len(data))
            return None
        try:  # the shape every event of the site has (wire-protocol.md section 4)
            message = payload["message"]
            parts = message["content"]["parts"]
            text = parts[0]
            if len(parts) != 1 or type(text) is not str:
                raise TypeError
            message_id = message["id"]
            conversation_id = payload["conversation_id"]
            if type(message_id) is not str or type(conversation_id) is not str:
                raise TypeError
        except (KeyError, TypeError, IndexError):
            return self._decode_other(payload)
        self.message_id, self.conversation_id = message_id, conversation_id
        if payload.get("error"):
            self.server_error = payload["error"]
        if message.get("end_turn") is not None or message.get("metadata"):
            self._details(message)
        return self._update(text)

    def _details(self, message: dict[str, object]) -> None:
        metadata = message.get("metadata")
        if isinstance(metadata, dict) and isinstance(metadata.get("model_slug"), str):
            self.model_slug = metadata["model_slug"]
        if message.get("end_turn") is not None:
            self.end_turn = bool(message.get("end_turn"))

    def _decode_other(self, payload: object) -> ConversationUpdate | None:
        """Every other shape, checked field by field (nothing is assumed)."""
        if not isinstance(payload, dict):
            self.payload = None
            self.skipped += 1
            log.warning("skipped a conversation event that is not an object")
            return None
        if payload.get("error"):
            self.server_error = payload["error"]
        message = payload.get("message")
        conversation_id = payload.get("conversation_id")
        if isinstance(conversation_id, str):
            self.conversation_id = conversation_id
        if not isinstance(message, dict):
            return None
        if isinstance(message.get("id"), str):
            self.message_id = message["id"]
        self._details(message)
        content = message.get("content")
        parts = content.get("parts") if isinstance(content, dict) else None
        if not isinstance(parts, list) or not parts:
            return None
        return self._update("".join(p for p in parts if isinstance(p, str)))

    def _update(self, text: str) -> ConversationUpdate | None:
        if text == self.text:
            return None
        if text.startswith(self.text):
            delta = text[len(self.text) :]
        else:
            delta = text
            self.rewrites += 1
        self.text = text
        return ConversationUpdate(
            text=text,
            delta=delta,
            message_id=self.message_id,
            conversation_id=self.conversation_id,
            end_turn=self.end_turn,
            model_slug=self.model_slug,
        )


__all__ = ["DONE", "ConversationDecoder", "ConversationUpdate"]
