"""The one test User-Agent and credential-bundle factory."""

from __future__ import annotations

import time
from typing import Any

from chatgpt_browser.credentials import Credentials

UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
HINTS = {
    "sec-ch-ua": '"Chromium";v="120", "Not?A_Brand";v="8"',
    "sec-ch-ua-mobile": "?0",
    "sec-ch-ua-platform": '"Linux"',
}


def make_bundle(
    n: int = 1,
    *,
    site: str = "https://chat.example",
    clearance_in: float | None = 1800,
    session_in: float | None = 86400,
    now: float | None = None,
    **changes: Any,
) -> Credentials:
    """A bundle whose tokens are unique to `n`, expiring `*_in` seconds from `now`."""
    now = time.time() if now is None else now
    creds = Credentials(
        site=site,
        user_agent=UA,
        session_token=f"session-{n}-" + "s" * 32,
        clearance_token=f"clearance-{n}-" + "c" * 32,
        clearance_expires_at=None if clearance_in is None else now + clearance_in,
        session_expires_at=None if session_in is None else now + session_in,
        headers=HINTS,
        obtained_at=now,
    )
    return creds.replace(**changes) if changes else creds
