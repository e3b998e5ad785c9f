"""Optional encryption at rest for stored credential records (Fernet, from `cryptography`).

The key comes from the settings (`Settings.store_key`, i.e. `CHATGPT_BROWSER_STORE_KEY`);
this module never reads the environment. A Fernet token always starts with the
version byte 0x80, which base64-encodes to ``gAAAAA``: that prefix tells an encrypted
record from a plain JSON one, so a store can read old plain records after a key is
configured (they are encrypted on the next write).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import ConfigError, StoreError

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

_TOKEN_PREFIX = b"gAAAAA"

KEYGEN_HINT = (
    "generate one with: python -c 'from cryptography.fernet import Fernet; "
    "print(Fernet.generate_key().decode())'"
)


def is_encrypted(data: bytes) -> bool:
    """True when `data` looks like a Fernet token rather than a JSON document."""
    return data.lstrip().startswith(_TOKEN_PREFIX)


class RecordCipher:
    """Encrypts and decrypts store records with one Fernet key."""

    def __init__(self, key: str) -> None:
        try:
            from cryptography.fernet import Fernet  # lazy: an optional extra
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ConfigError(
                "a store key is set but 'cryptography' is not installed: "
                "pip install 'chatgpt-browser[encryption]'"
            ) from exc
        try:
            self._fernet: Fernet = Fernet(key.strip().encode("ascii"))
        except (ValueError, UnicodeEncodeError) as exc:
            raise ConfigError(
                f"the store key is not a valid Fernet key (32 url-safe base64 bytes); {KEYGEN_HINT}"
            ) from exc

    def encrypt(self, data: bytes) -> bytes:
        token: bytes = self._fernet.encrypt(data)
        return token

    def decrypt(self, data: bytes, *, where: str) -> bytes:
        from cryptography.fernet import InvalidToken

        try:
            plain: bytes = self._fernet.decrypt(data.strip())
        except InvalidToken as exc:
            raise StoreError(
                f"{where} is encrypted with another key (or damaged); "
                "set the key it was written with, or run `chatgpt-browser logout`"
            ) from exc
        return plain


def decode_record(data: bytes, cipher: RecordCipher | None, *, where: str) -> bytes:
    """The plain JSON bytes of a stored record, decrypting when needed."""
    if is_encrypted(data):
        if cipher is None:
            raise StoreError(f"{where} is encrypted: set CHATGPT_BROWSER_STORE_KEY to read it")
        return cipher.decrypt(data, where=where)
    return data


def encode_record(plain: bytes, cipher: RecordCipher | None) -> bytes:
    return cipher.encrypt(plain) if cipher is not None else plain


__all__ = ["KEYGEN_HINT", "RecordCipher", "decode_record", "encode_record", "is_encrypted"]
