"""The emulator's tokens: JWE-looking session tokens, JWTs, tamper detection."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatgpt_browser.emulator.tokens import JWE_HEADER, Signer, TokenError, b64url, unb64url


def test_jwe_header_says_dir_a256gcm() -> None:
    assert json.loads(unb64url(JWE_HEADER)) == {"alg": "dir", "enc": "A256GCM"}


def test_session_token_looks_like_a_nextauth_jwe_and_hides_its_payload() -> None:
    signer = Signer()
    token = signer.seal({"sid": "abc123", "exp": 42})
    parts = token.split(".")
    assert len(parts) == 5 and parts[0] == JWE_HEADER and parts[1] == ""
    assert "abc123" not in token and b"abc123" not in unb64url(parts[3])
    assert signer.open(token) == {"sid": "abc123", "exp": 42}
    assert signer.seal({"sid": "abc123"}) != signer.seal({"sid": "abc123"})  # fresh IV each time


@given(position=st.integers(min_value=0, max_value=200), replacement=st.sampled_from("AQgw_-"))
def test_any_change_to_a_session_token_is_detected(position: int, replacement: str) -> None:
    signer = Signer(b"k" * 32)
    token = signer.seal({"sid": "s"})
    index = position % len(token)
    if token[index] in (".", replacement):
        return
    mangled = token[:index] + replacement + token[index + 1 :]
    with pytest.raises(TokenError):
        signer.open(mangled)


def test_tokens_from_another_server_are_refused() -> None:
    with pytest.raises(TokenError):
        Signer().open(Signer().seal({"sid": "s"}))
    with pytest.raises(TokenError):
        Signer().read_jwt(Signer().make_jwt({"exp": 1}))


def test_jwt_payload_is_readable_by_clients() -> None:
    signer = Signer()
    token = signer.make_jwt({"exp": 1700000000, "jti": "j"})
    header, body, _ = token.split(".")
    assert json.loads(base64.urlsafe_b64decode(header + "==="))["alg"] == "RS256"
    assert json.loads(base64.urlsafe_b64decode(body + "==="))["exp"] == 1700000000
    assert signer.read_jwt(token)["jti"] == "j"
    for bad in ("", "a.b", "a.b.c", token + "x"):
        with pytest.raises(TokenError):
            signer.read_jwt(bad)


@given(st.binary(max_size=64))
def test_b64url_round_trip(data: bytes) -> None:
    assert unb64url(b64url(data)) == data
    assert "=" not in b64url(data)
