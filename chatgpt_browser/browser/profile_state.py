"""Does a saved browser profile hold a live session for the site? Read without a browser.

Chromium keeps cookies in an SQLite file (`Default/Network/Cookies`, older versions
`Default/Cookies`); names, hosts and expiry are plain columns (only values are
encrypted). Reading them lets a harvest that has no password fail at once instead of
launching a browser only to find that a login is needed.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path

from ..config import SiteProfile

#: Chromium stores times as microseconds since 1601-01-01 (Windows epoch).
_EPOCH_OFFSET = 11_644_473_600
_COOKIE_FILES = ("Default/Network/Cookies", "Default/Cookies")


def profile_may_hold_session(profile_dir: Path, site: SiteProfile, now: float | None = None) -> bool:
    """False only when we can tell the profile holds no unexpired session cookie for the
    site; True when it does, or when the file cannot be read (let the browser decide)."""
    files = [profile_dir / name for name in _COOKIE_FILES if (profile_dir / name).is_file()]
    if not files:
        return False
    now = time.time() if now is None else now
    limit = int((now + _EPOCH_OFFSET) * 1_000_000)
    hosts = (site.host, "." + site.host)
    names = (site.session_cookie, site.session_cookie + ".0")
    for file in files:
        try:
            with contextlib.closing(sqlite3.connect(f"{file.as_uri()}?mode=ro", uri=True, timeout=1.0)) as db:
                row = db.execute(
                    "SELECT COUNT(*) FROM cookies WHERE name IN (?, ?) AND host_key IN (?, ?)"
                    " AND (expires_utc = 0 OR expires_utc > ?)",
                    (*names, *hosts, limit),
                ).fetchone()
        except sqlite3.Error:
            return True
        if row and row[0]:
            return True
    return False


__all__ = ["profile_may_hold_session"]
