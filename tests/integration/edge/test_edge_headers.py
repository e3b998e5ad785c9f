"""Cloudflare's marks on every site response, and compression as the edge does it."""

from __future__ import annotations

import uuid

import requests
from edge_helpers import TIMEOUT, UA, bundle_cookies, cookie_header

from chatgpt_browser.emulator.process import Emulator


def _get(
    emu: Emulator, path: str, cookies: dict[str, str] | None = None, **headers: str
) -> requests.Response:
    sent = {"User-Agent": UA, **headers}
    if cookies:
        sent["Cookie"] = cookie_header(cookies)
    return requests.get(emu.url + path, headers=sent, timeout=TIMEOUT, allow_redirects=False)


def test_every_site_response_carries_server_and_ray(emulator: Emulator) -> None:
    cookies = bundle_cookies(emulator)
    responses = {
        "challenge": _get(emulator, "/chat"),
        "page": _get(emulator, "/chat", cookies),
        "json": _get(emulator, "/api/auth/session", cookies),
        "css": _get(emulator, "/cdn-cgi/styles/challenges.css"),
        "trace": _get(emulator, "/cdn-cgi/trace"),
        "not_found": _get(emulator, "/no-such-page", cookies),
    }
    for name, response in responses.items():
        assert response.headers["server"] == "cloudflare", name
        assert response.headers["cf-ray"].endswith("-LHR"), name
    assert (
        responses["challenge"].status_code == 403 and "cf-cache-status" not in responses["challenge"].headers
    )
    for name in ("page", "json"):
        assert responses[name].status_code == 200 and responses[name].headers["cf-cache-status"] == "DYNAMIC"
    rays = {r.headers["cf-ray"] for r in responses.values()}
    assert len(rays) == len(responses)  # one ray per request


def test_html_and_json_are_gzipped_when_accepted(emulator: Emulator) -> None:
    cookies = bundle_cookies(emulator)
    for path in ("/chat", "/api/auth/session"):
        packed = _get(emulator, path, cookies, **{"Accept-Encoding": "gzip, deflate, br"})
        assert packed.headers["content-encoding"] == "gzip", path
        plain = _get(emulator, path, cookies, **{"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers, path
        assert packed.status_code == plain.status_code == 200
    challenge = _get(emulator, "/chat", **{"Accept-Encoding": "gzip"})
    assert challenge.headers["content-encoding"] == "gzip" and "Just a moment..." in challenge.text


def test_the_event_stream_is_not_compressed(emulator: Emulator) -> None:
    session = emulator.admin.issue_session()
    cookies = bundle_cookies(emulator)
    body = {
        "action": "next",
        "messages": [
            {"id": str(uuid.uuid4()), "role": "user", "content": {"content_type": "text", "parts": ["hi"]}}
        ],
        "parent_message_id": str(uuid.uuid4()),
        "model": "text-davinci-002-render",
    }
    with requests.post(
        emulator.url + "/backend-api/conversation",
        json=body,
        headers={
            "User-Agent": UA,
            "Cookie": cookie_header(cookies),
            "Authorization": f"Bearer {session['access_token']}",
            "Accept-Encoding": "gzip, br",
        },
        timeout=TIMEOUT,
        stream=True,
    ) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert "content-encoding" not in stream.headers
        assert stream.headers["server"] == "cloudflare" and stream.headers["cf-cache-status"] == "DYNAMIC"
        assert b"data: [DONE]" in stream.raw.read()
