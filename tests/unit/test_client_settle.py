"""`ConversationDecoder.settle`: decoding only the last events reaches the same answer
as decoding every event (what `send_message` relies on when nobody watches progress)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from chatgpt_browser.client._decoder import DONE, ConversationDecoder
from chatgpt_browser.client._sse import SSEEvent

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
