"""What keeps the service from being a prize: API key, rate limit, URL allow-list.

- The API key is compared in constant time (`hmac.compare_digest`); `/health` alone is
  open (a liveness probe carries no key).
- The rate limit is a token bucket per client address.
- `check_target()` decides which URLs the browser may open for a FlareSolverr request:
  http(s) only, and only hosts of the site profile (on the site's own port) or the
  `--allow-host` list. The same rule (`host_allowed`) guards every request the page
  makes, so a redirect to a foreign host never leaves with the site's cookies.
"""

from __future__ import annotations

import dataclasses
import hmac
import ipaddress
import time
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from ..config import SiteProfile
from ..errors import ConfigError

#: Cloud metadata services: never a target, whatever the allow-list says.
_METADATA = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fd00:ec2::/32"))
_DEFAULT_PORTS = {"http": 80, "https": 443}


class RefusedTargetError(ConfigError):
    """A FlareSolverr request for a URL the service will not open."""


def key_matches(expected: str | None, given: str | None) -> bool:
    if expected is None:
        return True
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


def presented_key(headers: Mapping[str, str]) -> str | None:
    """The key a client sent: `Authorization: Bearer KEY` or `X-API-Key: KEY`."""
    get = headers.get
    auth = get("Authorization") or ""
    if auth.lower().startswith("bearer "):
        return str(auth[7:].strip())
    value = get("X-API-Key")
    return str(value) if value else None


@dataclasses.dataclass(frozen=True)
class HostRule:
    """Hosts (with ports) the browser may talk to for FlareSolverr requests."""

    allowed: frozenset[tuple[str, int | None]]  # (host, port); None: any port of that host

    @classmethod
    def build(cls, site: SiteProfile, extra: tuple[str, ...]) -> HostRule:
        site_parts = urlsplit(site.base_url)
        site_port = site_parts.port or _DEFAULT_PORTS[site_parts.scheme]
        allowed: set[tuple[str, int | None]] = {(host.lower(), site_port) for host in site.allowed_hosts}
        for entry in extra:
            host, _, port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
            if port and not port.isdigit():
                raise ConfigError(f"--allow-host wants HOST or HOST:PORT, got {entry!r}")
            allowed.add(((host or entry).lower().strip("[]"), int(port) if port else None))
        return cls(frozenset(allowed))

    def host_allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
            return False
        host = parts.hostname.lower()
        try:
            port = parts.port or _DEFAULT_PORTS[parts.scheme]
        except ValueError:
            return False
        if _is_metadata(host):
            return False
        return (host, port) in self.allowed or (host, None) in self.allowed


def _is_metadata(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host in ("metadata.google.internal", "metadata")
    return any(address in network for network in _METADATA)


def check_target(rule: HostRule, url: object) -> str:
    """`url` if the browser may open it; else `RefusedTargetError` saying why."""
    if not isinstance(url, str) or not url:
        raise RefusedTargetError("'url' is required and must be a string")
    parts = urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS:
        raise RefusedTargetError(f"only http(s) URLs are fetched, not {parts.scheme or 'a relative'} URL")
    if not rule.host_allowed(url):
        raise RefusedTargetError(
            f"{parts.scheme}://{parts.netloc} is not an allowed host (the site's hosts, or --allow-host)"
        )
    return url


class RateLimiter:
    """A token bucket per client: `rate` requests per second, bursts of `burst`."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, client: str) -> bool:
        if self.rate <= 0:
            return True
        now = self._clock()
        tokens, last = self._buckets.get(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if len(self._buckets) > 10_000:  # forget idle clients: memory stays bounded
            self._buckets.clear()
        if tokens < 1:
            self._buckets[client] = (tokens, now)
            return False
        self._buckets[client] = (tokens - 1, now)
        return True


__all__ = ["HostRule", "RateLimiter", "RefusedTargetError", "check_target", "key_matches", "presented_key"]
