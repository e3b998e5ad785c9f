"""The "auto" transport decision: Chrome's TLS for a bundle a browser harvested."""

from __future__ import annotations

import time

import pytest

from chatgpt_browser.client.impersonate import (
    MISMATCH_MESSAGE,
    browser_harvested,
    choose_transport,
    chrome_major,
    impersonating,
    likely_tls_mismatch,
    pick_chrome_target,
    supported_chrome_targets,
)
from chatgpt_browser.credentials import Credentials

CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{}.0.0.0 Safari/537.36"
)
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:144.0) Gecko/20100101 Firefox/144.0"
TARGETS = ["chrome99", "chrome110", "chrome120", "chrome124", "chrome131_android", "chrome133a", "safari184"]


def _bundle(user_agent: str = CHROME.format(120), source: str = "harvest", **extra: object) -> Credentials:
    fields: dict[str, object] = {"clearance_token": "cf", **extra}
    return Credentials(
        site="https://chat.example", user_agent=user_agent, session_token="s", source=source, **fields
    )  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("major", "expected"),
    [
        (120, "chrome120"),
        (123, "chrome120"),
        (156, "chrome124"),
        (110, "chrome110"),
        (90, "chrome99"),
        (None, "chrome124"),
    ],
)
def test_exact_else_nearest_lower_target(major: int | None, expected: str) -> None:
    assert pick_chrome_target(major, TARGETS) == expected


def test_no_chrome_targets_means_none() -> None:
    assert pick_chrome_target(120, ["safari184", "chrome133a"]) is None
    assert pick_chrome_target(120, []) is None


def test_chrome_major_of_user_agents() -> None:
    assert chrome_major(CHROME.format(156)) == 156
    assert chrome_major(CHROME.replace("Chrome/{}", "HeadlessChrome/{}").format(120)) == 120  # same TLS
    assert chrome_major(FIREFOX) is None
    assert chrome_major(CHROME.format(120) + " Edg/120.0.0.0") is None


def test_auto_follows_the_harvesting_browser() -> None:
    choice = choose_transport(_bundle(CHROME.format(123)), TARGETS)
    assert (choice.kind, choice.target) == ("curl_cffi", "chrome120")
    for source in ("reclear", "http-refresh", "manual"):
        assert choose_transport(_bundle(source=source), TARGETS).kind == "curl_cffi"


@pytest.mark.parametrize(
    ("bundle", "why"),
    [
        (_bundle(source="test-mint"), "not a browser"),
        (_bundle(clearance_token=None), "not a browser"),
        (_bundle(FIREFOX), "not Chrome"),
    ],
)
def test_auto_falls_back_to_requests(bundle: Credentials, why: str) -> None:
    choice = choose_transport(bundle, TARGETS)
    assert choice.kind == "requests" and choice.target is None and why in choice.reason


def test_without_curl_cffi_targets_auto_is_requests() -> None:
    choice = choose_transport(_bundle(), [])
    assert choice.kind == "requests" and "curl_cffi" in choice.reason


def test_installed_curl_cffi_offers_chrome_targets() -> None:
    targets = supported_chrome_targets()
    assert "chrome120" in targets and all(t.startswith("chrome") for t in targets)
    assert browser_harvested(_bundle()) and not browser_harvested(_bundle(source="test-mint"))


def test_mismatch_is_suspected_only_for_a_fresh_browser_clearance_without_impersonation() -> None:
    now = time.time()
    fresh = _bundle(obtained_at=now - 5)
    assert likely_tls_mismatch(fresh, impersonating=False, now=now)
    assert not likely_tls_mismatch(fresh, impersonating=True, now=now)
    assert not likely_tls_mismatch(_bundle(obtained_at=now - 3600), impersonating=False, now=now)
    assert not likely_tls_mismatch(_bundle(source="test-mint", obtained_at=now), impersonating=False, now=now)
    # An HTTP refresh is fresh, its clearance is not; and plain http has no TLS at all.
    assert not likely_tls_mismatch(
        _bundle(source="http-refresh", obtained_at=now), impersonating=False, now=now
    )
    plain = _bundle(obtained_at=now - 5).replace(site="http://127.0.0.1:1")
    assert not likely_tls_mismatch(plain, impersonating=False, now=now)
    assert MISMATCH_MESSAGE.startswith("TLS fingerprint mismatch: use the impersonating transport")


def test_impersonating_sees_through_a_wrapper() -> None:
    class Curl:
        impersonate = "chrome120"

    class Plain:
        pass

    class Wrapper:
        def __init__(self, inner: object) -> None:
            self.inner = inner

    assert impersonating(Curl()) and impersonating(Wrapper(Curl()))
    assert not impersonating(Plain()) and not impersonating(Wrapper(Plain()))


@pytest.mark.parametrize(
    ("source", "option", "expected"),
    [
        ("harvest", None, "CurlCffiTransport"),  # the default is "auto"
        ("serve", "auto", "CurlCffiTransport"),
        ("refresh", "auto", "CurlCffiTransport"),
        ("test-mint", "auto", "RequestsTransport"),
        ("harvest", "requests", "RequestsTransport"),
    ],
)
def test_make_transport_auto_follows_the_bundle(source: str, option: str | None, expected: str) -> None:
    from chatgpt_browser.client._transport import make_transport

    bundle = _bundle(source=source)
    transport = make_transport(option, None, True, bundle.user_agent, bundle)
    try:
        assert type(transport).__name__ == expected
        assert impersonating(transport) == (expected == "CurlCffiTransport")
        if impersonating(transport):
            assert transport.impersonate == pick_chrome_target(120, supported_chrome_targets())  # type: ignore[attr-defined]
    finally:
        transport.close()


def test_make_transport_without_a_bundle_is_plain_requests() -> None:
    from chatgpt_browser.client._transport import make_transport

    transport = make_transport("auto", None, True, CHROME.format(120))
    try:
        assert not impersonating(transport)
    finally:
        transport.close()
