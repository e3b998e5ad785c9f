"""Output formats of the CLI: credential bundles for cron (json, env, cookie-header,
netscape, storage-state, curl) and the `status` table. Pure functions; only the CLI
prints them.

`json` is both a flat object for scripts (`jq .session_token`) and a versioned record
(`version` + `credentials`) that `Credentials.from_json` reads back; the proxy's password
is redacted in both. `storage-state` is Playwright's `storage_state` JSON
(`browser.new_context(storage_state=...)`); `curl` is a config file for `curl -K`.
"""

from __future__ import annotations

import json
import re
import shlex
import time
from typing import TYPE_CHECKING

from ..errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from ..config import Settings
    from ..credentials import Credentials

FORMATS = ("json", "env", "cookie-header", "netscape", "storage-state", "curl")


def ttl_text(seconds: object) -> str:
    """A remaining lifetime for people: 29d 23h, 1h 05m, 27m 10s, 45s, expired."""
    if not isinstance(seconds, (int, float)):  # None (unknown) in `describe()`
        return "-"
    if seconds <= 0:
        return "expired"
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


# -- formats of `session` --------------------------------------------------------------


def browser_major(user_agent: str) -> int | None:
    """The Chrome major version in a User-Agent (`Chrome/120.0...` -> 120)."""
    found = re.search(r"(?:Chrome|Chromium|HeadlessChrome)/(\d+)\.", user_agent)
    return int(found.group(1)) if found else None


def _json(credentials: Credentials) -> str:
    from ..credentials import FORMAT_VERSION
    from ..redact import redact_proxy

    proxy = redact_proxy(credentials.proxy)
    record = credentials.to_dict()
    record["proxy"] = proxy
    data = {
        "version": FORMAT_VERSION,
        "credentials": record,
        "browser_major": browser_major(credentials.user_agent),
        "proxy": proxy,
    }
    data.update(
        {
            "site": credentials.site,
            "account": credentials.account,
            "clearance_token": credentials.clearance_token,
            "session_token": credentials.session_token,
            "access_token": credentials.access_token,
            "user_agent": credentials.user_agent,
            "headers": dict(credentials.headers),
            "clearance_expires_at": credentials.clearance_expires_at,
            "session_expires_at": credentials.session_expires_at,
            "access_token_expires_at": credentials.access_token_expires_at,
        }
    )
    return json.dumps(data, sort_keys=True)


def _storage_state(cookies: list[tuple[str, str, float | None]], settings: Settings) -> str:
    """Playwright's storage_state: host-only cookies of the site, HttpOnly session."""
    site = settings.site()
    https = site.base_url.startswith("https")
    entries = [
        {
            "name": name,
            "value": value,
            "domain": site.host,
            "path": "/",
            "expires": float(expires) if expires else -1,
            "httpOnly": name == site.session_cookie,
            "secure": https or name.startswith(("__Secure-", "__Host-")),
            "sameSite": "Lax",
        }
        for name, value, expires in cookies
    ]
    return json.dumps({"cookies": entries, "origins": []}, indent=2)


def _curl_quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _curl(credentials: Credentials, cookies: list[tuple[str, str, float | None]]) -> str:
    """A `curl -K FILE` config: the exact User-Agent, client hints, bearer token, cookies."""
    lines = [f"# {credentials.site} - chatgpt-browser; contains secrets (keep it 0600)"]
    headers = {"User-Agent": credentials.user_agent, **dict(credentials.headers)}
    if credentials.access_token:
        headers["Authorization"] = f"Bearer {credentials.access_token}"
    lines += [f"header = {_curl_quote(f'{name}: {value}')}" for name, value in headers.items()]
    lines.append(f"cookie = {_curl_quote('; '.join(f'{n}={v}' for n, v, _ in cookies))}")
    return "\n".join(lines)


def format_bundle(credentials: Credentials, fmt: str, settings: Settings) -> str:
    """The bundle in a cron-friendly format (contains secrets: for the caller only)."""
    site = settings.site()
    if fmt == "json":
        return _json(credentials)
    if fmt == "env":
        values = {
            "CHATGPT_CLEARANCE_TOKEN": credentials.clearance_token,
            "CHATGPT_SESSION_TOKEN": credentials.session_token,
            "CHATGPT_ACCESS_TOKEN": credentials.access_token,
            "CHATGPT_USER_AGENT": credentials.user_agent,
            "CHATGPT_CLEARANCE_EXPIRES_AT": credentials.clearance_expires_at,
            "CHATGPT_SESSION_EXPIRES_AT": credentials.session_expires_at,
        }
        return "\n".join(
            f"export {name}={shlex.quote('' if value is None else str(value))}"
            for name, value in values.items()
        )
    cookies = [(site.session_cookie, credentials.session_token, credentials.session_expires_at)]
    if credentials.clearance_token:
        cookies.insert(
            0, (site.clearance_cookie, credentials.clearance_token, credentials.clearance_expires_at)
        )
    if fmt == "storage-state":
        return _storage_state(cookies, settings)
    if fmt == "curl":
        return _curl(credentials, cookies)
    if fmt == "cookie-header":
        return "; ".join(f"{name}={value}" for name, value, _ in cookies)
    if fmt == "netscape":
        # Host-only cookies for the configured host: what curl -b / wget --load-cookies need.
        https = site.base_url.startswith("https")
        lines = ["# Netscape HTTP Cookie File", f"# {site.base_url} - chatgpt-browser; contains secrets"]
        for name, value, expires in cookies:
            domain = ("#HttpOnly_" if name == site.session_cookie else "") + site.host
            # A `__Secure-`/`__Host-` cookie without the flag is dropped by curl; with it,
            # curl still sends it to http://localhost, as Chromium did.
            secure = "TRUE" if https or name.startswith(("__Secure-", "__Host-")) else "FALSE"
            lines.append("\t".join([domain, "FALSE", "/", secure, str(int(expires or 0)), name, value]))
        return "\n".join(lines)
    raise ConfigError(f"unknown format {fmt!r}")  # argparse restricts choices


def status_table(rows: list[dict[str, object]]) -> str:
    """The `status` table: one row per stored account, remaining lifetimes, no secrets."""
    header = ("ACCOUNT", "SITE", "SOURCE", "CLEARANCE", "SESSION", "ACCESS TOKEN", "OBTAINED")
    table: list[tuple[object, ...]] = [header]
    for row in rows:
        if "error" in row:
            # Last column, never padded: the whole reason fits however long it is.
            table.append((row["key"], "-", "unreadable", "-", "-", "-", row["error"]))
            continue
        at = row["obtained_at"]
        stamp = time.localtime(at) if isinstance(at, (int, float)) else None
        obtained = time.strftime("%Y-%m-%d %H:%M", stamp) if stamp else "-"
        lifetimes = [ttl_text(row[name]) for name in ("clearance_ttl", "session_ttl", "access_token_ttl")]
        table.append((row.get("account") or row["key"], row["site"], row["source"], *lifetimes, obtained))
    widths = [max(len(str(r[i])) for r in table) for i in range(len(header))]
    return "\n".join(
        "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in table
    )


__all__ = ["FORMATS", "browser_major", "format_bundle", "status_table", "ttl_text"]
