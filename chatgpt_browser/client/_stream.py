"""Reading one conversation answer off an open HTTP response.

Glue between a `TransportResponse` (bytes) and the sans-IO parser (events): it adds
the deadlines (stall: the transport's read timeout; total: `deadline`), `abort`
(checked between chunks, and a watcher unblocks a read that waits for the network),
and the end-of-stream rules:
- `[DONE]` -> the final answer;
- a clean close without `[DONE]` -> what arrived, flagged `incomplete`;
- a cut (connection error, or a close in the middle of an event) -> `StreamError`
  carrying the partial answer; a stall -> `ChatGPTTimeoutError` carrying it too.
"""

from __future__ import annotations

import contextlib
import threading
import time
import types
from collections.abc import Callable, Iterator, Mapping

from ..errors import AbortedError, ChatGPTTimeoutError, NetworkError, StreamError
from ._models import ChatResponse
from ._sse import DONE, ConversationDecoder, ConversationUpdate, SSEEvent, SSEParser
from ._text import markdown_to_text
from ._transport import TransportResponse

#: `read` keeps the events to decode at the end up to this many characters (each repeats
#: the answer so far: a long answer's events add up quadratically), then decodes them.
_KEEP_AT_MOST = 1 << 20

#: How often the abort watcher looks at the event while a read is blocked.
_ABORT_POLL = 0.02

#: `on_conversation_response`: called with each event's JSON object, read-only.
OnEvent = Callable[[Mapping[str, object]], None]


