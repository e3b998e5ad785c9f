"""Pure parts of the emulator: proof of work, answers, captcha, options, faults, trees."""

from __future__ import annotations

import ast
import hashlib
import itertools
import re
from pathlib import Path

import pytest

from chatgpt_browser.emulator import captcha
from chatgpt_browser.emulator.backend import answer_chunks, answer_for, sse_event
from chatgpt_browser.emulator.challenge import leading_zero_bits, pow_ok
from chatgpt_browser.emulator.clock import Clock
from chatgpt_browser.emulator.conversations import ConversationError, ConversationStore
from chatgpt_browser.emulator.faults import Fault, FaultQueue
from chatgpt_browser.emulator.options import ALL_CHECKS, Account, Options, parse_options


@pytest.mark.parametrize(
    ("digest", "bits"),
    [(b"\x80" + b"\0" * 31, 0), (b"\x01" + b"\0" * 31, 7), (b"\0\x40" + b"\0" * 30, 9), (b"\0" * 32, 256)],
)
def test_leading_zero_bits(digest: bytes, bits: int) -> None:
    assert leading_zero_bits(digest) == bits


def test_pow_ok_accepts_a_real_solution_only() -> None:
    salt, difficulty = "abc", 8
    nonce = next(n for n in range(100000) if hashlib.sha256(f"{salt}:{n}".encode()).digest()[0] == 0)
    assert pow_ok(salt, str(nonce), difficulty)
    bits = leading_zero_bits(hashlib.sha256(f"{salt}:{nonce}".encode()).digest())
    assert pow_ok(salt, str(nonce), bits) and not pow_ok(salt, str(nonce), bits + 1)
    assert not pow_ok(salt, "-1", 0) and not pow_ok(salt, "", 0) and not pow_ok(salt, "1" * 13, 0)


def test_answers_are_deterministic_and_stream_cumulatively() -> None:
    text = answer_for("hi")
    assert text == answer_for("hi") and text != answer_for("hi", 1) and text != answer_for("ho")
    chunks = list(answer_chunks(text))
    assert len(chunks) >= 5 and chunks[-1] == text
    assert all(b.startswith(a) and len(b) > len(a) for a, b in itertools.pairwise(chunks))


def test_sse_event_uses_python_separators_and_data_framing() -> None:
    raw = sse_event("m", "part", "c").decode()
    assert raw.startswith('data: {"message": {"id": "m", "role": "assistant", "user": null,')
    assert raw.endswith('"conversation_id": "c", "error": null}\n\n')


def test_captcha_draws_the_answer_without_text() -> None:
    answer = captcha.new_answer()
    assert len(answer) == 6 and set(answer) <= set(captcha.ALPHABET)
    svg = captcha.render_svg(answer)
    assert svg.startswith("<svg") and "<text" not in svg and answer not in svg
    assert len(re.findall(r"<path", svg)) > len(answer)
    assert captcha.answer_matches(answer, f" {answer.lower()} ")
    assert not captcha.answer_matches(answer, "nope") and not captcha.answer_matches(None, "")


def test_options_from_flags() -> None:
    options, level = parse_options(
        [
            "--disable-check",
            "pow",
            "--account",
            "a@b.c:pw",
            "--rate-limit",
            "3",
            "--interactive",
            "--log-level",
            "INFO",
        ]
    )
    assert options.checks == ALL_CHECKS - {"pow"} and options.rate_limit == 3 and options.interactive
    assert [a.email for a in options.accounts] == ["demo@example.com", "a@b.c"] and level == "INFO"
    with pytest.raises(ValueError):
        parse_options(["--account", "no-colon"])
    assert parse_options([])[0].flagged_words == ("flagme",)
    assert parse_options(["--flagged-word", ""])[0].flagged_words == ()
    assert parse_options(["--flagged-word", "Bad", "--flagged-word", "worse"])[0].flagged_words == (
        "bad",
        "worse",
    )


def test_runtime_update_converts_and_refuses_startup_only_options() -> None:
    options = Options()
    options.update({"checks": ["pow"], "dwell": "2", "rate_limit": None, "blocked_ips": ["127.0.0.9"]})
    assert (
        options.checks == frozenset({"pow"}) and options.dwell == 2.0 and options.blocked_ips == {"127.0.0.9"}
    )
    with pytest.raises(ValueError):
        options.update({"port": 1})
    with pytest.raises(ValueError):
        options.update({"checks": ["telepathy"]})


def test_account_repr_hides_secrets() -> None:
    account = Account.from_dict({"email": "x@y.z", "password": "hunter2", "totp_secret": "SECRET"})
    assert "hunter2" not in repr(account) and "SECRET" not in repr(account)
    with pytest.raises(ValueError):
        Account.from_dict({"email": "x@y.z"})


def test_fault_queue_counts_down_by_route_and_kind() -> None:
    queue = FaultQueue()
    queue.add(Fault.from_dict({"route": "/backend-api", "kind": "cut", "count": 2}))
    queue.add(Fault.from_dict({"route": "/api/auth", "kind": "status", "status": 500}))
    assert queue.take("/backend-api/conversation", {"status"}) is None
    assert queue.take("/api/auth/session", {"status"}) is not None
    assert queue.take("/api/auth/session", {"status"}) is None
    assert queue.take("/backend-api/conversation", {"cut"}) is not None
    assert queue.take("/backend-api/conversation", {"cut"}) is not None
    assert queue.take("/backend-api/conversation", {"cut"}) is None
    for bad in (
        {"route": "x", "kind": "cut"},
        {"route": "/", "kind": "nope"},
        {"route": "/", "kind": "status"},
    ):
        with pytest.raises(ValueError):
            Fault.from_dict(bad)


def test_clock_only_moves_forward() -> None:
    clock = Clock()
    before = clock.now()
    assert clock.advance(3600) >= before + 3600
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_conversation_tree_and_variants() -> None:
    store = ConversationStore(Clock())
    conversation = store.create("a@b.c", "root")
    assert store.add_user_message(conversation, "u1", "hi", "root") == 0
    store.add_assistant_message(conversation, "u1", "a1")
    assert store.add_user_message(conversation, "u1", "hi", "root") == 1  # asked again: variant 1
    assert store.variant_of(conversation, "root", "hi") == ("u1", 1)
    with pytest.raises(ConversationError):
        store.add_user_message(conversation, "u2", "x", "missing-parent")
    assert store.get(conversation.id, "other@b.c") is None
    assert conversation.to_dict()["mapping"]["u1"]["children"] == ["a1"]


def test_the_emulator_imports_nothing_from_the_rest_of_the_package() -> None:
    package = Path(captcha.__file__).parent
    for source in package.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                assert node.level <= 1, f"{source.name} reaches outside the emulator package"
                module = node.module or ""
            elif isinstance(node, ast.Import):
                module = ",".join(alias.name for alias in node.names)
            else:
                continue
            for name in module.split(","):
                assert not name.startswith("chatgpt_browser") or name.startswith("chatgpt_browser.emulator")


def test_emulator_is_exported_lazily_by_the_package() -> None:
    import chatgpt_browser
    from chatgpt_browser.emulator.process import Emulator

    assert chatgpt_browser.Emulator is Emulator
