"""Client integration helpers: bundles minted by the live emulator's admin API.

A clearance normally needs the challenge's JS (a browser); the emulator's admin API
mints one bound to our IP and User-Agent, so these tests need no Chromium.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from support.bundles import HINTS, UA

from chatgpt_browser.client import RetryPolicy
from chatgpt_browser.credentials import Credentials
from chatgpt_browser.emulator.process import Emulator

__all__ = ["FAST_RETRY", "HINTS", "UA", "MintingProvider", "mint"]

#: Retries as in production, but with waits short enough for tests.
FAST_RETRY = RetryPolicy(
    backoff_initial=0.01, backoff_max=0.05, jitter=0.01, busy_wait=0.05, breaker_cooldown=60.0
)


def mint(emu: Emulator, *, with_access_token: bool = False, user_agent: str = UA) -> Credentials:
    """A fresh bundle for the demo account: clearance for our UA + a new session."""
    clearance = emu.admin.issue_clearance(user_agent)
    session = emu.admin.issue_session()
    return Credentials(
        site=emu.url,
        user_agent=user_agent,
        session_token=session["session_token"],
        clearance_token=clearance,
        access_token=session["access_token"] if with_access_token else None,
        headers=HINTS,
        account=emu.account.email,
        source="test-mint",
    )


class MintingProvider:
    """A real `CredentialSource`: renew() mints a new bundle from the emulator."""

    def __init__(self, emu: Emulator, initial: Credentials | None = None) -> None:
        self.emu = emu
        self.current = initial or mint(emu)
        self.renewals: list[str] = []
        self.updates: list[Credentials] = []
        self.lock = threading.Lock()
        self.renew_with: Callable[[], Credentials] | None = None

    def get(self, min_ttl: float = 0.0) -> Credentials:
        return self.current

    def renew(self, reason: str, stale: Credentials | None = None) -> Credentials:
        with self.lock:
            self.renewals.append(reason)
            self.current = self.renew_with() if self.renew_with else mint(self.emu)
            return self.current

    def update(self, credentials: Credentials) -> None:
        with self.lock:
            self.updates.append(credentials)
            self.current = credentials


def requests_count(emu: Emulator, key: str) -> int:
    """How many requests the emulator counted under `key` (e.g. "GET /api/auth/session 200")."""
    return int(emu.admin.stats()["requests"].get(key, 0))
