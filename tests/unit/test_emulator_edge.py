"""The edge's pure rules: client hints vs User-Agent, the fingerprint options."""

from __future__ import annotations

import pytest

from chatgpt_browser.emulator.edge import hints_contradict
from chatgpt_browser.emulator.options import Options, parse_options

CHROME_120 = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:144.0) Gecko/20100101 Firefox/144.0"


@pytest.mark.parametrize(
    ("hints", "user_agent", "contradicts"),
    [
        ('"Not_A Brand";v="8", "Chromium";v="120"', CHROME_120, False),
        ('"Chromium";v="120", "Google Chrome";v="120", "Not?A_Brand";v="99"', CHROME_120, False),
        ('"Chromium";v="119", "Not_A Brand";v="8"', CHROME_120, True),
        ('"Not_A Brand";v="8"', CHROME_120, True),  # a Chrome without its own brand
        ('"Chromium";v="144"', FIREFOX, True),  # Firefox sends no client hints
        ('"Not_A Brand";v="8"', FIREFOX, False),
        ("garbage", FIREFOX, False),
    ],
)
def test_client_hints_against_the_user_agent(hints: str, user_agent: str, contradicts: bool) -> None:
    assert hints_contradict(hints, user_agent) is contradicts


def test_fingerprint_mode_follows_tls() -> None:
    assert Options().fingerprint_mode == "off"  # no TLS, no ClientHello
    assert Options(tls=True).fingerprint_mode == "bind"
    assert Options(tls=True).checks_client_hints and not Options().checks_client_hints
    assert not Options(tls=True, client_hints_check=False).checks_client_hints
    assert Options(tls=True, tls_fingerprint="score").checks_client_hints is False


def test_flags() -> None:
    options, _ = parse_options(["--tls", "--tls-fingerprint", "score", "--client-hints-check", "on"])
    assert options.tls_fingerprint == "score" and options.client_hints_check is True
    with pytest.raises(SystemExit):
        parse_options(["--tls-fingerprint", "strict"])
    with pytest.raises(ValueError):
        Options().update({"tls_fingerprint": "off"})  # fixed at start-up
    changed = Options(tls=True)
    changed.update({"client_hints_check": False})
    assert changed.client_hints_check is False
