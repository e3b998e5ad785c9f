"""A TLS ClientHello parser and its JA4 / JA3 fingerprints (sans-IO: bytes in, values out).

How it works: `hello_length(buffer)` tells the accept loop how many bytes of TLS records
make up the whole ClientHello (or that the bytes are not TLS at all), `parse_client_hello`
reads the handshake message out of those records, and `Fingerprint` computes:

- JA4 `a_b_c` (FoxIO's JA4, TCP only): `a` = "t" + TLS version + "d"/"i" (SNI present or
  not) + cipher count + extension count + first/last character of the first ALPN value;
  `b` = the first 12 hex digits of SHA-256 over the sorted cipher list; `c` = the same over
  the sorted extension list (without SNI and ALPN) "_" the signature algorithms in order.
  GREASE values never count.
- JA3 (for logs): MD5 of "version,ciphers,extensions,groups,point formats".

The edge binds clearances on `binding` = (TLS version, ALPN, cipher hash): the parts that
stay the same for one client across its connections (Chromium shuffles its extension
order and some extensions come and go between connections; the cipher list does not).
"""

from __future__ import annotations

import dataclasses
import hashlib
import struct

_HANDSHAKE_RECORD = 0x16
_CLIENT_HELLO = 0x01
#: Refuse a "ClientHello" larger than this (a real one is under 2 KiB, post-quantum included).
MAX_HELLO_BYTES = 64 * 1024

_EXT_SNI, _EXT_GROUPS, _EXT_POINT_FORMATS = 0x0000, 0x000A, 0x000B
_EXT_SIG_ALGS, _EXT_ALPN, _EXT_VERSIONS = 0x000D, 0x0010, 0x002B
_READ = frozenset({_EXT_SNI, _EXT_GROUPS, _EXT_POINT_FORMATS, _EXT_SIG_ALGS, _EXT_ALPN, _EXT_VERSIONS})
_VERSIONS = {0x0304: "13", 0x0303: "12", 0x0302: "11", 0x0301: "10", 0x0300: "s3"}

#: Cipher hashes (JA4 part b) of browser TLS stacks, for `score` mode: Chromium (also
#: curl_cffi's Chrome targets), Firefox (NSS) and Safari (Apple's BoringSSL build).
#: A Chromium JA4 as recorded here (scripts/record_client_hellos): what admin-minted
#: clearances are bound to by default, as if Chromium had earned them.
CHROMIUM_JA4 = "t13d1517h2_8daaf6152771_cb7bf5808d99"
BROWSER_CIPHER_HASHES = frozenset({"8daaf6152771", "5b57614c22b0", "a09f3c656075"})


class HelloError(ValueError):
    """The bytes are not a well-formed TLS ClientHello."""


def is_grease(value: int) -> bool:
    """RFC 8701 GREASE values (0x0a0a, 0x1a1a, ... 0xfafa) never count in a fingerprint."""
    return (value & 0x0F0F) == 0x0A0A and (value >> 8) == (value & 0xFF)


def hello_length(buffer: bytes) -> int | None:
    """Bytes of TLS records holding the whole ClientHello; None while more are needed.

    Raises HelloError as soon as the bytes cannot be a ClientHello (plain HTTP, garbage).
    """
    offset, needed = 0, None
    body = 0  # handshake bytes seen so far
    while needed is None or body < needed:
        if len(buffer) < offset + 5:
            return None
        kind, major, length = (
            buffer[offset],
            buffer[offset + 1],
            struct.unpack_from("!H", buffer, offset + 3)[0],
        )
        if kind != _HANDSHAKE_RECORD or major != 3 or length == 0 or length > 16384 + 2048:
            raise HelloError("not a TLS handshake record")
        if needed is None and len(buffer) >= offset + 9:
            if buffer[offset + 5] != _CLIENT_HELLO:
                raise HelloError("first handshake message is not a ClientHello")
            needed = 4 + int.from_bytes(buffer[offset + 6 : offset + 9], "big")
            if needed > MAX_HELLO_BYTES:
                raise HelloError("ClientHello too large")
        body += length
        offset += 5 + length
        if needed is None and len(buffer) < offset:
            return None
    return offset if len(buffer) >= offset else None


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, size: int) -> bytes:
        if self.pos + size > len(self.data):
            raise HelloError("ClientHello truncated")
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk

    def number(self, size: int) -> int:
        return int.from_bytes(self.take(size), "big")

    def vector(self, length_size: int) -> bytes:
        return self.take(self.number(length_size))


