"""Every fault kind of the admin API, seen by a plain HTTP client."""

from __future__ import annotations

import json
import time

import pytest
import requests
from emu_helpers import Client, conversation_body, sse_data

from chatgpt_browser.emulator.admin_client import AdminError
from chatgpt_browser.emulator.process import Emulator
from chatgpt_browser.pages import PageKind, classify_page

ROUTE = "/backend-api/conversation"


@pytest.mark.parametrize(
    ("status", "body", "check"),
    [
        (500, {"detail": "boom"}, lambda r: r.json() == {"detail": "boom"}),
        (401, None, lambda r: r.json()["detail"]["code"] == "token_expired"),
        (
            429,
            None,
            lambda r: r.headers["Retry-After"] == "3600" and "Too many requests" in r.json()["detail"],
        ),
        (502, None, lambda r: "Bad gateway" in r.text and r.headers["Content-Type"].startswith("text/html")),
        (503, None, lambda r: classify_page(503, r.headers, r.text) is PageKind.AT_CAPACITY),
        (524, None, lambda r: "Error code 524" in r.text),
        (403, None, lambda r: classify_page(403, r.headers, r.text) is PageKind.CHALLENGE),
        (403, {"detail": "nope"}, lambda r: r.json() == {"detail": "nope"}),
    ],
)
def test_status_faults(client: Client, emulator: Emulator, status: int, body: object, check: object) -> None:
    emulator.admin.fault(ROUTE, "status", status=status, body=body)
    response = client.converse(conversation_body("x"))
    assert response.status_code == status
    assert check(response)  # type: ignore[operator]
    assert client.converse(conversation_body("x")).status_code == 200  # only the next one


def test_status_fault_counts_headers_and_route_prefix(client: Client, emulator: Emulator) -> None:
    emulator.admin.fault(
        "/api/auth", "status", status=429, count=2, body={"detail": "slow"}, headers={"Retry-After": "7"}
    )
    assert client.converse(conversation_body("x")).status_code == 200  # other route: untouched
    for _ in range(2):
        response = client.get("/api/auth/session")
        assert response.status_code == 429 and response.headers["Retry-After"] == "7"
    assert client.get("/api/auth/session").status_code == 200
    assert emulator.admin.stats()["faults_applied"] == 2


def test_reset_before_headers(client: Client, emulator: Emulator) -> None:
    emulator.admin.fault(ROUTE, "reset")
    with pytest.raises(requests.ConnectionError):
        client.converse(conversation_body("x"))
    assert client.converse(conversation_body("x")).status_code == 200


def test_html_where_json_was_expected(client: Client, emulator: Emulator) -> None:
    emulator.admin.fault("/api/auth/session", "html")
    response = client.get("/api/auth/session")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/html")
    with pytest.raises(ValueError):
        response.json()


def test_cut_after_k_events(client: Client, emulator: Emulator) -> None:
    emulator.admin.fault(ROUTE, "cut", after_events=2)
    received = b""
    response = client.converse(conversation_body("x"), stream=True)
    assert response.status_code == 200
    with response, pytest.raises(requests.exceptions.ChunkedEncodingError):
        for chunk in response.iter_content(chunk_size=None):
            received += chunk
    assert received.count(b"data: {") == 2 and b"[DONE]" not in received


def test_no_done(client: Client, emulator: Emulator) -> None:
    emulator.admin.fault(ROUTE, "no_done", after_events=3)
    response = client.converse(conversation_body("x"))
    assert response.status_code == 200
    payloads = sse_data(response.text)
    assert len(payloads) == 3 and "[DONE]" not in payloads


def test_malformed_event(client: Client, emulator: Emulator) -> None:
    emulator.admin.fault(ROUTE, "malformed", after_events=1)
    payloads = sse_data(client.converse(conversation_body("x")).text)
    json.loads(payloads[0])
    with pytest.raises(ValueError):
        json.loads(payloads[1])
    assert payloads[-1] == "[DONE]" and json.loads(payloads[2])["message"]["content"]["parts"]


def test_stall_is_seen_as_a_read_timeout(client: Client, emulator: Emulator) -> None:
    emulator.admin.fault(ROUTE, "stall", after_events=1, stall_seconds=30)
    with client.converse(conversation_body("x"), stream=True, timeout=(5, 0.5)) as response:
        lines = response.iter_lines()
        assert next(lines).startswith(b"data: {")
        with pytest.raises(requests.exceptions.ConnectionError):
            for _ in lines:
                pass
    # The client gave up: the server notices and frees the account's one stream slot.
    deadline = time.monotonic() + 10
    while emulator.admin.stats()["active_streams"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client.converse(conversation_body("next")).status_code == 200


def test_fault_validation_and_clear(client: Client, emulator: Emulator) -> None:
    with pytest.raises(AdminError):
        emulator.admin.fault(ROUTE, "explode")
    with pytest.raises(AdminError):
        emulator.admin.fault(ROUTE, "status")  # a status fault needs a status
    emulator.admin.fault(ROUTE, "status", status=500, count=5)
    assert emulator.admin.stats()["faults_pending"][0]["count"] == 5
    emulator.admin.clear_faults()
    assert client.converse(conversation_body("x")).status_code == 200
