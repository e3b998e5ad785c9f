"""Errors, retries and recoveries against the live emulator's faults, clock and expiry."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from typing import ClassVar

import pytest
from client_helpers import FAST_RETRY, UA, MintingProvider, mint, requests_count
from support.servers import serving

from chatgpt_browser.client import ChatGPTAPI, ChatResponse, RetryPolicy, refresh_credentials
from chatgpt_browser.client._transport import make_transport
from chatgpt_browser.config import SiteProfile, Timeouts
from chatgpt_browser.emulator.process import Emulator
from chatgpt_browser.errors import (
    ChatGPTError,
    ChatGPTTimeoutError,
    ClearanceRejectedError,
    MessageMaybeSentError,
    NetworkError,
    RateLimitError,
    ServerError,
    SiteAtCapacityError,
    StreamError,
    UnauthorizedError,
)

Make = Callable[..., ChatGPTAPI]
CONVERSATION = "/backend-api/conversation"
POSTS = "POST /backend-api/conversation 200"


class SleepRecorder:
    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.sleeps.append(seconds)


MODERATIONS = "/backend-api/moderations"


@pytest.mark.parametrize("status", [500, 502, 524])
def test_server_errors_are_retried_where_a_replay_is_safe(
    emulator: Emulator, make_client: Make, status: int
) -> None:
    api = make_client(mint(emulator))
    emulator.admin.fault(MODERATIONS, "status", status=status, count=2)
    assert api.send_moderation("retry me").flagged is False
    assert requests_count(emulator, f"POST {MODERATIONS} {status}") == 2


@pytest.mark.parametrize("status", [500, 502, 524])
def test_a_conversation_post_that_may_have_been_processed_is_never_replayed(
    emulator: Emulator, make_client: Make, status: int
) -> None:
    api = make_client(mint(emulator))
    emulator.admin.fault(CONVERSATION, "status", status=status, count=2)
    with pytest.raises(MessageMaybeSentError) as info:
        api.send_message("post me once", message_id="m-1", parent_message_id="p-1")
    assert (info.value.message_id, info.value.parent_message_id) == ("m-1", "p-1")
    assert info.value.status_code == status
    assert requests_count(emulator, f"POST /backend-api/conversation {status}") == 1
    assert requests_count(emulator, POSTS) == 0


def test_retries_are_bounded_and_raise_the_typed_error(emulator: Emulator, make_client: Make) -> None:
    api = make_client(mint(emulator), retry=RetryPolicy(transient_retries=2, backoff_initial=0.01, jitter=0))
    emulator.admin.fault(CONVERSATION, "status", status=503, count=10)
    with pytest.raises(SiteAtCapacityError) as info:
        api.send_message("capacity")
    assert info.value.status_code == 503
    assert requests_count(emulator, "POST /backend-api/conversation 503") == 3


def test_connection_reset_after_sending_is_not_replayed(emulator: Emulator, make_client: Make) -> None:
    api = make_client(mint(emulator))
    emulator.admin.fault(CONVERSATION, "reset", count=1)
    with pytest.raises(MessageMaybeSentError) as info:
        api.send_message("reset once")
    assert info.value.message_id and isinstance(info.value.__cause__, NetworkError)
    assert requests_count(emulator, POSTS) == 0
    assert api.send_message("the next one goes").response  # nothing is left broken


def test_connection_reset_of_a_moderation_is_retried(emulator: Emulator, make_client: Make) -> None:
    api = make_client(mint(emulator))
    emulator.admin.fault(MODERATIONS, "reset", count=1)
    assert api.send_moderation("reset once").flagged is False
    assert requests_count(emulator, f"POST {MODERATIONS} 200") == 1


def test_rate_limit_honours_retry_after(emulator: Emulator, make_client: Make) -> None:
    sleeps = SleepRecorder()
    api = make_client(mint(emulator), sleep=sleeps)
    emulator.admin.fault(
        CONVERSATION,
        "status",
        status=429,
        body={"detail": "Too many requests in 1 hour."},
        headers={"Retry-After": "7"},
    )
    assert api.send_message("rate limited").response
    assert sleeps.sleeps == [7.0]
    emulator.admin.fault(CONVERSATION, "status", status=429, headers={"Retry-After": "3600"})
    with pytest.raises(RateLimitError) as info:
        api.send_message("rate limited for an hour")
    assert info.value.retry_after == 3600.0


def test_one_message_at_a_time_waits_and_retries(
    make_emulator: Callable[..., Emulator], make_client: Make
) -> None:
    emu = make_emulator(token_delay=0.05)
    api = make_client(mint(emu), retry=RetryPolicy(busy_wait=0.2, busy_retries=20, max_total=30))
    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(api.send_message("busy").response)) for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 3  # all done, one after another
    assert requests_count(emu, "POST /backend-api/conversation 429") >= 1


def test_expired_access_token_is_refreshed(emulator: Emulator, make_client: Make) -> None:
    api = make_client(mint(emulator, with_access_token=True))
    emulator.admin.expire("access_token")
    assert api.send_message("after expiry").response
    assert requests_count(emulator, "POST /backend-api/conversation 401") == 1
    assert requests_count(emulator, "GET /api/auth/session 200") == 1


def test_clock_moved_past_token_expiry(make_emulator: Callable[..., Emulator], make_client: Make) -> None:
    emu = make_emulator(access_token_ttl=60)
    api = make_client(mint(emu))
    api.init_session()
    emu.admin.advance_clock(120)  # the site's clock: our cached expiry still looks fine
    assert api.send_moderation("later").moderation_id
    assert requests_count(emu, "POST /backend-api/moderations 401") == 1
    assert requests_count(emu, "GET /api/auth/session 200") == 2


@pytest.mark.parametrize("code", ["token_expired", "invalid_api_key", "invalid_jwt"])
def test_401_codes_are_kept(emulator: Emulator, make_client: Make, code: str) -> None:
    api = make_client(mint(emulator), retry=RetryPolicy.no_retries())
    emulator.admin.fault(CONVERSATION, "status", status=401, body={"detail": {"message": "no", "code": code}})
    with pytest.raises(UnauthorizedError) as info:
        api.send_message("401")
    assert info.value.code == code and info.value.status_code == 401


def test_dead_session_resets_through_the_provider(emulator: Emulator, make_client: Make) -> None:
    provider = MintingProvider(emulator)
    api = make_client(provider.current, provider=provider)
    emulator.admin.revoke("session")
    assert api.send_message("after revoke").response
    assert provider.renewals == ["401"]


def test_dead_session_without_provider_raises(emulator: Emulator, make_client: Make) -> None:
    api = make_client(mint(emulator))
    emulator.admin.expire("session")
    with pytest.raises(UnauthorizedError, match="no longer valid"):
        api.send_message("dead")


def test_challenge_gets_a_new_clearance_once(emulator: Emulator, make_client: Make) -> None:
    provider = MintingProvider(emulator)
    api = make_client(provider.current, provider=provider)
    api.init_session()
    emulator.admin.expire("clearance")
    assert api.send_message("after clearance expiry").response
    assert provider.renewals == ["403-challenge"]
    emulator.admin.fault(CONVERSATION, "status", status=403)  # the challenge page
    assert api.send_moderation("fine").moderation_id  # other routes unaffected
    assert api.send_message("challenge fault").response
    assert provider.renewals == ["403-challenge", "403-challenge"]


def test_challenge_without_provider_raises(emulator: Emulator, make_client: Make) -> None:
    api = make_client(mint(emulator))
    emulator.admin.expire("clearance")
    with pytest.raises(ClearanceRejectedError):
        api.refresh_session()


def test_circuit_breaker_stops_hammering(emulator: Emulator, make_client: Make) -> None:
    provider = MintingProvider(emulator)
    renewals = iter(range(100))
    bad = mint(emulator).replace(clearance_token="0" * 32 + "-1-0-150-bad")
    # Every renewal brings a new clearance that the site still challenges (a flagged IP).
    provider.renew_with = lambda: bad.replace(clearance_token=f"{next(renewals):032d}-1-0-150-bad")
    policy = RetryPolicy(breaker_threshold=3, breaker_cooldown=600)
    api = make_client(bad, provider=provider, retry=policy)
    messages = []
    for _ in range(5):
        with pytest.raises(ClearanceRejectedError) as info:
            api.refresh_session()
        messages.append(str(info.value))
    opened = [i for i, m in enumerate(messages) if "circuit breaker open" in m]
    assert opened and opened[0] <= 3 and opened == list(range(opened[0], 5))
    assert len(provider.renewals) <= 3  # each renewal is a harvest: bounded too
    before = emulator.admin.stats()["challenges"]["served"]
    with pytest.raises(ClearanceRejectedError, match="circuit breaker open"):
        api.send_message("still open")
    assert emulator.admin.stats()["challenges"]["served"] == before  # nothing sent


def test_cut_stream_raises_with_partial_text_and_is_not_replayed(
    emulator: Emulator, make_client: Make
) -> None:
    api = make_client(mint(emulator))
    emulator.admin.fault(CONVERSATION, "cut", after_events=2)
    with pytest.raises(StreamError) as info:
        api.send_message("cut me")
    assert info.value.partial_response.response.startswith("You said")
    assert requests_count(emulator, POSTS) == 1  # no blind replay


def test_stall_raises_a_timeout_with_partial_text(emulator: Emulator, make_client: Make) -> None:
    api = make_client(mint(emulator), timeout=Timeouts(stream_stall=0.5))
    emulator.admin.fault(CONVERSATION, "stall", after_events=1, stall_seconds=10)
    with pytest.raises(ChatGPTTimeoutError) as info:
        api.send_message("stall")
    assert info.value.partial_response.response.startswith("You said")


def test_malformed_line_is_skipped(
    emulator: Emulator, make_client: Make, caplog: pytest.LogCaptureFixture
) -> None:
    api = make_client(mint(emulator))
    clean = api.send_message("malformed").response
    emulator.admin.fault(CONVERSATION, "malformed", after_events=1)
    updates: list[ChatResponse] = []
    assert api.send_message("malformed", on_progress=updates.append).response == clean
    assert "non-JSON" in caplog.text  # streamed: every event is decoded, the stray one logged
    assert updates and all(clean.startswith(u.response) for u in updates)
    applied = emulator.admin.stats()["faults_applied"]
    emulator.admin.fault(CONVERSATION, "malformed", after_events=1)
    assert api.send_message("malformed").response == clean  # only the last events decoded
    assert emulator.admin.stats()["faults_applied"] == applied + 1


def test_clean_end_without_done_is_flagged_incomplete(emulator: Emulator, make_client: Make) -> None:
    api = make_client(mint(emulator))
    emulator.admin.fault(CONVERSATION, "no_done", after_events=2)
    result = api.send_message("no done")
    assert result.incomplete and result.response


def test_html_where_json_was_expected(emulator: Emulator, make_client: Make) -> None:
    api = make_client(mint(emulator), retry=RetryPolicy.no_retries())
    emulator.admin.fault("/backend-api/moderations", "html")
    with pytest.raises(ChatGPTError) as info:
        api.send_moderation("html")
    assert info.value.status_code == 200
    emulator.admin.fault("/api/auth/session", "html")
    api.close_session()
    with pytest.raises(ChatGPTError) as session_info:
        api.refresh_session()
    assert session_info.value.status_code == 200


def test_refresh_error_from_the_site(make_emulator: Callable[..., Emulator], make_client: Make) -> None:
    emu = make_emulator(refresh_error=True)
    api = make_client(mint(emu))
    emu.admin.expire("access_token")  # the site must refresh it upstream, and fails
    with pytest.raises(UnauthorizedError) as info:
        api.refresh_session()
    assert info.value.code == "RefreshAccessTokenError"


def test_refresh_credentials_function(emulator: Emulator, transport_name: str) -> None:
    creds = mint(emulator)
    transport = make_transport(transport_name, None, True, UA)
    try:
        updated = refresh_credentials(creds, timeout=10, transport=transport)
    finally:
        transport.close()
    assert updated.source == "http-refresh" and updated.session_token != creds.session_token
    assert updated.access_token and updated.access_token_expires_at and updated.session_expires_at
    assert updated.clearance_token == creds.clearance_token and updated.user_agent == UA
    again = refresh_credentials(updated, site=SiteProfile(base_url=emulator.url))
    assert again.session_token != updated.session_token
    emulator.admin.revoke("session")
    with pytest.raises(UnauthorizedError):
        refresh_credentials(again)
    emulator.admin.expire("clearance")
    with pytest.raises(ClearanceRejectedError):
        refresh_credentials(mint(emulator).replace(clearance_token=again.clearance_token))


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        _Recorder.hits.append(dict(self.headers))
        self.send_response(200)
        self.end_headers()

    do_POST = do_GET

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def foreign_server() -> Iterator[http.server.HTTPServer]:
    with serving(http.server.HTTPServer(("127.0.0.1", 0), _Recorder)) as server:
        yield server


def test_redirect_to_another_host_is_not_followed(
    emulator: Emulator, make_client: Make, foreign_server: http.server.HTTPServer
) -> None:
    _Recorder.hits.clear()
    api = make_client(mint(emulator))
    port = foreign_server.server_address[1]
    for route in ("/api/auth/session", "/backend-api/moderations"):
        emulator.admin.fault(
            route, "status", status=302, headers={"Location": f"http://localhost:{port}/steal"}
        )
    with pytest.raises(ChatGPTError) as info:
        api.refresh_session()
    assert info.value.status_code == 302
    api.init_session()
    with pytest.raises(ChatGPTError):
        api.send_moderation("redirected")
    assert _Recorder.hits == []  # no request, so no cookie or bearer, reached the other host


def test_tls_with_the_emulator_ca(make_emulator: Callable[..., Emulator], make_client: Make) -> None:
    # About trusting a private CA on both transports: the TLS fingerprint layer (which
    # refuses the requests transport a Chromium-bound clearance) is tests/integration/edge/'s.
    emu = make_emulator(tls=True, tls_fingerprint="off")
    assert emu.url.startswith("https://") and emu.ca_file
    api = make_client(mint(emu), verify=emu.ca_file)
    assert api.send_message("over tls").response
    strict = make_client(mint(emu), retry=RetryPolicy.no_retries())
    with pytest.raises(NetworkError):
        strict.refresh_session()


def test_server_error_in_refresh_is_retried(emulator: Emulator, make_client: Make) -> None:
    api = make_client(mint(emulator), retry=FAST_RETRY)
    emulator.admin.fault("/api/auth/session", "status", status=502)
    assert api.refresh_session()
    with pytest.raises(ServerError):
        emulator.admin.fault("/api/auth/session", "status", status=500, count=20)
        api.close_session()
        api.refresh_session()