def _pairs(data: bytes) -> tuple[int, ...]:
    if len(data) % 2:
        raise HelloError("odd-length list of 16-bit values")
    return struct.unpack(f"!{len(data) // 2}H", data)


@dataclasses.dataclass(frozen=True)
class ClientHello:
    legacy_version: int
    ciphers: tuple[int, ...]
    extensions: tuple[int, ...]  # in wire order, GREASE included
    server_name: str | None
    alpn: tuple[str, ...]
    versions: tuple[int, ...]
    signature_algorithms: tuple[int, ...]
    groups: tuple[int, ...]
    point_formats: tuple[int, ...]


def parse_client_hello(records: bytes) -> ClientHello:
    """The ClientHello carried by these TLS records (as many as `hello_length` said)."""
    message, reader = b"", _Reader(records)
    while reader.pos < len(records):
        if reader.number(1) != _HANDSHAKE_RECORD:
            raise HelloError("not a TLS handshake record")
        reader.take(2)
        message += reader.vector(2)
    hello = _Reader(message)
    if hello.number(1) != _CLIENT_HELLO:
        raise HelloError("not a ClientHello")
    hello = _Reader(hello.vector(3))
    legacy_version = hello.number(2)
    hello.take(32)  # random
    hello.vector(1)  # session id
    ciphers = _pairs(hello.vector(2))
    hello.vector(1)  # compression methods
    fields: dict[str, object] = {"server_name": None, "alpn": (), "versions": (), "sigs": (), "groups": ()}
    fields["formats"] = ()
    extensions: list[int] = []
    if hello.pos < len(hello.data):
        block, pos = hello.vector(2), 0
        while pos < len(block):
            if pos + 4 > len(block):
                raise HelloError("ClientHello truncated")
            kind, size = struct.unpack_from("!HH", block, pos)
            pos += 4 + size
            if pos > len(block):
                raise HelloError("ClientHello truncated")
            extensions.append(kind)
            if kind in _READ:
                _read_extension(kind, block[pos - size : pos], fields)
    return ClientHello(
        legacy_version,
        ciphers,
        tuple(extensions),
        fields["server_name"],  # type: ignore[arg-type]
        fields["alpn"],  # type: ignore[arg-type]
        fields["versions"],  # type: ignore[arg-type]
        fields["sigs"],  # type: ignore[arg-type]
        fields["groups"],  # type: ignore[arg-type]
        fields["formats"],  # type: ignore[arg-type]
    )


def _read_extension(kind: int, data: bytes, fields: dict[str, object]) -> None:
    reader = _Reader(data)
    if kind == _EXT_SNI and data:
        names = _Reader(reader.vector(2))
        names.number(1)
        fields["server_name"] = names.vector(2).decode("ascii", "replace")
    elif kind == _EXT_ALPN:
        protocols, listed = [], _Reader(reader.vector(2))
        while listed.pos < len(listed.data):
            protocols.append(listed.vector(1).decode("latin-1"))
        fields["alpn"] = tuple(protocols)
    elif kind == _EXT_VERSIONS:
        fields["versions"] = tuple(_pairs(reader.vector(1)))
    elif kind == _EXT_SIG_ALGS:
        fields["sigs"] = tuple(_pairs(reader.vector(2)))
    elif kind == _EXT_GROUPS:
        fields["groups"] = tuple(_pairs(reader.vector(2)))
    elif kind == _EXT_POINT_FORMATS:
        fields["formats"] = tuple(reader.vector(1))


