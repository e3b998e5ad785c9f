"""Keeping secrets out of what the CLI prints: log lines, error lines, tracebacks.

The library already logs fingerprints only; this is the belt to those braces, for
messages quoted from elsewhere (a URL with a password or a `?token=`, a library's error).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from urllib.parse import parse_qsl, urlsplit

from ..config import env, optional_env_var
from ..redact import redact  # the one redaction module


class RedactingFormatter(logging.Formatter):
    """Belt and braces: the library logs fingerprints only, but never print a password."""

    def __init__(self, fmt: str, secrets: Sequence[str]) -> None:
        super().__init__(fmt)
        self.secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self.secrets)


def known_secrets(args: argparse.Namespace) -> list[str]:
    """Secrets this run knows up front, to keep out of logs and error lines even when a
    library quotes them: passwords, keys, and the password / query tokens of URLs (a
    Browserless `?token=`, a proxy's or Redis' password)."""
    password_env = getattr(args, "password_env", None)
    secrets = [optional_env_var(password_env) or ""] if password_env else []
    secrets += [env(name) or "" for name in ("PASSWORD", "STORE_KEY", "TOTP_SECRET", "API_KEY")]
    # `store` may be a serve URL (http(s)://user:password@host:8191).
    urls = [getattr(args, name, None) for name in ("cdp_url", "proxy", "redis_url", "store")]
    urls += [env(name) for name in ("CDP_URL", "PROXY", "REDIS_URL", "STORE")]
    for url in filter(None, urls):
        try:
            parts = urlsplit(url)
            secrets += [parts.password or "", *(value for _, value in parse_qsl(parts.query))]
        except ValueError:
            continue
    # Very short values would mangle unrelated text and protect nothing.
    return sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)


__all__ = ["RedactingFormatter", "known_secrets", "redact"]
