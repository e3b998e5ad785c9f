"""Constructor options: callable providers, proxy, access token and TTL, timeouts."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import pytest
from client_helpers import mint, requests_count

from chatgpt_browser.client import ChatGPTAPI, RetryPolicy
from chatgpt_browser.config import SiteProfile
from chatgpt_browser.credentials import Credentials
from chatgpt_browser.emulator.process import Emulator
from chatgpt_browser.errors import ConfigError, NetworkError

Make = Callable[..., ChatGPTAPI]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_plain_callable_provider(emulator: Emulator, transport_name: str) -> None:
    calls: list[Credentials] = []

    def harvest() -> Credentials:
        calls.append(mint(emulator))
        return calls[-1]

    api = ChatGPTAPI(provider=harvest, transport=transport_name)
    try:
        assert api.send_message("from a callable").response and len(calls) == 1
        emulator.admin.expire("clearance")
        assert api.send_message("renewed by calling it again").response and len(calls) == 2
        assert api.clearance_token == calls[1].clearance_token
    finally:
        api.close()


def test_expired_bundle_is_replaced_before_sending(emulator: Emulator, make_client: Make) -> None:
    fresh = mint(emulator)
    stale = mint(emulator).replace(clearance_expires_at=time.time() - 1)
    asked: list[float] = []

    class Source:
        def get(self, min_ttl: float = 0.0) -> Credentials:
            asked.append(min_ttl)
            return fresh

        def renew(self, reason: str, stale: Credentials | None = None) -> Credentials:
            raise AssertionError("no renewal needed")

        def update(self, credentials: Credentials) -> None:
            pass

    api = make_client(stale, provider=Source(), min_ttl=120)
    assert api.send_message("fresh first").response
    assert asked == [120] and api.clearance_token == fresh.clearance_token


def test_proxy_is_used(shared_emulator: Emulator, make_client: Make) -> None:
    proxy = f"http://127.0.0.1:{closed_port()}"
    api = make_client(mint(shared_emulator), proxy=proxy)
    with pytest.raises(NetworkError):
        api.refresh_session()
    bundle_proxy = make_client(mint(shared_emulator).replace(proxy=proxy))
    with pytest.raises(NetworkError):
        bundle_proxy.refresh_session()


def test_given_access_token_and_ttl(emulator: Emulator, make_client: Make) -> None:
    creds = mint(emulator, with_access_token=True)
    api = make_client(creds.replace(access_token=None), access_token=creds.access_token)
    api.send_moderation("one")
    api.send_moderation("two")
    assert requests_count(emulator, "GET /api/auth/session 200") == 0  # the given token was used
    short = make_client(creds.replace(access_token=None), access_token=creds.access_token, access_token_ttl=1)
    short.send_moderation("three")
    short.send_moderation("four")
    assert requests_count(emulator, "GET /api/auth/session 200") == 2  # refreshed each time


def test_float_timeout_and_site_options(shared_emulator: Emulator, make_client: Make) -> None:
    creds = mint(shared_emulator)
    api = make_client(creds, timeout=5.0, site=SiteProfile(base_url=shared_emulator.url))
    assert api.site.base_url == shared_emulator.url and api.send_message("timeouts").response


def test_unknown_transport_and_foreign_api_hosts(shared_emulator: Emulator, transport_name: str) -> None:
    creds = mint(shared_emulator)
    with pytest.raises(ConfigError):
        ChatGPTAPI.from_credentials(creds, transport="telnet")
    api = ChatGPTAPI.from_credentials(
        creds,
        backend_api_base_url=f"http://localhost:{closed_port()}/backend-api",
        retry=RetryPolicy.no_retries(),
        transport=transport_name,
    )
    try:
        # An explicitly configured API URL is a configured host: requests go there (and fail).
        with pytest.raises(NetworkError):
            api.send_moderation("elsewhere")
    finally:
        api.close()


def test_a_failing_store_does_not_break_the_client(
    emulator: Emulator, make_client: Make, caplog: pytest.LogCaptureFixture
) -> None:
    class BrokenStore:
        def get(self, min_ttl: float = 0.0) -> Credentials:
            raise AssertionError("not needed")

        def renew(self, reason: str, stale: Credentials | None = None) -> Credentials:
            raise AssertionError("not needed")

        def update(self, credentials: Credentials) -> None:
            raise OSError("disk full")

    creds = mint(emulator)
    api = make_client(creds, provider=BrokenStore())
    assert api.send_message("store is broken").response
    assert api.session_token != creds.session_token  # the rotated token is kept in memory
    assert "could not store the rotated session token" in caplog.text
