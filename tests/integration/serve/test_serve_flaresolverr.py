"""FlareSolverr's /v1 API: every command, its answer checked field by field."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from serve_helpers import Recorder, Serve

from chatgpt_browser.emulator.process import Emulator

pytestmark = [pytest.mark.browser]

ENVELOPE = {"status", "message", "startTimestamp", "endTimestamp", "version"}
SOLUTION = {"url", "status", "headers", "response", "cookies", "userAgent"}
COOKIE = {"name", "value", "domain", "path", "expires", "httpOnly", "secure", "sameSite"}


def check_envelope(answer: dict[str, Any], status: str, message: str, extra: set[str]) -> None:
    assert set(answer) == ENVELOPE | extra, answer
    assert answer["status"] == status
    assert answer["message"] == message
    now_ms = time.time() * 1000
    assert answer["startTimestamp"] <= answer["endTimestamp"] <= now_ms + 1000
    assert isinstance(answer["version"], str) and answer["version"]


def check_solution(solution: dict[str, Any], url: str, user_agent_word: str = "Chrome/") -> None:
    assert set(solution) == SOLUTION
    assert solution["url"] == url and solution["status"] == 200
    assert isinstance(solution["headers"], dict)
    assert user_agent_word in solution["userAgent"] and "HeadlessChrome" not in solution["userAgent"]
    for cookie in solution["cookies"]:
        assert set(cookie) == COOKIE
        assert isinstance(cookie["httpOnly"], bool) and isinstance(cookie["secure"], bool)


def test_every_command_answers_in_flaresolverr_shape(
    emulator: Emulator, chromium_executable: str, start_serve: Callable[..., Serve], recorder: Recorder
) -> None:
    serve = start_serve(emulator, chromium_executable, "--allow-host", f"127.0.0.1:{recorder.port}")
    page = emulator.url + "/auth/login"

    plain = serve.post("/v1", json={"cmd": "request.get", "url": page, "maxTimeout": 60000})
    assert plain.status_code == 200, plain.text
    check_envelope(plain.json(), "ok", "Challenge solved!", {"solution"})
    solution = plain.json()["solution"]
    check_solution(solution, page)
    assert "<html" in solution["response"].lower()
    assert "cf_clearance" in {c["name"] for c in solution["cookies"]}

    created = serve.post("/v1", json={"cmd": "sessions.create", "session": "jackett"}).json()
    check_envelope(created, "ok", "Session created successfully.", {"session"})
    assert created["session"] == "jackett"
    again = serve.post("/v1", json={"cmd": "sessions.create", "session": "jackett"}).json()
    check_envelope(again, "ok", "Session already exists.", {"session"})
    anonymous = serve.post("/v1", json={"cmd": "sessions.create"}).json()
    assert len(anonymous["session"]) == 36  # a UUID
    listed = serve.post("/v1", json={"cmd": "sessions.list"}).json()
    check_envelope(listed, "ok", "", {"sessions"})
    assert sorted(listed["sessions"]) == sorted(["jackett", anonymous["session"]])

    first = serve.post("/v1", json={"cmd": "request.get", "url": page, "session": "jackett"}).json()
    check_envelope(first, "ok", "Challenge solved!", {"solution"})
    second = serve.post(
        "/v1", json={"cmd": "request.get", "url": page, "session": "jackett", "returnOnlyCookies": True}
    ).json()
    check_envelope(second, "ok", "Challenge not detected!", {"solution"})  # the session kept its clearance
    assert second["solution"]["response"] is None
    assert [c["value"] for c in second["solution"]["cookies"] if c["name"] == "cf_clearance"] == [
        c["value"] for c in first["solution"]["cookies"] if c["name"] == "cf_clearance"
    ]
    with_cookie = serve.post(
        "/v1",
        json={
            "cmd": "request.get",
            "url": page,
            "session": "jackett",
            "cookies": [{"name": "k", "value": "v"}],
        },
    ).json()
    assert {"name": "k", "value": "v"}.items() <= next(
        c for c in with_cookie["solution"]["cookies"] if c["name"] == "k"
    ).items()

    form = {
        "cmd": "request.post",
        "url": recorder.url + "/form",
        "postData": "a=1&b=two+words",
        "session": "jackett",
    }
    posted = serve.post("/v1", json=form).json()
    check_envelope(posted, "ok", "Challenge not detected!", {"solution"})
    check_solution(posted["solution"], recorder.url + "/form")
    assert '<pre id="echo">a=1&amp;b=two+words</pre>' in posted["solution"]["response"]
    (post,) = [seen for seen in recorder.seen if seen["method"] == "POST"]
    assert post["body"] == "a=1&b=two+words" and post["content-type"] == "application/x-www-form-urlencoded"

    destroyed = serve.post("/v1", json={"cmd": "sessions.destroy", "session": "jackett"})
    check_envelope(destroyed.json(), "ok", "The session has been removed.", set())
    missing = serve.post("/v1", json={"cmd": "sessions.destroy", "session": "jackett"})
    assert missing.status_code == 500
    check_envelope(missing.json(), "error", "Error: This session does not exist.", set())
    unknown_session = serve.post("/v1", json={"cmd": "request.get", "url": page, "session": "nope"})
    assert unknown_session.status_code == 500 and unknown_session.json()["status"] == "error"
    assert serve.post("/v1", json={"cmd": "sessions.list"}).json()["sessions"] == [anonymous["session"]]


def test_malformed_requests_get_flaresolverr_errors(
    shared_emulator: Emulator, chromium_executable: str, start_serve: Callable[..., Serve]
) -> None:
    serve = start_serve(shared_emulator, chromium_executable)
    page = shared_emulator.url + "/auth/login"
    cases = [
        (
            {"cmd": "request.fly", "url": page},
            400,
            "Error: Request parameter 'cmd' = 'request.fly' is invalid.",
        ),
        ({"cmd": "request.get", "url": page, "headers": {}}, 400, "was removed in FlareSolverr v2"),
        ({"cmd": "request.post", "url": page}, 400, "'postData' is mandatory"),
        ({"cmd": "request.get", "url": page, "postData": "a=1"}, 400, "GET request"),
        ({"cmd": "request.get", "url": page, "maxTimeout": "soon"}, 400, "maxTimeout"),
        ({"cmd": "request.get", "url": page, "cookies": "a=b"}, 400, "cookies"),
        ({"cmd": "request.get"}, 403, "'url' is required"),
    ]
    for body, status, words in cases:
        answer = serve.post("/v1", json=body)
        assert answer.status_code == status, answer.text
        check_envelope(answer.json(), "error", answer.json()["message"], set())
        assert words in answer.json()["message"]
    not_json = serve.post("/v1", data=b"cmd=request.get")
    assert not_json.status_code == 400 and not_json.json()["status"] == "error"
    index = serve.get("/").json()
    assert index["msg"] == "FlareSolverr is ready!" and "Chrome/" in index["userAgent"]
