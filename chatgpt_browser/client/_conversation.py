"""A conversation: carries `conversation_id` and `parent_message_id` between messages."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Protocol, TypedDict

from ._models import ChatResponse
from ._stream import OnEvent

if TYPE_CHECKING:  # only annotations use it (typing.Unpack is Python 3.11+)
    from typing_extensions import Unpack


class SendOptions(TypedDict, total=False):
    """Options of one message, besides the ids a `Conversation` carries."""

    message_id: str | None
    action: str
    model: str | None
    timeout: float | None
    abort: threading.Event | None
    on_conversation_response: OnEvent | None


class MessageOptions(SendOptions, total=False):
    """All options of `ChatGPTAPI.send_message` / `stream_message` (after the prompt)."""

    conversation_id: str | None
    parent_message_id: str | None


class MessageSender(Protocol):
    """What a conversation needs of a client (`ChatGPTAPI` is one); no import cycle."""

    def send_message(
        self,
        message: str,
        *,
        on_progress: Callable[[ChatResponse], None] | None = ...,
        **options: Unpack[MessageOptions],
    ) -> ChatResponse: ...

    def stream_message(self, message: str, **options: Unpack[MessageOptions]) -> Iterable[ChatResponse]: ...


class Conversation:
    """Send messages in one thread of conversation (like the original `getConversation`).

    Each answer's `conversation_id` and `message_id` become the next message's
    `conversation_id` and `parent_message_id`. Not meant to be shared between threads
    (a lock keeps two sends from interleaving if it is).
    """

    def __init__(
        self,
        api: MessageSender,
        *,
        conversation_id: str | None = None,
        parent_message_id: str | None = None,
        timeout: float | None = None,
    ) -> None:
        self.api = api
        self.timeout = timeout
        self.conversation_id = conversation_id
        self.parent_message_id = parent_message_id
        self.history: list[tuple[str, ChatResponse]] = []
        self._lock = threading.Lock()

    def send_message(
        self,
        message: str,
        *,
        on_progress: Callable[[ChatResponse], None] | None = None,
        **options: Unpack[SendOptions],
    ) -> ChatResponse:
        """Send the next message; options as for `ChatGPTAPI.send_message`."""
        options.setdefault("timeout", self.timeout)
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

    def stream_message(self, message: str, **options: Unpack[SendOptions]) -> Iterator[ChatResponse]:
        """Like `send_message`, yielding each update; the ids advance when it completes."""
        options.setdefault("timeout", self.timeout)
        with self._lock:
            stream = self.api.stream_message(
                message,
                conversation_id=self.conversation_id,
                parent_message_id=self.parent_message_id,
                **options,
            )
            yield from stream
            result = getattr(stream, "result", None)
            if result is not None:
                self._advance(message, result)

    def _advance(self, message: str, result: ChatResponse) -> None:
        if result.conversation_id:
            self.conversation_id = result.conversation_id
        if result.message_id:
            self.parent_message_id = result.message_id
        self.history.append((message, result))

    def __repr__(self) -> str:
        return f"Conversation(conversation_id={self.conversation_id!r}, messages={len(self.history)})"


__all__ = ["Conversation", "MessageOptions", "MessageSender", "SendOptions"]