def _hash12(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12] if text else "000000000000"


def _alpn_code(alpn: tuple[str, ...]) -> str:
    if not alpn or not alpn[0]:
        return "00"
    first, last = alpn[0][0], alpn[0][-1]
    if first.isascii() and first.isalnum() and last.isascii() and last.isalnum():
        return first + last
    raw = alpn[0].encode("latin-1").hex()
    return raw[0] + raw[-1]


@dataclasses.dataclass(frozen=True)
class Fingerprint:
    """What one connection's ClientHello says about its TLS stack."""

    ja4: str
    ja3: str
    ja3_text: str

    @property
    def version(self) -> str:
        return self.ja4[1:3]

    @property
    def alpn(self) -> str:
        return self.ja4.split("_", 1)[0][-2:]

    @property
    def cipher_hash(self) -> str:
        return self.ja4.split("_")[1]

    @property
    def binding(self) -> str:
        """The stable part a clearance is bound to: version, ALPN, cipher hash."""
        return binding_of(self.ja4)

    @property
    def browser_like(self) -> bool:
        """A browser's TLS stack offering HTTP/2, as browsers do (libraries mostly do not)."""
        return self.cipher_hash in BROWSER_CIPHER_HASHES and self.alpn == "h2"

    def to_dict(self) -> dict[str, object]:
        return {"ja4": self.ja4, "ja3": self.ja3, "binding": self.binding, "browser_like": self.browser_like}


def binding_of(ja4: str) -> str:
    """`t13_h2_8daaf6152771` from a JA4 string (TLS version, ALPN, cipher hash)."""
    try:
        part_a, part_b, _ = ja4.split("_")
    except ValueError:
        raise ValueError(f"not a JA4 fingerprint: {ja4!r}") from None
    if len(part_a) != 10 or len(part_b) != 12:
        raise ValueError(f"not a JA4 fingerprint: {ja4!r}")
    return f"{part_a[1:3]}_{part_a[-2:]}_{part_b}"


def fingerprint(hello: ClientHello) -> Fingerprint:
    ciphers = [c for c in hello.ciphers if not is_grease(c)]
    extensions = [e for e in hello.extensions if not is_grease(e)]
    versions = [v for v in hello.versions if not is_grease(v)]
    version = _VERSIONS.get(max(versions) if versions else hello.legacy_version, "00")
    sni = "d" if _EXT_SNI in extensions else "i"
    part_a = (
        f"t{version}{sni}{min(len(ciphers), 99):02d}{min(len(extensions), 99):02d}{_alpn_code(hello.alpn)}"
    )
    part_b = _hash12(",".join(sorted(f"{c:04x}" for c in ciphers)))
    listed = ",".join(sorted(f"{e:04x}" for e in extensions if e not in (_EXT_SNI, _EXT_ALPN)))
    sigs = ",".join(f"{s:04x}" for s in hello.signature_algorithms if not is_grease(s))
    part_c = _hash12(f"{listed}_{sigs}" if sigs else listed)
    ja3_text = ",".join(
        [
            str(hello.legacy_version),
            "-".join(str(c) for c in ciphers),
            "-".join(str(e) for e in extensions),
            "-".join(str(g) for g in hello.groups if not is_grease(g)),
            "-".join(str(p) for p in hello.point_formats),
        ]
    )
    ja3 = hashlib.md5(ja3_text.encode(), usedforsecurity=False).hexdigest()
    return Fingerprint(f"{part_a}_{part_b}_{part_c}", ja3, ja3_text)


def fingerprint_records(records: bytes) -> Fingerprint:
    """Parse and fingerprint in one step (HelloError for malformed bytes)."""
    return fingerprint(parse_client_hello(records))
