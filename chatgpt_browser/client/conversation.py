"""A conversation: carries `conversation_id` and `parent_message_id` between messages."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from .models import ChatResponse

if TYPE_CHECKING:  # pragma: no cover
    from .api import ChatGPTAPI


class Conversation:
    """Send messages in one thread of conversation (like the original `getConversation`).

    Each answer's `conversation_id` and `message_id` become the next message's
    `conversation_id` and `parent_message_id`. Not meant to be shared between threads
    (a lock keeps two sends from interleaving if it is).
    """

    def __init__(
        self,
        api: ChatGPTAPI,
        *,
        conversation_id: str | None = None,
        parent_message_id: str | None = None,
    ) -> None:
        self.api = api
        self.conversation_id = conversation_id
        self.parent_message_id = parent_message_id
        self.history: list[tuple[str, ChatResponse]] = []
        self._lock = threading.Lock()

    def send_message(
        self,
        message: str,
        *,
        on_progress: Callable[[ChatResponse], None] | None = None,
        **options: Any,
    ) -> ChatResponse:
        """Send the next message; options as for `ChatGPTAPI.send_message`."""
        with self._lock:
            result = self.api.send_message(
                message,
                conversation_id=self.conversation_id,
                parent_message_id=self.parent_message_id,
                on_progress=on_progress,
                **options,
            )
            self._advance(message, result)
            return result

    def stream_message(self, message: str, **options: Any) -> Iterator[ChatResponse]:
        """Like `send_message`, yielding each update; the ids advance when it completes."""
        with self._lock:
            stream = self.api.stream_message(
                message,
                conversation_id=self.conversation_id,
                parent_message_id=self.parent_message_id,
                **options,
            )
            yield from stream
            if stream.result is not None:
                self._advance(message, stream.result)

    def _advance(self, message: str, result: ChatResponse) -> None:
        if result.conversation_id:
            self.conversation_id = result.conversation_id
        if result.message_id:
            self.parent_message_id = result.message_id
        self.history.append((message, result))

    def __repr__(self) -> str:
        return f"Conversation(conversation_id={self.conversation_id!r}, messages={len(self.history)})"


__all__ = ["Conversation"]
