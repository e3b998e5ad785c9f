"""The proxy of each request is the proxy of the bundle it carries; headers as sent.

A loopback forward proxy started by each test counts and records what passes
through it on the way to the live emulator.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest
from client_helpers import HINTS, UA, MintingProvider, mint, requests_count
from support.proxy import ForwardProxy, ProxiedRequest

from chatgpt_browser.client import ChatGPTAPI, refresh_credentials
from chatgpt_browser.emulator.process import Emulator
from chatgpt_browser.errors import ConfigError

Make = Callable[..., ChatGPTAPI]
SESSION, CONVERSATION, MODERATIONS = (
    "/api/auth/session",
    "/backend-api/conversation",
    "/backend-api/moderations",
)


@pytest.fixture
def proxies() -> Iterator[tuple[ForwardProxy, ForwardProxy]]:
    with ForwardProxy() as first, ForwardProxy() as second:
        yield first, second


def paths(proxy: ForwardProxy, start: int = 0) -> list[str]:
    return [r.path for r in proxy.requests[start:]]


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_requests_move_to_the_proxy_of_a_renewed_bundle(
    emulator: Emulator, make_client: Make, proxies: tuple[ForwardProxy, ForwardProxy]
) -> None:
    first, second = proxies
    provider = MintingProvider(emulator, mint(emulator).replace(proxy=first.url))
    provider.renew_with = lambda: mint(emulator).replace(proxy=second.url)
    api = make_client(provider.current, provider=provider)
    assert api.send_message("through the first proxy").response
    assert paths(first) == [SESSION, CONVERSATION] and second.count == 0

    # The clearance dies; the renewal brings a bundle bound to another egress proxy.
    emulator.admin.expire("clearance")
    assert api.send_message("through the second proxy").response
    assert provider.renewals == ["403-challenge"]
    assert paths(first, 2) == [CONVERSATION]  # only the attempt that met the challenge
    assert paths(second) == [SESSION, CONVERSATION]  # everything after the renewal
    assert api.send_moderation("still the second").moderation_id
    assert paths(second, 2) == [MODERATIONS] and first.count == 3

    # A renewal without a proxy goes direct again (no proxy left over in the transport).
    provider.renew_with = lambda: mint(emulator)
    api.reset_session()
    assert api.send_message("direct").response
    assert first.count == 3 and second.count == 3
    # Everything the emulator answered is accounted for: 2 + 1 through proxies, 1 direct.
    assert requests_count(emulator, f"POST {CONVERSATION} 200") == 3


def test_the_bundle_proxy_wins_over_the_proxy_option(
    shared_emulator: Emulator, make_client: Make, proxies: tuple[ForwardProxy, ForwardProxy]
) -> None:
    first, second = proxies
    # The option is only the default for bundles without a proxy of their own.
    bound = make_client(mint(shared_emulator).replace(proxy=first.url), proxy=closed_port_url())
    assert bound.send_moderation("bundle proxy").moderation_id
    assert paths(first) == [SESSION, MODERATIONS]
    unbound = make_client(mint(shared_emulator), proxy=second.url)
    assert unbound.send_moderation("option proxy").moderation_id
    assert paths(second) == [SESSION, MODERATIONS] and first.count == 2
    # The session manager's HTTP-only renewal goes out through the bundle's proxy too.
    renewed = refresh_credentials(mint(shared_emulator).replace(proxy=first.url), timeout=10)
    assert renewed.proxy == first.url and paths(first, 2) == [SESSION] and second.count == 2


def _one_each(request: ProxiedRequest) -> None:
    names = [name.lower() for name, _ in request.header_lines]
    assert len(names) == len(set(names)), f"duplicate headers in {request.path}: {names}"


def test_default_headers_are_the_browser_s(
    shared_emulator: Emulator, make_client: Make, proxies: tuple[ForwardProxy, ForwardProxy]
) -> None:
    proxy = proxies[0]
    creds = mint(shared_emulator).replace(proxy=proxy.url)
    api = make_client(creds)
    api.send_message("default headers")
    session, conversation = proxy.requests
    for request in (session, conversation):
        _one_each(request)
        assert request.values("User-Agent") == [UA]
        assert request.values("sec-ch-ua") == [HINTS["sec-ch-ua"]]
        assert request.values("Cookie")[0].startswith(f"cf_clearance={creds.clearance_token}; ")
    assert session.values("Authorization") == []
    assert conversation.values("Authorization") == [f"Bearer {api.credentials.access_token}"]
    assert conversation.values("Accept") == ["text/event-stream"]
    assert conversation.values("Origin") == [shared_emulator.url]
    assert conversation.values("Referer") == [shared_emulator.url + "/chat"]
    assert conversation.values("Content-Type") == ["application/json"]


def test_headers_option_merging_rules(
    shared_emulator: Emulator,
    make_client: Make,
    proxies: tuple[ForwardProxy, ForwardProxy],
) -> None:
    proxy = proxies[0]
    creds = mint(shared_emulator).replace(proxy=proxy.url)
    bound = {
        # bound to the credentials or the request: naming one is a configuration error
        "user-agent": "python-requests/2.31",
        "Sec-CH-UA": '"Fake";v="1"',
        "cookie": "stolen=1",
        "Authorization": "Bearer someone-else",
        "accept": "application/json",  # the reader needs the event stream
    }
    for name, value in bound.items():
        with pytest.raises(ConfigError, match=f"cannot set {name}"):
            make_client(creds, headers={"X-Debug": "1", name: value})
    api = make_client(
        creds,
        headers={
            # replace defaults, whatever the spelling (one header each on the wire)
            "origin": "http://127.0.0.1",
            "accept-language": "de-DE,de;q=0.9",
            "x-openai-assistant-app-id": "custom-app",
            "X-Debug": "1",
        },
    )
    assert api.send_message("custom headers").response  # the clearance still matches
    assert api.send_moderation("custom headers").moderation_id
    session, conversation, moderation = proxy.requests
    for request in (session, conversation, moderation):
        _one_each(request)
        assert request.values("User-Agent") == [UA]
        assert request.values("sec-ch-ua") == [HINTS["sec-ch-ua"]]
        assert request.values("accept-language") == ["de-DE,de;q=0.9"]
        assert request.values("x-debug") == ["1"]
        assert "stolen=1" not in request.values("Cookie")[0]
    assert conversation.values("Accept") == ["text/event-stream"] and session.values("Accept") == ["*/*"]
    for request in (conversation, moderation):
        assert request.values("Origin") == ["http://127.0.0.1"]
        assert request.values("X-OpenAI-Assistant-App-Id") == ["custom-app"]
        assert request.values("Authorization") == [f"Bearer {api.credentials.access_token}"]
