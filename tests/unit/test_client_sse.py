"""The sans-IO SSE parser and the conversation decoder (no sockets)."""

from __future__ import annotations

import json
import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatgpt_browser.client._sse import (
    ConversationDecoder,
    SSEEvent,
    SSEParser,
    iter_events,
)
from chatgpt_browser.errors import StreamError


def parse_chunks(chunks: list[bytes]) -> tuple[list[SSEEvent], bool]:
    parser = SSEParser()
    events: list[SSEEvent] = []
    for chunk in chunks:
        events.extend(parser.feed(chunk))
    return events, parser.close()


def conversation_event(text: str, message_id: str = "m1", conversation_id: str = "c1") -> str:
    payload = {
        "message": {
            "id": message_id,
            "role": "assistant",
            "content": {"content_type": "text", "parts": [text]},
            "end_turn": None,
            "metadata": {},
        },
        "conversation_id": conversation_id,
        "error": None,
    }
    return "data: " + json.dumps(payload) + "\n\n"


def test_basic_events_with_lf_crlf_and_cr() -> None:
    for newline in ("\n", "\r\n", "\r"):
        stream = f"data: one{newline}{newline}data: two{newline}data: 2b{newline}{newline}"
        events, clean = parse_chunks([stream.encode()])
        assert [e.data for e in events] == ["one", "two\n2b"]
        assert clean


def test_crlf_split_across_chunks_is_one_line_ending() -> None:
    events, clean = parse_chunks([b"data: a\r", b"\n\r", b"\ndata: b\r\n\r\n"])
    assert [e.data for e in events] == ["a", "b"]
    assert clean


def test_cr_then_cr_is_a_blank_line() -> None:
    # "\r" + "\r" is two line endings (event dispatch), not one CRLF.
    events, _ = parse_chunks([b"data: a\r", b"\rdata: b\r\r"])
    assert [e.data for e in events] == ["a", "b"]


def test_multibyte_utf8_split_across_chunks() -> None:
    raw = "data: héllo ✓ 😀\n\n".encode()
    split_at = raw.index("😀".encode()) + 2
    events, clean = parse_chunks([raw[:split_at], raw[split_at:]])
    assert events[0].data == "héllo ✓ 😀"
    assert clean


def test_comments_keepalives_and_fields() -> None:
    stream = b": ping\n\n:keep-alive\nevent: update\nid: 7\nretry: 1500\ndata:x\nunknown: y\n\n"
    parser = SSEParser()
    events = parser.feed(stream)
    assert events == [SSEEvent(data="x", event="update", id="7", retry=1500)]
    assert parser.comments == 2
    assert parser.last_event_id == "7"


def test_field_without_colon_and_single_space_rule() -> None:
    events, _ = parse_chunks([b"data\n\ndata:  two spaces\n\n"])
    assert [e.data for e in events] == ["", " two spaces"]


def test_bom_is_stripped_only_at_start() -> None:
    events, _ = parse_chunks([b"\xef\xbb", b"\xbfdata: a\n\n"])
    assert [e.data for e in events] == ["a"]


def test_stream_ending_mid_event_is_reported() -> None:
    _, clean = parse_chunks([b"data: a\n\ndata: partial"])
    assert not clean
    _, clean = parse_chunks([b"data: a\n\ndata: complete line but no blank\n"])
    assert not clean
    with pytest.raises(StreamError):
        list(iter_events([b"data: a\n\ndata: b"]))


def test_buffer_cap_on_a_line_and_on_an_event() -> None:
    parser = SSEParser(max_event_bytes=100)
    with pytest.raises(StreamError):
        for _ in range(20):
            parser.feed(b"x" * 10)
    parser = SSEParser(max_event_bytes=100)
    with pytest.raises(StreamError):
        for _ in range(20):
            parser.feed(b"data: " + b"y" * 10 + b"\n")


# -- property tests: whole, byte by byte and split at random give the same events ----

_text = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\r\n\x00"),
    max_size=30,
)
_newline = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def sse_streams(draw: st.DrawFn) -> tuple[bytes, list[str]]:
    datas = draw(st.lists(st.lists(_text, min_size=1, max_size=3), max_size=8))
    out: list[str] = []
    expected: list[str] = []

    def newline() -> str:
        # A LF right after a lone CR would merge with it into one CRLF line ending.
        chosen = draw(_newline)
        return "\r" if chosen == "\n" and out and out[-1].endswith("\r") else chosen

    for lines in datas:
        if draw(st.booleans()):
            out.append(": comment" + newline())
        if draw(st.integers(0, 3)) == 0:
            out.append(f"id: {draw(st.integers(0, 99))}" + newline())
        if draw(st.integers(0, 3)) == 0:
            out.append("event: " + draw(st.sampled_from(["update", "ping"])) + newline())
        for line in lines:
            out.append("data: " + line + newline())
        out.append(newline())
        expected.append("\n".join(lines))
    return "".join(out).encode("utf-8"), expected


