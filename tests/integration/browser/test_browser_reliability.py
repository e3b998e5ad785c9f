"""The harvest's promises to library users: progress stages, forced logins, failure
artefacts, secrets kept out of child environments, fast failures before any launch."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import login_harvest
from support.waiting import wait_until

from chatgpt_browser.browser.launch import browser_processes
from chatgpt_browser.errors import ConfigError, HumanNeededError, InvalidCredentialsError

pytestmark = pytest.mark.browser


def test_on_stage_reports_each_stage_in_order(emu: Any, tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    cold: list[str] = []
    login_harvest(emu, tmp_path, profile_dir=profile, on_stage=cold.append)
    assert cold == ["launch", "challenge", "login", "verify", "done"]
    warm: list[str] = []
    creds = login_harvest(emu, tmp_path, profile_dir=profile, on_stage=warm.append)
    assert creds.source == "reclear"
    assert warm == ["launch", "challenge", "verify", "done"]


def test_a_failing_on_stage_callback_is_ignored(emu: Any, tmp_path: Path) -> None:
    def broken(stage: str) -> None:
        raise RuntimeError(f"callback bug at {stage}")

    assert login_harvest(emu, tmp_path, on_stage=broken).session_token


def test_force_login_checks_the_password_even_with_a_live_session(emu: Any, tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    login_harvest(emu, tmp_path, profile_dir=profile)
    # Without force_login a wrong password is never typed: the profile re-clears.
    assert login_harvest(emu, tmp_path, profile_dir=profile, password="wrong-password").source == "reclear"
    with pytest.raises(InvalidCredentialsError):
        login_harvest(emu, tmp_path, profile_dir=profile, password="wrong-password", force_login=True)
    creds = login_harvest(emu, tmp_path, profile_dir=profile, force_login=True)
    assert creds.source == "harvest"


def test_force_login_without_a_password_fails_before_any_launch(emu: Any, tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    with pytest.raises(HumanNeededError, match="CHATGPT_BROWSER_PASSWORD"):
        login_harvest(emu, tmp_path, profile_dir=profile, password=None, force_login=True)
    assert not profile.exists()


def test_failure_artefacts_hold_trace_page_console_and_screenshot_without_secrets(
    emu: Any, tmp_path: Path
) -> None:
    password = "Wr0ng-but-secret-password"
    with pytest.raises(InvalidCredentialsError) as info:
        login_harvest(emu, tmp_path, password=password)
    folder = Path(info.value.artifacts_dir)  # type: ignore[attr-defined]
    assert str(folder) in str(info.value).splitlines()[0]
    names = {p.name for p in folder.iterdir()}
    assert {"trace.zip", "page.html", "console.log", "screenshot.png", "url.txt"} <= names
    assert not (folder / "url.txt").read_text().startswith("about:blank")
    assert "Wrong email or password" in (folder / "page.html").read_text()
    with zipfile.ZipFile(folder / "trace.zip") as trace:
        entries = trace.namelist()
        assert any(name.endswith(".trace") for name in entries)
        contents = b"".join(trace.read(name) for name in entries)
    assert b"<redacted>" in contents, "the typed password was in the trace and was scrubbed"
    for path in folder.iterdir():
        assert password.encode() not in path.read_bytes(), path.name
    assert password.encode() not in contents


def test_children_never_see_our_variables_or_the_password(
    emu: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The password reaches the browser only through the page: neither the Playwright
    driver nor any Chromium process has it (or any CHATGPT_BROWSER_* variable) in its
    environment, even when the user keeps it in one."""
    monkeypatch.setenv("CHATGPT_BROWSER_PASSWORD", emu.account.password)
    monkeypatch.setenv("MY_SITE_PASSWORD", emu.account.password)
    profile = tmp_path / "profile"
    seen: dict[int, bytes] = {}

    def read_environments(stage: str) -> None:
        if stage != "login":
            return
        pids = wait_until(lambda: browser_processes(profile.resolve()), 10, "chromium")
        driver = [p for p in _children(os.getpid()) if b"run-driver" in _read(p, "cmdline")]
        assert driver, "the Playwright driver runs as our child"
        for pid in [*pids, *driver]:
            seen[pid] = _read(pid, "environ")

    login_harvest(emu, tmp_path, profile_dir=profile, on_stage=read_environments)
    assert len(seen) >= 2
    for pid, environ in seen.items():
        assert b"CHATGPT_BROWSER_" not in environ, pid
        assert emu.account.password.encode() not in environ, pid
    assert os.environ["MY_SITE_PASSWORD"] == emu.account.password, "our own environment is restored"


def _read(pid: int, name: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/{name}").read_bytes()
    except OSError:
        return b""


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        stat = _read(int(entry.name), "stat").decode(errors="replace")
        if stat and int(stat[stat.rindex(")") + 2 :].split()[1]) == parent:
            found.append(int(entry.name))
    return found


def test_url_with_userinfo_is_refused_before_anything(tmp_path: Path) -> None:
    from chatgpt_browser import harvest

    with pytest.raises(ConfigError, match="user name or password") as info:
        harvest("https://me:hunter22@chat.example", email="me@example.com", password="x" * 8)
    assert "hunter22" not in str(info.value)


def test_headed_without_display_or_xvfb_is_human_needed_at_once(
    emu: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))  # no Xvfb to be found
    profile = tmp_path / "profile"
    with pytest.raises(HumanNeededError, match="install Xvfb"):
        login_harvest(emu, tmp_path, headless=False, profile_dir=profile, executable="/usr/bin/chromium")
    assert not profile.exists()
