"""Keeping secrets out of everything the package prints or logs: the one place for it.

- `fingerprint(secret)`: a short, stable, non-reversible label (reprs, logs, errors);
- `safe_url(url)`: scheme://host:port/path, with no `user:password@`, query or fragment;
- `redact_urls(text)`: `safe_url` applied to every URL quoted in a message;
- `redact_proxy(url)`: a proxy URL with its password masked but its user kept;
- `describe_headers(headers)`: header pairs with secret values as fingerprints;
- `redact(text, secrets)`: known secret values replaced by `***` (the CLI's last belt).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit, urlunsplit

#: Headers whose values are credentials.
SECRET_HEADERS = frozenset({"cookie", "authorization", "proxy-authorization", "set-cookie"})

_URL = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]*://)([^\s'\"<>(),]+)")


def fingerprint(secret: str | None) -> str:
    """A short, stable, non-reversible label for a secret, safe for logs and errors."""
    if not secret:
        return "<none>"
    return "sha256:" + hashlib.sha256(secret.encode("utf-8")).hexdigest()[:10]


def safe_url(url: str) -> str:
    """`url` cut to scheme://host:port/path: no userinfo, no query (`?token=`), no fragment."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        scheme = url.split("://", 1)[0] if "://" in url else ""
        return f"{scheme}://<redacted>" if scheme else "<redacted>"
    if ":" in host:
        host = f"[{host}]"
    return urlunsplit((parts.scheme, host + port, parts.path, "", ""))


def redact_urls(text: str) -> str:
    """`text` with every URL in it passed through `safe_url` (for quoted CDP/proxy errors)."""
    return _URL.sub(lambda match: safe_url(match.group(0)), text)


def redact_proxy(proxy: str | None) -> str | None:
    """Hide a proxy URL's password: http://user:secret@host:3128 -> http://user:***@host:3128."""
    if not proxy or "@" not in proxy:
        return proxy
    scheme, sep, rest = proxy.rpartition("://")
    userinfo, _, hostport = rest.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{hostport}"


def describe_headers(headers: Mapping[str, str]) -> str:
    """`Name: value` pairs, with secret values replaced by their fingerprints."""
    shown = []
    for name, value in headers.items():
        if name.lower() in SECRET_HEADERS:
            value = f"<{fingerprint(value)}>"
        shown.append(f"{name}: {value}")
    return "; ".join(shown)


def redact(text: str, secrets: Sequence[str]) -> str:
    """`text` with each of `secrets` (longest first is the caller's job) replaced by `***`."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


__all__ = [
    "SECRET_HEADERS",
    "describe_headers",
    "fingerprint",
    "redact",
    "redact_proxy",
    "redact_urls",
    "safe_url",
]
