"""Opaque, server-verifiable tokens: clearances, JWE-looking session tokens, JWTs.

All are protected by HMAC-SHA256 with a per-process key, so the server can tell its own
tokens from forged or mangled ones without any crypto library:

* `seal()` makes a NextAuth-looking JWE: `<dir/A256GCM header>..<iv>.<ciphertext>.<tag>`
  (five dot-separated parts, the second empty as with `alg: dir`). The payload is
  encrypted with an HMAC-derived keystream, so it is unreadable to clients, as on the
  real site.
* `make_jwt()` makes an access token whose header says RS256 and whose payload is plain
  JSON (clients decode `exp` from it, as real clients did); the signature is an HMAC.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os

from .jsontypes import JSONMapping, JSONObject

JWE_HEADER = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0"  # {"alg":"dir","enc":"A256GCM"}
_JWT_HEADER = {"alg": "RS256", "typ": "JWT", "kid": "emulator-1"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenError(ValueError):
    """A token that is malformed or was not issued by this server."""


class Signer:
    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or os.urandom(32)

    def sign(self, *parts: str) -> str:
        mac = hmac.new(self._key, "\x1f".join(parts).encode(), hashlib.sha256).digest()
        return b64url(mac[:18])

    def verify(self, signature: str, *parts: str) -> bool:
        return hmac.compare_digest(signature, self.sign(*parts))

    def _keystream(self, iv: bytes, length: int) -> bytes:
        out = bytearray()
        counter = 0
        while len(out) < length:
            block = hmac.new(self._key, b"ks" + iv + counter.to_bytes(4, "big"), hashlib.sha256)
            out.extend(block.digest())
            counter += 1
        return bytes(out[:length])

    def seal(self, payload: JSONMapping) -> str:
        plain = json.dumps(payload, separators=(",", ":")).encode()
        iv = os.urandom(12)
        cipher = bytes(a ^ b for a, b in zip(plain, self._keystream(iv, len(plain)), strict=True))
        iv_s, cipher_s = b64url(iv), b64url(cipher)
        return f"{JWE_HEADER}..{iv_s}.{cipher_s}.{self.sign('jwe', iv_s, cipher_s)}"

    def open(self, token: str) -> JSONObject:
        parts = token.split(".")
        if len(parts) != 5 or parts[0] != JWE_HEADER or parts[1]:
            raise TokenError("not a session token")
        _, _, iv_s, cipher_s, tag = parts
        if not self.verify(tag, "jwe", iv_s, cipher_s):
            raise TokenError("bad session token tag")
        try:
            iv, cipher = unb64url(iv_s), unb64url(cipher_s)
            plain = bytes(a ^ b for a, b in zip(cipher, self._keystream(iv, len(cipher)), strict=True))
            payload = json.loads(plain)
        except ValueError as exc:
            raise TokenError("undecodable session token") from exc
        if not isinstance(payload, dict):
            raise TokenError("undecodable session token")
        return payload

    def make_jwt(self, claims: JSONMapping) -> str:
        header = b64url(json.dumps(_JWT_HEADER, separators=(",", ":")).encode())
        body = b64url(json.dumps(claims, separators=(",", ":")).encode())
        return f"{header}.{body}.{self.sign('jwt', header, body)}"

    def read_jwt(self, token: str) -> JSONObject:
        parts = token.split(".")
        if len(parts) != 3:
            raise TokenError("not a JWT")
        header, body, signature = parts
        if not self.verify(signature, "jwt", header, body):
            raise TokenError("bad JWT signature")
        try:
            claims = json.loads(unb64url(body))
        except ValueError as exc:
            raise TokenError("undecodable JWT") from exc
        if not isinstance(claims, dict):
            raise TokenError("undecodable JWT")
        return claims
