"""Checks of resolved settings that fail up front (exit 2) on values that would otherwise
fail late (a proxy that is not a URL ends as a network error) or silently (a `min_ttl` no
renewal can give opens a browser on every run). Pure: no environment, no I/O but a stat."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from .config import Settings

# A host name or address as a proxy may carry it: no spaces, no stray punctuation.
_HOST = re.compile(r"^[A-Za-z0-9._~%-]+$|^\[[0-9A-Fa-f:.]+\]$")


def check_settings(settings: Settings) -> None:
    """Fail up front (exit 2) on settings that would otherwise fail late or silently."""
    lifetime = settings.site().clearance_ttl
    if settings.min_ttl >= lifetime:
        # A renewal yields a clearance of this lifetime: asking for more would open a
        # browser on every run and still not get it.
        raise ConfigError(
            f"min_ttl {settings.min_ttl:g}s is not below the clearance lifetime of {lifetime:g}s "
            "that a renewal can give; use a smaller --min-ttl"
        )
    if settings.min_ttl < 0:
        raise ConfigError(f"min_ttl must be >= 0 seconds, got {settings.min_ttl:g}")
    if settings.ca_file and not Path(settings.ca_file).expanduser().is_file():
        raise ConfigError(f"CA file {settings.ca_file} does not exist or is not a file")
    if settings.proxy:
        _check_proxy(settings.proxy)


# A bare host name or IP address (no scheme, port or path): what the origin guard compares.
_HOST_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")


def _bare_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return bool(_HOST_NAME.match(host))
    return True


def checked_hosts(name: str, value: object) -> tuple[str, ...]:
    """Host names from a TOML list, a comma/space separated string (environment) or a
    list of flags; lower-cased. Anything but a bare host is a ConfigError."""
    items = value.replace(",", " ").split() if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(item, str) for item in items):
        raise ConfigError(f"{name} must be a list of host names, got {value!r}")
    hosts = tuple(item.strip().lower().strip("[]") for item in items if item.strip())
    bad = [host for host in hosts if not _bare_host(host)]
    if bad:
        raise ConfigError(f"{name} takes bare host names (auth0.example.com), got {bad[0]!r}")
    return hosts


def _check_proxy(proxy: str) -> None:
    shown = proxy.split("@")[-1]  # never echo the user:password part
    parts = urlsplit(proxy if "://" in proxy else "http://" + proxy)
    try:
        port = parts.port
    except ValueError:
        port = -1
    host = parts.netloc.rpartition("@")[2].rsplit(":", 1)[0] if port else parts.netloc.rpartition("@")[2]
    if (
        parts.scheme not in ("http", "https", "socks5")
        or not parts.hostname
        or not _HOST.match(host)
        or port == -1
        or parts.path.strip("/")
    ):
        raise ConfigError(f"proxy must be scheme://[user:password@]host:port, got {shown!r}")


__all__ = ["check_settings", "checked_hosts"]
