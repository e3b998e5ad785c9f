"""Decoding the site's conversation events into updates of the answer.

Each `data:` event carries the *whole* answer so far (wire-protocol.md section 4):
text, ids, `end_turn` and model slug. `ConversationDecoder` turns it into a
`ConversationUpdate` with the full text and the newly added delta, recognises `[DONE]`,
and skips (and logs) a stray non-JSON line instead of failing the whole answer. As the
latest event is the whole answer, `settle` reaches the same final state as decoding
every event while decoding only the last ones: what `send_message` does when nobody
watches the progress.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
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
        self.payload = payload = self._json(data)
        return None if payload is None else self._apply(payload)

    def settle(self, events: Sequence[SSEEvent]) -> None:
        """Bring the state to the end of `events`, decoding only what decides it.

        The answer is the last event of the usual shape with text (each repeats the whole
        answer so far, ids included), so decoding starts there; the events before it
        cannot change the outcome. When no event carries text, or a later one empties it,
        an error reported earlier matters, so then every event is decoded. Same state as
        `decode` on each event (whatever was decoded before), except the `skipped` and
        `rewrites` counts of the events passed over.
        """
        start, found = self._last_answer(events)
        if found is None:
            for event in events:
                self.decode(event)
            return
        before = dict(vars(self))  # the fields are immutable values: a shallow copy is a snapshot
        self.payload = found  # decode it once: it was just parsed
        self._apply(found)
        for event in events[start + 1 :]:
            self.decode(event)
        if not self.text:  # a later event emptied the answer: the events passed over count
            vars(self).update(before)
            for event in events:
                self.decode(event)

    def _last_answer(self, events: Sequence[SSEEvent]) -> tuple[int, dict[str, object] | None]:
        """Index and JSON object of the last event of the usual shape with text."""
        for index in range(len(events) - 1, -1, -1):
            data = events[index].data
            payload = None if data == DONE else self._json(data, log_skip=False)
            standard = None if payload is None else _standard(payload)
            if standard is not None and standard[1]:
                return index, payload
        return 0, None

    def _json(self, data: str, *, log_skip: bool = True) -> dict[str, object] | None:
        try:
            payload = _json_decode(data)
        except ValueError:
            if log_skip:
                self.skipped += 1
                log.warning("skipped a non-JSON line in the conversation stream (%d bytes)", len(data))
            return None
        if type(payload) is not dict:
            if log_skip:
                self.skipped += 1
                log.warning("skipped a conversation event that is not an object")
            return None
        return payload

    def _apply(self, payload: dict[str, object]) -> ConversationUpdate | None:
        standard = _standard(payload)
        if standard is None:
            return self._decode_other(payload)
        message, text, self.message_id, self.conversation_id = standard
        if payload.get("error"):
            self.server_error = payload["error"]
        self._details(message)
        return self._update(text)

    def _details(self, message: dict[str, object]) -> None:
        """`end_turn` and the model slug, as the latest event says (not sticky: each
        event is the whole answer so far)."""
        metadata = message.get("metadata")
        slug = metadata.get("model_slug") if type(metadata) is dict else None
        self.model_slug = slug if type(slug) is str else None
        end_turn = message.get("end_turn")
        self.end_turn = None if end_turn is None else bool(end_turn)

    def _decode_other(self, payload: dict[str, object]) -> ConversationUpdate | None:
        """Every other shape, checked field by field (nothing is assumed)."""
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


def _standard(payload: dict[str, object]) -> tuple[dict[str, object], str, str, str] | None:
    """(message, text, message id, conversation id) of an event of the site's usual shape
    (wire-protocol.md section 4), else None."""
    try:
        message = payload["message"]
        parts = message["content"]["parts"]  # type: ignore[index]
        text = parts[0]
        message_id = message["id"]  # type: ignore[index]
        conversation_id = payload["conversation_id"]
    except (KeyError, TypeError, IndexError):
        return None
    if type(parts) is not list or len(parts) != 1 or type(text) is not str or type(message_id) is not str:
        return None
    if type(conversation_id) is not str:
        return None
    return message, text, message_id, conversation_id  # type: ignore[return-value]


__all__ = ["DONE", "ConversationDecoder", "ConversationUpdate"]
