"""JA4/JA3 of ClientHellos recorded on this machine (scripts/record_client_hellos)."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from chatgpt_browser.emulator.fingerprint import (
    HelloError,
    binding_of,
    fingerprint_records,
    hello_length,
    is_grease,
    parse_client_hello,
)

DATA = Path(__file__).parent / "data" / "client_hellos"

# Measured with scripts/record_client_hellos; Chrome 120's JA4 is the widely published one.
EXPECTED = {
    "chromium": "t13d1517h2_8daaf6152771_cb7bf5808d99",
    "curl_cffi_chrome": "t13d1517h2_8daaf6152771_cb7bf5808d99",
    "curl_cffi_chrome120": "t13d1516h2_8daaf6152771_02713d6af862",
    "curl_cffi_safari184": "t13d2014h2_a09f3c656075_e42f34c56612",
    "curl_cffi_firefox144": "t13d1717h2_5b57614c22b0_3cbfd9057e0d",
    "python_requests": "t13i1811h1_85036bcba153_b26ce05bbdd6",
    "curl": "t13d3112h2_e8f1e7e78f70_b26ce05bbdd6",
    "node_fetch": "t13d5911h1_a33745022dd6_1f22a2ca17c4",
}


def _hello(name: str) -> bytes:
    return (DATA / f"{name}.bin").read_bytes()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_ja4_of_recorded_clients(name: str) -> None:
    data = _hello(name)
    assert hello_length(data) == len(data)
    assert fingerprint_records(data).ja4 == EXPECTED[name]


def test_browser_families_and_bindings() -> None:
    chromium = fingerprint_records(_hello("chromium"))
    assert chromium.browser_like and chromium.binding == "13_h2_8daaf6152771"
    # curl_cffi's Chrome targets share Chromium's binding even where extensions differ.
    assert fingerprint_records(_hello("curl_cffi_chrome120")).binding == chromium.binding
    for library in ("python_requests", "curl", "node_fetch"):
        assert not fingerprint_records(_hello(library)).browser_like, library
    for other in ("curl_cffi_safari184", "curl_cffi_firefox144", "python_requests"):
        assert fingerprint_records(_hello(other)).binding != chromium.binding


def test_parsed_fields_of_chromium() -> None:
    hello = parse_client_hello(_hello("chromium"))
    assert hello.alpn == ("h2", "http/1.1")
    assert 0x0304 in hello.versions
    assert any(is_grease(c) for c in hello.ciphers)  # Chromium always GREASEs
    assert hello.server_name == "localhost"
    # An IP literal is not sent as SNI: JA4's "i".
    assert parse_client_hello(_hello("python_requests")).server_name is None


def test_ja3_is_md5_of_its_text() -> None:
    fp = fingerprint_records(_hello("python_requests"))
    assert fp.ja3_text.startswith("771,") and len(fp.ja3) == 32


def test_a_hello_split_over_two_records_gives_the_same_fingerprint() -> None:
    data = _hello("chromium")
    body = data[5:]
    half = len(body) // 2
    split = b"".join(
        bytes([0x16]) + data[1:3] + struct.pack("!H", len(part)) + part for part in (body[:half], body[half:])
    )
    for cut in (3, 5, 9, half, len(split) - 1):
        assert hello_length(split[:cut]) is None
    assert hello_length(split + b"extra") == len(split)
    assert fingerprint_records(split).ja4 == EXPECTED["chromium"]


@pytest.mark.parametrize(
    "data",
    [
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"\x16\x03\x01\x00\x05\x02\x00\x00\x01\x00",
        b"\x17\x03\x03\x00\x10",
    ],
)
def test_non_hellos_are_refused_early(data: bytes) -> None:
    with pytest.raises(HelloError):
        hello_length(data)


def test_random_bytes_never_crash_the_parser() -> None:
    for seed in range(300):
        data = os.urandom(1 + seed % 600)
        try:
            size = hello_length(data)
            if size is not None:
                fingerprint_records(data[:size])
        except HelloError:
            pass


def test_truncated_hello_is_a_hello_error() -> None:
    data = _hello("curl")
    # A record that ends before the handshake message it announces does.
    cut = data[5:200]
    with pytest.raises(HelloError):
        fingerprint_records(data[:3] + struct.pack("!H", len(cut)) + cut)
    with pytest.raises(ValueError):
        binding_of("garbage")