@contextlib.contextmanager
def _abort_watcher(abort: threading.Event, response: TransportResponse) -> Iterator[None]:
    finished = threading.Event()

    def watch() -> None:
        while not finished.is_set():
            if abort.wait(_ABORT_POLL):
                if not finished.is_set():
                    response.interrupt()
                return

    watcher = threading.Thread(target=watch, name="chatgpt-abort-watcher", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        finished.set()
        watcher.join(timeout=1.0)


class ConversationReader:
    """Iterates `ChatResponse` updates of one answer; `final` holds the result at the end."""

    def __init__(
        self,
        response: TransportResponse,
        *,
        what: str,
        markdown: bool = True,
        deadline: float | None = None,
        abort: threading.Event | None = None,
        clock: Callable[[], float] = time.monotonic,
        on_event: OnEvent | None = None,
    ) -> None:
        self._response = response
        self._on_event = on_event
        self._what = what
        self._markdown = markdown
        self._deadline = deadline
        self._abort = abort
        self._clock = clock
        self._decoder = ConversationDecoder()
        self._parser = SSEParser()
        self._shown = ""
        self._done = False  # `[DONE]` was read
        self._pending: list[SSEEvent] = []  # events `read` keeps for one `settle`
        self._unsettled = False  # `read` holds events (or their effect) `_shown` lacks
        self.final: ChatResponse | None = None

    def _partial(self, incomplete: bool = True) -> ChatResponse:
        self._settle()
        return ChatResponse(
            response=self._shown,
            conversation_id=self._decoder.conversation_id,
            message_id=self._decoder.message_id,
            incomplete=incomplete,
            model_slug=self._decoder.model_slug,
        )

    def _check(self) -> None:
        if self._abort is not None and self._abort.is_set():
            raise AbortedError(f"{self._what}: aborted by the caller", partial_response=self._partial())
        if self._deadline is not None and self._clock() > self._deadline:
            raise ChatGPTTimeoutError(
                f"{self._what}: the answer took longer than the timeout", partial_response=self._partial()
            )

    def __iter__(self) -> Iterator[ChatResponse]:
        decoder = self._decoder
        for events in self._batches():
            for event in events:
                update = decoder.decode(event)
                if self._on_event is not None and decoder.payload is not None:
                    self._on_event(types.MappingProxyType(decoder.payload))
                if update is not None:
                    yield self._progress(update)
        self._finish()

    def read(self) -> ChatResponse:
        """The whole answer, with no updates on the way: as each event repeats the whole
        answer so far, only the last ones are decoded (`ConversationDecoder.settle`).
        `on_event` still sees every event."""
        if self._on_event is not None:
            for _update in self:
                pass
        else:
            kept = 0
            for events in self._batches():
                self._pending += events
                self._unsettled = True
                kept += sum(len(event.data) for event in events)
                if kept > _KEEP_AT_MOST:  # a very long answer: decode what we hold, as streaming does
                    for event in self._pending:
                        self._decoder.decode(event)
                    self._pending, kept = [], 0
            self._finish()
        assert self.final is not None
        return self.final

    def _batches(self) -> Iterator[list[SSEEvent]]:
        """The events of each read, up to `[DONE]`; the rest is drained unread so the
        connection goes back to the pool. Deadline and abort are checked between reads;
        a stall or a cut becomes a typed error carrying the partial answer."""
        feed = self._parser.feed
        checking = self._abort is not None or self._deadline is not None
        try:
            watcher = _abort_watcher(self._abort, self._response) if self._abort else contextlib.nullcontext()
            with watcher:
                self._check()
                try:
                    for chunk in self._response.iter_bytes():
                        if self._done:
                            continue
                        events = feed(chunk)
                        if events:
                            yield self._upto_done(events)
                        if checking and not self._done:
                            self._check()
                except ChatGPTTimeoutError as exc:
                    self._check()  # an abort that interrupted the read wins
                    raise ChatGPTTimeoutError(
                        f"{self._what}: the stream stalled (no data within the read timeout)",
                        partial_response=self._partial(),
                        original_error=exc,
                    ) from exc
                except NetworkError as exc:
                    self._check()
                    partial = self._partial()
                    raise StreamError(
                        f"{self._what}: the connection broke after {len(partial.response)} characters",
                        partial_response=partial,
                        original_error=exc,
                    ) from exc
        finally:
            self._response.close()

    def _upto_done(self, events: list[SSEEvent]) -> list[SSEEvent]:
        for index, event in enumerate(events):
            if event.data == DONE:
                self._done = True
                return events[: index + 1]
        return events

    def _settle(self) -> None:
        """For `read`: decode the events kept and show the answer so far (at the end, or for
        a partial answer); once, however many times it is asked."""
        if not self._unsettled:
            return
        self._decoder.settle(self._pending)
        self._pending = []
        text = self._decoder.text
        self._shown = text if self._markdown else markdown_to_text(text)
        self._unsettled = False

    def _finish(self) -> None:
        """The end-of-stream rules (module docstring); sets `final`."""
        self._settle()
        decoder = self._decoder
        if self._abort is not None and self._abort.is_set() and not decoder.done:
            raise AbortedError(f"{self._what}: aborted by the caller", partial_response=self._partial())
        if decoder.server_error and not decoder.text:
            raise StreamError(f"{self._what}: the server reported an error: {decoder.server_error}")
        if not decoder.done and not self._parser.close():
            raise StreamError(
                f"{self._what}: the stream ended in the middle of an event", partial_response=self._partial()
            )
        if not decoder.done and not decoder.text:
            raise StreamError(
                f"{self._what}: the stream ended before any answer", partial_response=self._partial()
            )
        self.final = self._partial(incomplete=not decoder.done)

    def _progress(self, update: ConversationUpdate) -> ChatResponse:
        if self._markdown:
            shown, delta = update.text, update.delta
        else:  # the plain text of the whole answer so far, and what it gained
            shown = markdown_to_text(update.text)
            delta = shown[len(self._shown) :] if shown.startswith(self._shown) else shown
        self._shown = shown
        return ChatResponse(shown, update.conversation_id, update.message_id, delta, True, update.model_slug)


class MessageStream:
    """Iterable of `ChatResponse` updates of one answer; `result` is the final answer."""

    def __init__(self, opener: Callable[[], ConversationReader]) -> None:
        self._opener = opener
        self.result: ChatResponse | None = None

    def __iter__(self) -> Iterator[ChatResponse]:
        reader = self._opener()
        yield from reader
        self.result = reader.final

    def read(self) -> ChatResponse:
        """The whole answer without the updates (cheaper: see `ConversationReader.read`)."""
        self.result = self._opener().read()
        return self.result


__all__ = ["ConversationReader", "MessageStream", "OnEvent"]
