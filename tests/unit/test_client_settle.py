"""`ConversationDecoder.settle`: decoding only the last events reaches the same answer
as decoding every event (what `send_message` relies on when nobody watches progress)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from chatgpt_browser.client._decoder import DONE, ConversationDecoder
from chatgpt_browser.client._sse import SSEEvent
from chatgpt_browser.client._stream import _KEEP_AT_MOST, ConversationReader

_ids = st.sampled_from(["m1", "m2"])
_texts = st.sampled_from(["", "a", "ab", "abc", "x", "héllo"])


@st.composite
def _standard_event(draw: st.DrawFn) -> str:
    metadata = draw(st.sampled_from([{}, {"model_slug": "slug-1"}, {"model_slug": 3}, None]))
    message = {
        "id": draw(_ids),
        "role": "assistant",
        "content": {"content_type": "text", "parts": [draw(_texts)]},
        "end_turn": draw(st.sampled_from([None, True, False])),
        "metadata": metadata,
    }
    error = draw(st.sampled_from([None, None, "boom"]))
    return json.dumps(
        {"message": message, "conversation_id": draw(st.sampled_from(["c1", "c2"])), "error": error}
    )


_other_events = st.sampled_from(
    [
        "not json",
        "[1, 2]",
        json.dumps({"error": "upstream failed"}),
        json.dumps({"message": None, "conversation_id": "c3", "error": "x"}),
        json.dumps({"message": {"id": "m3", "content": {"parts": ["p", "q"]}}, "conversation_id": "c3"}),
        json.dumps({"message": {"id": 7, "content": {"parts": ["r"]}, "metadata": {"model_slug": "s2"}}}),
        json.dumps({"message": {"id": "m4", "content": {"parts": "a"}}, "conversation_id": "c4"}),
        json.dumps({"message": {"id": "m5", "content": {"parts": []}}, "end_turn": True}),
    ]
)

_streams = st.lists(st.one_of(_standard_event(), _other_events), max_size=8).flatmap(
    lambda datas: st.sampled_from([datas, [*datas, DONE]])
)


def _outcome(decoder: ConversationDecoder) -> tuple[object, ...]:
    """Everything the final answer (and its errors) is made of."""
    fails = bool(decoder.server_error) and not decoder.text
    return (
        decoder.text,
        decoder.message_id,
        decoder.conversation_id,
        decoder.model_slug,
        decoder.end_turn,
        decoder.done,
        fails,
        fails and decoder.server_error,
    )


@settings(max_examples=600, deadline=None)
@given(_streams)
def test_settle_reaches_the_state_of_decoding_every_event(datas: list[str]) -> None:
    events = [SSEEvent(data=data) for data in datas]
    every = ConversationDecoder()
    for event in events:
        every.decode(event)
    settled = ConversationDecoder()
    settled.settle(events)
    assert _outcome(settled) == _outcome(every)


def test_settle_decodes_only_from_the_last_answer() -> None:
    answer = {"message": {"id": "m1", "content": {"parts": ["ab"]}}, "conversation_id": "c1", "error": None}
    events = [SSEEvent(data="not json"), SSEEvent(data=json.dumps(answer)), SSEEvent(data=DONE)]
    decoder = ConversationDecoder()
    decoder.settle(events)
    assert (decoder.text, decoder.done, decoder.skipped) == ("ab", True, 0)  # the stray line was passed over


def test_model_slug_and_end_turn_are_the_latest_events() -> None:
    def event(slug: str | None, end_turn: bool | None) -> SSEEvent:
        metadata = {"model_slug": slug} if slug else {}
        message = {"id": "m1", "content": {"parts": ["a"]}, "end_turn": end_turn, "metadata": metadata}
        return SSEEvent(data=json.dumps({"message": message, "conversation_id": "c1"}))

    decoder = ConversationDecoder()
    decoder.decode(event("slug-1", True))
    assert (decoder.model_slug, decoder.end_turn) == ("slug-1", True)
    decoder.decode(event(None, None))  # each event is the whole answer: it says neither now
    assert (decoder.model_slug, decoder.end_turn) == (None, None)


def _event(text: str, error: str | None = None) -> str:
    message = {"id": "m1", "content": {"parts": [text]}}
    return json.dumps({"message": message, "conversation_id": "c1", "error": error})


@settings(max_examples=300, deadline=None)
@given(_streams, st.integers(min_value=0, max_value=9))
# An error before the split, then an answer that a later event empties: the error counts.
@example([_event("a", "boom"), _event("ab"), _event("")], 1)
def test_settle_after_some_events_were_decoded_one_by_one(datas: list[str], split: int) -> None:
    """`read` decodes what it holds when it holds too much, then settles the rest."""
    events = [SSEEvent(data=data) for data in datas]
    every = ConversationDecoder()
    for event in events:
        every.decode(event)
    mixed = ConversationDecoder()
    for event in events[:split]:
        mixed.decode(event)
    mixed.settle(events[split:])
    assert _outcome(mixed) == _outcome(every)


class _Body:
    """A response body handed over in the given chunks (the reader's only input)."""

    status_code = 200

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.headers: dict[str, str] = {}

    def set_cookies(self) -> list[str]:
        return []

    def iter_bytes(self) -> Iterator[bytes]:
        yield from self.chunks

    def read(self) -> bytes:
        return b"".join(self.chunks)

    def interrupt(self) -> None:
        pass

    def close(self) -> None:
        pass


def _answer_stream(words: int, *, done: bool = True) -> bytes:
    text = ""
    out = []
    for n in range(words):
        text += f"**word{n}** "
        message = {"id": "m1", "role": "assistant", "content": {"content_type": "text", "parts": [text]}}
        out.append(
            "data: " + json.dumps({"message": message, "conversation_id": "c1", "error": None}) + "\n\n"
        )
    return ("".join(out) + ("data: [DONE]\n\n" if done else "")).encode()


@pytest.mark.parametrize(
    ("words", "done", "markdown"),
    [(40, True, True), (40, True, False), (600, True, True), (600, False, False)],
)
def test_read_gives_the_answer_iteration_gives(words: int, done: bool, markdown: bool) -> None:
    """600 events of a growing answer add up to ~2.5 MB: `read` decodes what it holds on
    the way rather than keep it all, and still ends with the same answer."""
    assert len(_answer_stream(600)) > 2 * _KEEP_AT_MOST
    body = _answer_stream(words, done=done)
    chunks = [body[i : i + 4093] for i in range(0, len(body), 4093)]

    def reader() -> ConversationReader:
        return ConversationReader(_Body(chunks), what="test", markdown=markdown)  # type: ignore[arg-type]

    streamed = reader()
    for _update in streamed:
        pass
    assert streamed.final is not None
    assert reader().read() == streamed.final
    assert streamed.final.incomplete is (not done)
    assert streamed.final.response.rstrip().endswith(f"word{words - 1}" + ("**" if markdown else ""))
