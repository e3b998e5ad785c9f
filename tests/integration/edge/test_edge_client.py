"""The product's client against the --tls edge: its default transport passes, requests does not."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import pytest
from edge_helpers import CH_UA, UA

from chatgpt_browser.client import ChatGPTAPI, refresh_credentials
from chatgpt_browser.credentials import Credentials
from chatgpt_browser.emulator.process import Emulator
from chatgpt_browser.errors import ClearanceRejectedError, TLSFingerprintError

Make = Callable[..., Emulator]


def _browser_bundle(emu: Emulator) -> Credentials:
    """A bundle as a Chrome 120 harvest hands it over: the emulator binds the minted
    clearance to Chromium's TLS family, as if that browser had earned it."""
    session = emu.admin.issue_session()
    return Credentials(
        site=emu.url,
        user_agent=UA,
        session_token=session["session_token"],
        clearance_token=emu.admin.issue_clearance(UA),
        headers={"sec-ch-ua": CH_UA, "sec-ch-ua-mobile": "?0", "sec-ch-ua-platform": '"Linux"'},
        account=emu.account.email,
        source="harvest",
    )


@pytest.fixture
def edge(make_emulator: Make) -> Emulator:
    return make_emulator(tls=True, pow_difficulty=4)


def test_default_transport_sends_messages_through_the_edge(edge: Emulator) -> None:
    with ChatGPTAPI(credentials=_browser_bundle(edge), verify=edge.ca_file) as api:
        assert api.send_message("hello over the edge").response
        assert api.send_moderation("fine").flagged is False
    challenges = edge.admin.stats()["challenges"]
    assert challenges["clearance_rejections"] == {} and challenges["tls_mismatches"] == []


def test_requests_transport_gets_a_typed_error_not_a_loop(edge: Emulator) -> None:
    renewals: list[str] = []
    bundle = _browser_bundle(edge)

    def provider() -> Credentials:
        renewals.append("renew")
        return dataclasses.replace(_browser_bundle(edge), obtained_at=time.time())

    with (
        ChatGPTAPI(credentials=bundle, provider=provider, verify=edge.ca_file, transport="requests") as api,
        pytest.raises(TLSFingerprintError) as info,
    ):
        api.send_message("refused")
    assert str(info.value).startswith("TLS fingerprint mismatch: use the impersonating transport")
    assert isinstance(info.value.__cause__, ClearanceRejectedError)
    assert renewals == []  # no re-clear: a fresh browser clearance cannot be the problem
    assert edge.admin.stats()["challenges"]["clearance_rejections"]["tls_mismatch"] >= 1


def test_an_old_clearance_on_requests_is_still_a_plain_challenge(edge: Emulator) -> None:
    stale = dataclasses.replace(_browser_bundle(edge), obtained_at=time.time() - 3600)
    with (
        ChatGPTAPI(credentials=stale, verify=edge.ca_file, transport="requests") as api,
        pytest.raises(ClearanceRejectedError),
    ):
        api.send_message("refused")


def test_http_refresh_follows_the_bundle_browser(edge: Emulator) -> None:
    renewed = refresh_credentials(_browser_bundle(edge), verify=str(edge.ca_file), timeout=10.0)
    assert renewed.access_token and renewed.source == "http-refresh"
