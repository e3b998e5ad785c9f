"""What `serve` runs with: the service's own options and the accounts it serves.

The site, store, browser and timeouts come from the shared settings (flags > env >
TOML). Accounts: the `--email` of those settings, plus every `[[accounts]]` entry of
the TOML file (`email`, `password_env`, optional `proxy`); a `[serve]` table may set
the options below (flags still win). Secrets are never stored here: an account names
the environment variable that holds its password, read when a login needs it.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Mapping
from pathlib import Path

from .. import config
from ..config import Settings
from ..errors import ConfigError

API_KEY_ENV = "CHATGPT_BROWSER_API_KEY"
MiB = 1024 * 1024


@dataclasses.dataclass(frozen=True)
class AccountSpec:
    """One account the service hands out credentials for."""

    email: str
    password_env: str | None = None
    proxy: str | None = dataclasses.field(default=None, repr=False)


@dataclasses.dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8191
    api_key: str | None = dataclasses.field(default=None, repr=False)
    allow_hosts: tuple[str, ...] = ()
    max_browsers: int = 2
    browser_idle: float = 300.0
    request_timeout: float = 180.0
    drain_timeout: float = 30.0
    #: Requests per second per client address (a token bucket of `rate_burst`); 0: off.
    rate_limit: float = 50.0
    rate_burst: int = 100
    body_limit: int = MiB
    #: Contexts (FlareSolverr sessions) per warm browser before another is launched.
    contexts_per_browser: int = 8

    def __post_init__(self) -> None:
        if self.max_browsers < 1:
            raise ConfigError("--max-browsers must be at least 1")
        if self.api_key is None and not is_loopback(self.host):
            raise ConfigError(
                f"refusing to listen on {self.host} without an API key: set --api-key-env NAME or "
                f"{API_KEY_ENV} (clients then send 'Authorization: Bearer KEY' or 'X-API-Key: KEY')"
            )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


_OPTION_NAMES = frozenset(f.name for f in dataclasses.fields(ServeOptions))


def read_toml(path: str | Path | None) -> dict[str, object]:
    """The config file's whole document (serve reads its own [serve] and [[accounts]])."""
    return {} if path is None else config.read_toml(path)


def accounts_from(settings: Settings, document: Mapping[str, object]) -> tuple[AccountSpec, ...]:
    """The accounts to serve: the settings' own `email`, then each `[[accounts]]` entry."""
    found: dict[str, AccountSpec] = {}
    if settings.email:
        found[settings.email.lower()] = AccountSpec(settings.email, settings.password_env, settings.proxy)
    entries = document.get("accounts", [])
    if not isinstance(entries, list):
        raise ConfigError("[[accounts]] must be an array of tables")
    for index, entry in enumerate(entries):
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("email"), str)
            or "@" not in entry["email"]
        ):
            raise ConfigError(f"[[accounts]] entry {index + 1} needs an 'email'")
        unknown = set(entry) - {"email", "password_env", "proxy"}
        if unknown or "password" in entry:
            raise ConfigError(
                f"[[accounts]] entry {index + 1}: unknown keys {', '.join(sorted(unknown))} "
                '(passwords go in the environment: password_env = "NAME")'
            )
        spec = AccountSpec(entry["email"], entry.get("password_env"), entry.get("proxy", settings.proxy))
        found[spec.email.lower()] = spec
    if not found:
        raise ConfigError("no account to serve: pass --email or add [[accounts]] entries to the config file")
    return tuple(found.values())


def serve_table(document: Mapping[str, object]) -> dict[str, object]:
    """The `[serve]` table's options, checked against `ServeOptions`."""
    table = document.get("serve", {})
    if not isinstance(table, dict):
        raise ConfigError("[serve] must be a table")
    unknown = set(table) - _OPTION_NAMES - {"api_key_env"}
    if unknown or "api_key" in table:
        raise ConfigError(f"[serve]: unknown keys {', '.join(sorted(unknown))} (the key itself: api_key_env)")
    return dict(table)
