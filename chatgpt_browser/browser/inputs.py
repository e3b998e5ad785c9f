"""Checks of the harvest's inputs, run before any browser starts (no Playwright here).

One rule each for the TOTP secret and the proxy URL: `harvest()` and the composition
root (`app.py`) both call these, so a value one accepts the other cannot reject later.
Messages never echo a secret (the TOTP key, the proxy password, a CDP token).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from ..config import SiteProfile, Timeouts
from ..credentials import redact_proxy
from ..errors import ConfigError

if TYPE_CHECKING:
    from playwright.sync_api import ProxySettings

#: Shortest TOTP key we accept. NIST asks for 112 bits and pyotp >= 2.10 enforces that,
#: but many sites still hand out 80-bit keys (16 base32 letters); refusing them would
#: lock those accounts out of unattended 2FA.
MIN_TOTP_BITS = 80
PROXY_SCHEMES = ("http", "https", "socks5")


def usable_totp_secret(secret: str | None) -> str | None:
    """The TOTP secret as pyotp wants it (no spaces or dashes, upper case, no padding),
    None when unset, or ConfigError for one that cannot work."""
    if not secret:
        return None
    cleaned = "".join(secret.split()).replace("-", "").upper().rstrip("=")
    try:
        key = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except (binascii.Error, ValueError):
        raise ConfigError("the TOTP secret is not base32 (letters A-Z and digits 2-7)") from None
    if len(key) * 8 < MIN_TOTP_BITS:
        raise ConfigError(
            f"the TOTP secret decodes to {len(key) * 8} bits; at least {MIN_TOTP_BITS} bits are needed"
        )
    return cleaned


def totp_now(secret: str) -> str:
    """The current one-time code for `secret` (checked by `usable_totp_secret`)."""
    import pyotp  # lazy: only accounts with 2FA need it

    class _TOTP(pyotp.TOTP):
        min_secret_length_bits = MIN_TOTP_BITS  # pyotp >= 2.10 would refuse 80-bit keys

    cleaned = usable_totp_secret(secret)
    if cleaned is None:
        raise ConfigError("no TOTP secret is set")
    return str(_TOTP(cleaned).now())


def checked_proxy(proxy: str | None) -> str | None:
    """The proxy URL if the browser and the HTTP client can both use it, else ConfigError
    (the message hides the proxy's password)."""
    if not proxy:
        return None
    proxy_parts(proxy)
    return proxy


def proxy_parts(proxy: str) -> tuple[str, str, int | None, str | None, str | None]:
    """(scheme, host, port, user, password) of `[scheme://][user:password@]host[:port]`."""
    parts = urlsplit(proxy if "://" in proxy else "http://" + proxy)
    try:
        port = parts.port
        port_ok = port is None or port > 0
    except ValueError:  # "h:notaport", a port above 65535
        port, port_ok = None, False
    if parts.scheme not in PROXY_SCHEMES or not parts.hostname or not port_ok:
        raise ConfigError(
            "proxy must be http(s)://[user:password@]host:port or socks5://host:port, "
            f"got {redact_proxy(proxy)!r}"
        )
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password or "") if parts.username else None
    return parts.scheme, parts.hostname, port, user, password


def proxy_settings(proxy: str | None) -> ProxySettings | None:
    """Playwright's proxy dict from `scheme://user:password@host:port` (credentials optional)."""
    if not proxy:
        return None
    scheme, host, port, user, password = proxy_parts(proxy)
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    settings: ProxySettings = {"server": f"{scheme}://{host}" + (f":{port}" if port else "")}
    if user:
        settings["username"] = user
        settings["password"] = password or ""
    return settings


def checked_timeout(
    timeout: float | None, timeouts: Timeouts, email: str | None, password: str | None
) -> float:
    """The call's budget (default `timeouts.harvest`); ConfigError for impossible input."""
    timeout = timeout if timeout is not None else timeouts.harvest
    if timeout <= 0:
        raise ConfigError("timeout must be positive")
    if password is not None and email is None:
        raise ConfigError("a password needs an e-mail address to go with it")
    return timeout


def resolved_site(url: str | None, site: SiteProfile | None) -> SiteProfile:
    """`url` alone names the site; with `site` it only overrides the base URL."""
    if site is None:
        return SiteProfile(base_url=url or SiteProfile().base_url)
    return dataclasses.replace(site, base_url=url) if url else site


from ..redact import redact_urls  # noqa: E402 - the one redaction module

__all__ = [
    "MIN_TOTP_BITS",
    "checked_proxy",
    "checked_timeout",
    "proxy_parts",
    "proxy_settings",
    "redact_urls",
    "resolved_site",
    "totp_now",
    "usable_totp_secret",
]
