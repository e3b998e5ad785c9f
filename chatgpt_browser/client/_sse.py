"""Sans-IO parsing of the conversation event stream: bytes in, events out.

How this works: `SSEParser.feed(chunk)` appends bytes to a buffer, cuts off every
complete line (a line ends in CR, LF or CRLF; a CR at the very end of a chunk ends
the line at once and a LF opening the next chunk is then swallowed, so a CRLF split
across chunks is one line ending), and applies the SSE field rules to each line. A
blank line dispatches the event collected so far. Lines are decoded only once they
are complete, so a multibyte UTF-8 character split across chunks is never torn.
Nothing here does I/O or knows about HTTP: the caller reads the socket.

On top of it, `ConversationDecoder` (`_decoder.py`) turns the site's `data:` events
into `ConversationUpdate`s.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from ..errors import StreamError
from ._decoder import DONE, ConversationDecoder, ConversationUpdate  # re-exported

log = logging.getLogger(__name__)

#: Upper bound for one line or one event's data; a stream that exceeds it is broken.
DEFAULT_MAX_EVENT_BYTES = 4 * 1024 * 1024


class SSEEvent(NamedTuple):
    """One dispatched server-sent event (field names as in the HTML standard).

    A NamedTuple: immutable like a frozen dataclass, and several times cheaper to create,
    which matters at one per event.
    """

    data: str
    event: str = "message"
    id: str | None = None
    retry: int | None = None


_new_event = tuple.__new__  # skips NamedTuple's Python-level __new__ on the hot path


class SSEParser:
    """Incremental SSE parser. Feed it bytes; it returns the events they complete.

    `comments` counts comment lines (keep-alives such as ``: ping``). Call `close()`
    when the stream ends: it returns True when the stream ended cleanly between
    events and False when it stopped mid-event (a partial line or an undispatched
    event was dropped, as the standard requires).
    """

    __slots__ = (
        "_buffer",
        "_data",
        "_event",
        "_id",
        "_plain",
        "_retry",
        "_size",
        "_skip_lf",
        "_started",
        "comments",
        "last_event_id",
        "max_event_bytes",
    )

    def __init__(self, *, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> None:
        self.max_event_bytes = max_event_bytes
        self.comments = 0
        self.last_event_id: str | None = None
        self._buffer = b""
        self._skip_lf = False  # the previous chunk ended in CR: a leading LF is its pair
        self._started = False  # the UTF-8 BOM is only skipped at the very start
        self._data: list[bytes] = []  # the event's data lines, decoded at dispatch
        self._event = ""
        self._id: str | None = None
        self._retry: int | None = None
        self._size = 0
        self._plain = False  # started, nothing pending: single-line events take the hot path

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Consume `chunk` and return the events completed by it (maybe none)."""
        buffer = self._buffer + chunk if self._buffer else chunk
        if not self._plain or b"\r" in buffer:
            return self._feed_slow(chunk)
        # The hot path (LF-only text, nothing pending), inlined as it runs once per read:
        # walk single-line "data: ..." events by their LFs (memchr-fast); anything else
        # goes to the general block path from the first line that is not such an event.
        events: list[SSEEvent] = []
        pos = 0
        end = len(buffer)
        while True:
            lf = buffer.find(b"\n", pos)
            if lf == -1 or lf + 1 == end:  # the line, or its blank line, is still to come
                break
            if buffer[lf + 1] != 10 or not buffer.startswith(b"data: ", pos):  # 10 == LF
                events += self._feed_blocks(buffer[pos:])
                self._refresh_plain()
                return events
            data = buffer[pos + 6 : lf].decode("utf-8", "replace")
            events.append(_new_event(SSEEvent, (data, "message", self.last_event_id, None)))
            pos = lf + 2
        tail = buffer[pos:] if pos else buffer
        if len(tail) > self.max_event_bytes:
            raise StreamError(f"stream event larger than {self.max_event_bytes} bytes")
        self._buffer = tail
        return events

    def _feed_slow(self, chunk: bytes) -> list[SSEEvent]:
        if not chunk:
            return []
        if self._skip_lf:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
                if not chunk:
                    self._refresh_plain()
                    return []
        buffer = self._buffer + chunk if self._buffer else chunk
        if not self._started:
            if len(buffer) < 3 and b"\xef\xbb\xbf".startswith(buffer):
                self._buffer = buffer  # maybe the start of a BOM: wait for more
                return []
            self._started = True
            if buffer.startswith(b"\xef\xbb\xbf"):
                buffer = buffer[3:]
        if b"\r" in buffer:
            events = self._feed_lines(buffer)
        else:
            events = []
            while buffer[:1] == b"\n":  # the buffer starts a line: a leading LF is a blank line
                buffer = buffer[1:]
                event = self._dispatch()
                if event is not None:
                    events.append(event)
            events += self._feed_blocks(buffer)
        self._refresh_plain()
        return events

    def _refresh_plain(self) -> None:
        self._plain = (
            self._started
            and not self._skip_lf
            and not self._data
            and not self._event
            and self._id is None
            and self._retry is None
        )

    def _feed_blocks(self, buffer: bytes) -> list[SSEEvent]:
        """LF-only text that starts a line: split at blank lines; the unfinished last
        event stays in the buffer, unprocessed."""
        blocks = buffer.split(b"\n\n")
        tail = blocks.pop()
        if len(tail) > self.max_event_bytes:
            raise StreamError(f"stream event larger than {self.max_event_bytes} bytes")
        self._buffer = tail
        return self._events(blocks)

    def _events(self, blocks: list[bytes]) -> list[SSEEvent]:
        """Events of complete blocks (each the text between two blank lines)."""
        events: list[SSEEvent] = []
        for block in blocks:
            if self._plain and block.startswith(b"data: ") and b"\n" not in block:
                # The common event, one "data: <json>" line, is made with no field parsing.
                data = block[6:].decode("utf-8", "replace")
                events.append(_new_event(SSEEvent, (data, "message", self.last_event_id, None)))
                continue
            events.extend(self._lines(block.split(b"\n")))
            event = self._dispatch()
            if event is not None:
                events.append(event)
            self._refresh_plain()
        return events

    def _feed_lines(self, buffer: bytes) -> list[SSEEvent]:
        """General path: any mix of CR, LF and CRLF; only a partial line is kept."""
        last = buffer[-1:]
        lines = buffer.splitlines()  # CR, LF and CRLF; ending characters dropped
        if last == b"\n" or last == b"\r":
            self._buffer = b""
            self._skip_lf = last == b"\r"  # its LF may open the next chunk
        else:
            self._buffer = lines.pop() if lines else b""
            if len(self._buffer) > self.max_event_bytes:
                raise StreamError(f"stream line longer than {self.max_event_bytes} bytes")
        return self._lines(lines)

    def _lines(self, lines: list[bytes]) -> list[SSEEvent]:
        events: list[SSEEvent] = []
        for line in lines:
            if not line:  # a blank line ends the event
                event = self._dispatch()
                if event is not None:
                    events.append(event)
            elif line[:5] == b"data:":
                value = line[6:] if line[5:6] == b" " else line[5:]
                self._data.append(value)
                self._size += len(value)
                if self._size > self.max_event_bytes:
                    raise StreamError(f"stream event larger than {self.max_event_bytes} bytes")
            elif line[:1] == b":":
                self.comments += 1
            else:
                self._field(line.decode("utf-8", "replace"))
        return events

    def _field(self, line: str) -> None:
        name, colon, value = line.partition(":")
        if colon and value[:1] == " ":
            value = value[1:]
        if name == "data":  # "data" without a colon: an empty data line
            self._data.append(value.encode("utf-8"))
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._id = value
        elif name == "retry" and value.isdigit():
            self._retry = int(value)
        # Every other field name is ignored, as the standard says.

    def _dispatch(self) -> SSEEvent | None:
        if self._id is not None:
            self.last_event_id = self._id
        if not self._data:
            self._event = ""
            self._retry = None
            return None
        data = self._data
        event = SSEEvent(
            data=(data[0] if len(data) == 1 else b"\n".join(data)).decode("utf-8", "replace"),
            event=self._event or "message",
            id=self.last_event_id,
            retry=self._retry,
        )
        self._data = []
        self._event = ""
        self._retry = None
        self._size = 0
        return event

    @property
    def mid_event(self) -> bool:
        """True while a partial line or an undispatched event is pending."""
        if self._data:
            return True
        pending = self._buffer
        if not pending:
            return False
        if pending[-1:] not in (b"\n", b"\r"):
            return True  # a partial line
        # Complete lines waiting for their blank line: only comments are harmless.
        return any(line and line[:1] != b":" for line in pending.splitlines())

    def close(self) -> bool:
        """End of stream: True when it ended cleanly between events."""
        clean = not self.mid_event
        self._buffer = b""
        self._data = []
        return clean


def iter_events(
    chunks: Iterable[bytes], *, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES
) -> Iterator[SSEEvent]:
    """Convenience: parse an iterable of byte chunks; raises StreamError if it ends mid-event."""
    parser = SSEParser(max_event_bytes=max_event_bytes)
    for chunk in chunks:
        yield from parser.feed(chunk)
    if not parser.close():
        raise StreamError("stream ended in the middle of an event")


__all__ = [
    "DEFAULT_MAX_EVENT_BYTES",
    "DONE",
    "ConversationDecoder",
    "ConversationUpdate",
    "SSEEvent",
    "SSEParser",
    "iter_events",
]
