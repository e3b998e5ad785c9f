"""Which HTTP transport a bundle needs: the one whose TLS looks like the browser that earned it.

A Cloudflare edge binds a clearance to the TLS client family that earned it (JA4 version,
ALPN and cipher list), not only to IP and User-Agent: the cookie that works in Chromium
gets a 403 challenge from `requests`. So the default transport, "auto", picks:

- a Chrome-impersonating curl_cffi target for a bundle a browser harvested: the target of
  the harvesting Chrome's major version if curl_cffi has it, else the nearest lower one
  (the cipher list has not changed between Chrome majors for years; a newer target may
  offer what the older browser did not), else the oldest it has;
- plain `requests` when curl_cffi is not installed, when the UA is not Chrome's, or when
  the bundle did not come from a browser (e.g. minted for tests, or no clearance at all).

Pure functions; `supported_chrome_targets()` is the only one that imports curl_cffi.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Iterable

from ..credentials import Credentials

_CHROME_MAJOR = re.compile(r"(?:Chrome|Chromium)/(\d+)\.")
_TARGET = re.compile(r"chrome(\d+)")
_NOT_CHROME = ("Firefox/", "FxiOS/", "Edg/", "OPR/")
#: Credential sources whose clearance a browser earned (the harvest, its re-clear, an HTTP
#: refresh of such a bundle, cookies a user copied from their browser, a bundle handed
#: out by `serve` or handed back to it by a worker's refresh).
BROWSER_SOURCES = frozenset(
    {"harvest", "reclear", "http-refresh", "refresh", "manual", "serve", "flaresolverr"}
)
#: A 403 challenge on a clearance younger than this is not an expired clearance.
FRESH_CLEARANCE_SECONDS = 120.0
#: Sources whose `obtained_at` is when a browser earned the clearance (an HTTP refresh
#: rotates the session but keeps an older clearance).
_JUST_CLEARED = frozenset({"harvest", "reclear"})


@dataclasses.dataclass(frozen=True)
class TransportChoice:
    """What "auto" picked and why (for logs and `doctor`)."""

    kind: str  # "curl_cffi" | "requests"
    target: str | None
    reason: str


def chrome_major(user_agent: str) -> int | None:
    """The Chrome major version a User-Agent names (None: not a Chrome/Chromium UA)."""
    if any(marker in user_agent for marker in _NOT_CHROME):
        return None
    match = _CHROME_MAJOR.search(user_agent)
    return int(match.group(1)) if match else None


def pick_chrome_target(major: int | None, targets: Iterable[str]) -> str | None:
    """`chromeN` for `major`: exact, else the nearest lower, else the oldest; None if none.

    Only plain desktop targets count (`chrome120`, not `chrome131_android` or `chrome133a`).
    """
    versions = sorted({int(m.group(1)) for t in targets if (m := _TARGET.fullmatch(t))})
    if not versions:
        return None
    if major is None:
        return f"chrome{versions[-1]}"
    lower = [v for v in versions if v <= major]
    return f"chrome{lower[-1] if lower else versions[0]}"


def supported_chrome_targets() -> list[str]:
    """curl_cffi's Chrome targets, or [] when curl_cffi is not importable."""
    try:
        from curl_cffi.requests import BrowserType
    except ImportError:
        return []
    return [b.value for b in BrowserType if _TARGET.fullmatch(b.value)]


def browser_harvested(credentials: Credentials) -> bool:
    """True when a browser earned this bundle's clearance (so its TLS family matters)."""
    return bool(credentials.clearance_token) and credentials.source in BROWSER_SOURCES


def choose_transport(credentials: Credentials, targets: Iterable[str] | None = None) -> TransportChoice:
    """The "auto" decision for this bundle (`targets`: curl_cffi's; default: ask it)."""
    if not browser_harvested(credentials):
        return TransportChoice("requests", None, f"bundle from {credentials.source!r}, not a browser")
    major = chrome_major(credentials.user_agent)
    if major is None:
        return TransportChoice("requests", None, "the harvesting browser is not Chrome/Chromium")
    available = list(supported_chrome_targets() if targets is None else targets)
    target = pick_chrome_target(major, available)
    if target is None:
        return TransportChoice("requests", None, "curl_cffi is not installed: no TLS impersonation")
    return TransportChoice("curl_cffi", target, f"Chrome {major} harvested the bundle")


def impersonating(transport: object) -> bool:
    """True for a transport (or a tracing wrapper of one) that presents a browser's TLS."""
    inner = getattr(transport, "inner", transport)
    return getattr(inner, "impersonate", None) is not None


def likely_tls_mismatch(credentials: Credentials, impersonating: bool, now: float | None = None) -> bool:
    """A 403 challenge on a clearance a browser earned moments ago, sent without Chrome's
    TLS: the edge refuses our TLS fingerprint, and clearing again cannot help."""
    if impersonating or not browser_harvested(credentials) or credentials.source not in _JUST_CLEARED:
        return False
    if not credentials.site.startswith("https://"):  # no TLS, no TLS fingerprint
        return False
    age = (time.time() if now is None else now) - credentials.obtained_at
    return 0 <= age < FRESH_CLEARANCE_SECONDS


MISMATCH_MESSAGE = (
    "TLS fingerprint mismatch: use the impersonating transport (transport='auto' or 'curl_cffi'); "
    "the edge refused a clearance a browser earned moments ago because this HTTP client's TLS "
    "handshake is not that browser's"
)

__all__ = [
    "BROWSER_SOURCES",
    "MISMATCH_MESSAGE",
    "TransportChoice",
    "browser_harvested",
    "choose_transport",
    "chrome_major",
    "impersonating",
    "likely_tls_mismatch",
    "pick_chrome_target",
    "supported_chrome_targets",
]
