"""SessionManager wired to the real harvest and client (app.py) against the emulator:
the client's 401/403 recoveries go through the manager by the cheapest path, and an
account pool spreads work and quarantines a failing account."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chatgpt_browser.app import build_client, build_manager, build_pool
from chatgpt_browser.config import Settings
from chatgpt_browser.emulator.process import Emulator
from chatgpt_browser.errors import InvalidCredentialsError

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SECOND = {"email": "second@example.com", "password": "second-password"}


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(dwell=0.3, accounts=[SECOND]) as emulator:
        yield emulator


def settings_for(emu: Emulator, state: Path, chromium: Any, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "url": emu.url,
        "email": emu.account.email,
        "password": emu.account.password,
        "state_dir": state,
        "executable": str(chromium.path),
    }
    values.update(changes)
    return Settings(**values)


def test_client_recoveries_take_the_cheapest_path(
    emu: Emulator, tmp_path: Path, counting_chromium: Any
) -> None:
    settings = settings_for(emu, tmp_path / "state", counting_chromium)
    manager = build_manager(settings)
    logins = emu.admin.stats()["logins"]["ok"]
    with build_client(settings, manager=manager) as client:
        assert client.send_moderation("hello").flagged is False
        assert counting_chromium.launches == 1 and emu.admin.stats()["logins"]["ok"] == logins + 1

        # 401 (access token expired): fixed over HTTP, no browser
        emu.admin.expire("access_token", email=emu.account.email)
        assert client.send_moderation("hello again").flagged is False
        assert counting_chromium.launches == 1

        # 403 (clearance expired): a re-clear with the saved profile, no login
        emu.admin.expire("clearance")
        assert client.send_moderation("and again").flagged is False
        assert counting_chromium.launches == 2
        assert manager.last_renewal is not None and manager.last_renewal.source == "reclear"
        assert emu.admin.stats()["logins"]["ok"] == logins + 1

        # session revoked (and the access token gone): HTTP finds it dead, the browser logs in
        emu.admin.revoke("session", email=emu.account.email)
        emu.admin.expire("access_token", email=emu.account.email)
        assert client.send_moderation("once more").flagged is False
        assert emu.admin.stats()["logins"]["ok"] == logins + 2
    stored = manager.peek()
    assert stored is not None and stored.session_token == client.session_token


def test_pool_spreads_and_quarantines(emu: Emulator, tmp_path: Path, counting_chromium: Any) -> None:
    settings = settings_for(emu, tmp_path / "state", counting_chromium)
    pool = build_pool(
        settings,
        [
            (emu.account.email, emu.account.password),
            ("nobody@example.com", "wrong"),
            (SECOND["email"], SECOND["password"]),
        ],
        max_failures=1,
        quarantine_seconds=600,
    )
    served: list[str | None] = []
    failures = 0
    for _ in range(5):
        try:
            with pool.use() as manager, build_client(settings, manager=manager) as client:
                client.send_moderation("spread me")
                served.append(manager.account)
        except InvalidCredentialsError:
            failures += 1
    assert failures == 1  # the bad account failed once, then sat out
    assert served.count(emu.account.email) >= 2 and served.count(SECOND["email"]) >= 2
    health = {h.key: h for h in pool.health()}
    bad = next(h for h in health.values() if h.failures)
    assert "InvalidCredentialsError" in (bad.last_error or "")