@settings(max_examples=300, deadline=None)
@given(sse_streams(), st.data())
def test_same_events_whole_bytewise_and_random_splits(
    stream: tuple[bytes, list[str]], data: st.DataObject
) -> None:
    raw, expected = stream
    whole, clean_whole = parse_chunks([raw])
    bytewise, clean_bytes = parse_chunks([raw[i : i + 1] for i in range(len(raw))])
    cuts = sorted(data.draw(st.lists(st.integers(0, len(raw)), max_size=10)))
    pieces = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True)]
    randomly, clean_random = parse_chunks(pieces)
    assert [e.data for e in whole] == expected
    assert whole == bytewise == randomly
    assert clean_whole and clean_bytes and clean_random


@settings(max_examples=200, deadline=None)
@given(sse_streams(), st.data())
def test_cut_inside_an_event_is_reported_and_keeps_earlier_events(
    stream: tuple[bytes, list[str]], data: st.DataObject
) -> None:
    raw, expected = stream
    starts = [i for i in range(len(raw)) if raw.startswith(b"data: ", i)]
    if not starts:
        return
    cut = data.draw(st.sampled_from(starts)) + 3  # inside the "data: " field name
    events, clean = parse_chunks([raw[:cut]])
    assert not clean
    assert [e.data for e in events] == expected[: len(events)]


# -- conversation decoding -----------------------------------------------------------


def test_cumulative_parts_become_text_and_delta() -> None:
    decoder = ConversationDecoder()
    parser = SSEParser()
    stream = (conversation_event("Hel") + conversation_event("Hello") + conversation_event("Hello!")).encode()
    updates = [u for e in parser.feed(stream + b"data: [DONE]\n\n") if (u := decoder.decode(e))]
    assert [(u.text, u.delta) for u in updates] == [("Hel", "Hel"), ("Hello", "lo"), ("Hello!", "!")]
    assert decoder.done
    assert updates[-1].message_id == "m1" and updates[-1].conversation_id == "c1"


def test_repeated_and_rewritten_text() -> None:
    decoder = ConversationDecoder()
    parser = SSEParser()
    events = parser.feed(
        (conversation_event("abc") + conversation_event("abc") + conversation_event("xy")).encode()
    )
    updates = [decoder.decode(e) for e in events]
    assert updates[1] is None  # nothing new
    assert updates[2] is not None and updates[2].delta == "xy"
    assert decoder.rewrites == 1


def test_stray_non_json_line_is_skipped_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    decoder = ConversationDecoder()
    parser = SSEParser()
    stream = (conversation_event("a") + "data: <html>oops\n\n" + conversation_event("ab")).encode()
    with caplog.at_level(logging.WARNING, logger="chatgpt_browser.client._sse"):
        updates = [u for e in parser.feed(stream) if (u := decoder.decode(e))]
    assert [u.text for u in updates] == ["a", "ab"]
    assert decoder.skipped == 1
    assert "non-JSON" in caplog.text
    assert "oops" not in caplog.text  # the content is not logged


def test_server_error_and_metadata_are_kept() -> None:
    decoder = ConversationDecoder()
    payload = {
        "message": {
            "id": "m9",
            "content": {"parts": ["done"]},
            "end_turn": True,
            "metadata": {"model_slug": "text-davinci-002-render-sha"},
        },
        "conversation_id": "c9",
        "error": "something",
    }
    update = decoder.decode(SSEEvent(data=json.dumps(payload)))
    assert update is not None and update.end_turn is True
    assert update.model_slug == "text-davinci-002-render-sha"
    assert decoder.server_error == "something"


def test_payload_is_each_json_event_and_none_otherwise() -> None:
    decoder = ConversationDecoder()
    parser = SSEParser()
    stream = conversation_event("a") + "data: not json\n\n" + "data: [1, 2]\n\n" + conversation_event("a")
    payloads = []
    for event in parser.feed((stream + "data: [DONE]\n\n").encode()):
        decoder.decode(event)
        payloads.append(decoder.payload)
    texts = [p["message"]["content"]["parts"][0] if p else None for p in payloads]
    assert texts == ["a", None, None, "a", None]  # repeated text still has its event; DONE has none
