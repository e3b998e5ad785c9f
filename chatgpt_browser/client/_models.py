"""Typed results of the client (validated once at the boundary, then passed around)."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True, slots=True)
class ChatResponse:
    """An answer (or, for progress callbacks, the answer so far).

    `response` is the full text so far; `delta` what the last event added. `incomplete`
    is True for progress updates and for a final answer whose stream ended without
    `[DONE]` (the text may be cut short).
    """

    response: str
    conversation_id: str | None
    message_id: str | None
    delta: str = ""
    incomplete: bool = False
    model_slug: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class ModerationResult:
    """The moderation endpoint's verdict on a text."""

    flagged: bool
    blocked: bool
    moderation_id: str | None


__all__ = ["ChatResponse", "ModerationResult"]
