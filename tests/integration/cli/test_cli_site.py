"""Every CLI command against the real emulator and real Chromium, with exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import one_line_error, run_cli

from chatgpt_browser.cli.exit_codes import ExitStatus
from chatgpt_browser.emulator.process import Emulator
from chatgpt_browser.session.store import FileStore

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def account_args(emu: Emulator, state: Path, counting_chromium: Any) -> list[str]:
    return [
        "--url", emu.url, "--email", emu.account.email, "--state-dir", str(state),
        "--executable", str(counting_chromium.path), "--password-env", "DEMO_PASSWORD",
    ]  # fmt: skip


def test_full_command_cycle(emu: Emulator, tmp_path: Path, counting_chromium: Any) -> None:
    state = tmp_path / "state"
    args = account_args(emu, state, counting_chromium)
    pw = {"DEMO_PASSWORD": emu.account.password}

    login = run_cli("login", *args, "--json", home=tmp_path, **pw)
    assert login.returncode == 0, login.stderr
    info = json.loads(login.stdout)
    assert info["account"] == emu.account.email and info["source"] == "harvest"
    assert emu.account.password not in login.stdout + login.stderr
    assert counting_chromium.launches == 1

    session = run_cli("session", *args, home=tmp_path, **pw)
    assert session.returncode == 0, session.stderr
    bundle = json.loads(session.stdout)
    assert bundle["clearance_token"] and bundle["session_token"] and "Chrome/" in bundle["user_agent"]
    assert counting_chromium.launches == 1  # fresh in the store: no browser

    status = run_cli("status", "--state-dir", str(state), home=tmp_path)
    assert emu.account.email in status.stdout and "harvest" in status.stdout

    ask = run_cli("ask", *args, "Hello there", home=tmp_path, **pw)
    assert ask.returncode == 0, ask.stderr
    assert ask.stdout.strip() and "--conversation" in ask.stderr
    first = run_cli("ask", *args, "--json", "Hello there", home=tmp_path, **pw)
    answer = json.loads(first.stdout)
    assert answer["response"] == ask.stdout.strip()  # the emulator answers deterministically
    follow = run_cli(
        "ask", *args, "--json", "--conversation", answer["conversation_id"], "--parent", answer["message_id"],
        "And again?", home=tmp_path, **pw,
    )  # fmt: skip
    assert follow.returncode == 0, follow.stderr
    assert json.loads(follow.stdout)["conversation_id"] == answer["conversation_id"]

    flagged = run_cli("moderate", *args, "--json", "please flagme now", home=tmp_path, **pw)
    assert json.loads(flagged.stdout)["flagged"] is True
    assert flagged.returncode == ExitStatus.FLAGGED, flagged.stderr
    clean = run_cli("moderate", *args, "a kind sentence", home=tmp_path, **pw)
    assert clean.stdout.strip() == "flagged: no, blocked: no"
    assert counting_chromium.launches == 1

    logout = run_cli(
        "logout", "--url", emu.url, "--email", emu.account.email, "--state-dir", str(state), home=tmp_path
    )
    assert logout.returncode == 0 and "browser profile" in logout.stdout
    # no stored bundle, no profile, no password: a person is needed
    again = run_cli("session", *args[:-2], home=tmp_path)
    assert again.returncode == ExitStatus.HUMAN_NEEDED
    one_line_error(again.stderr, "HumanNeededError")


def test_warm_profile_re_clears_without_password(
    emu: Emulator, tmp_path: Path, counting_chromium: Any
) -> None:
    state = tmp_path / "state"
    args = account_args(emu, state, counting_chromium)
    first = run_cli("session", *args, home=tmp_path, DEMO_PASSWORD=emu.account.password)
    assert first.returncode == 0, first.stderr
    logins = emu.admin.stats()["logins"]["ok"]
    emu.admin.expire("clearance")
    # the stored clearance now fails (a consumer saw a 403): --renew re-clears
    result = run_cli("session", *args[:-2], "--renew", home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["clearance_token"] != json.loads(first.stdout)["clearance_token"]
    assert emu.admin.stats()["logins"]["ok"] == logins  # re-clear with the profile, no login
    assert counting_chromium.launches == 2


def test_wrong_password_is_auth_failed(emu: Emulator, tmp_path: Path, counting_chromium: Any) -> None:
    result = run_cli(
        "session", *account_args(emu, tmp_path / "s", counting_chromium), home=tmp_path, DEMO_PASSWORD="nope"
    )
    assert result.returncode == ExitStatus.AUTH_FAILED
    one_line_error(result.stderr, "InvalidCredentialsError")
    assert FileStore(tmp_path / "s").list_keys() == []


def test_blocked_ip_exit_code(emu: Emulator, tmp_path: Path, counting_chromium: Any) -> None:
    emu.admin.configure(blocked_ips=["127.0.0.1"])
    result = run_cli(
        "session", *account_args(emu, tmp_path / "s", counting_chromium), home=tmp_path, DEMO_PASSWORD="x"
    )
    assert result.returncode == ExitStatus.BLOCKED
    one_line_error(result.stderr, "BlockedError")


def test_challenge_not_cleared_exit_code(emu: Emulator, tmp_path: Path, counting_chromium: Any) -> None:
    emu.admin.configure(dwell=30)
    config = tmp_path / "c.toml"
    config.write_text("[timeouts]\nchallenge = 1\nharvest = 20\n")
    args = account_args(emu, tmp_path / "s", counting_chromium)
    result = run_cli("session", "--config", str(config), *args, home=tmp_path, DEMO_PASSWORD="x")
    assert result.returncode == ExitStatus.CHALLENGE_NOT_CLEARED, result.stderr
    one_line_error(result.stderr, "ChallengeNotClearedError")


def test_missing_browser_exit_code(emu: Emulator, tmp_path: Path) -> None:
    args = ["--url", emu.url, "--email", "a@example.com", "--state-dir", str(tmp_path / "s")]
    result = run_cli(
        "session", *args, "--executable", str(tmp_path / "no-chromium"), "--password-env", "PW",
        home=tmp_path, PW="some-password",
    )  # fmt: skip
    assert result.returncode == ExitStatus.BROWSER
    one_line_error(result.stderr, "BrowserNotFoundError")


def test_rate_limited_exit_code(emu: Emulator, tmp_path: Path, counting_chromium: Any) -> None:
    emu.admin.configure(rate_limit=1)
    args = account_args(emu, tmp_path / "s", counting_chromium)
    first = run_cli("ask", *args, "hi", home=tmp_path, DEMO_PASSWORD=emu.account.password)
    assert first.returncode == 0, first.stderr
    result = run_cli("ask", *args, "hi again", home=tmp_path, DEMO_PASSWORD=emu.account.password)
    assert result.returncode == ExitStatus.RATE_LIMITED, result.stderr
    one_line_error(result.stderr, "RateLimitError")


def test_password_from_stdin(emu: Emulator, tmp_path: Path, counting_chromium: Any) -> None:
    args = [*account_args(emu, tmp_path / "s", counting_chromium)[:-2], "--password-stdin", "--quiet"]
    result = run_cli("login", *args, home=tmp_path, input=emu.account.password + "\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""  # --quiet
    assert FileStore(tmp_path / "s").list_keys()


def test_corrupt_store_file_is_kept_aside_and_replaced(
    emu: Emulator, tmp_path: Path, counting_chromium: Any
) -> None:
    from chatgpt_browser.session.store import account_key

    state = tmp_path / "state"
    args = account_args(emu, state, counting_chromium)
    pw = {"DEMO_PASSWORD": emu.account.password}
    assert run_cli("session", *args, home=tmp_path, **pw).returncode == 0
    record = FileStore(state).path(account_key(emu.url, emu.account.email))
    record.write_bytes(record.read_bytes()[:50])  # a torn, half-written file
    result = run_cli("session", *args, home=tmp_path, **pw)
    assert result.returncode == 0, result.stderr
    assert (
        result.stderr.startswith("WARNING: credential record is corrupt") and "moved it to" in result.stderr
    )
    aside = [p for p in record.parent.iterdir() if ".corrupt-" in p.name]
    assert len(aside) == 1 and len(aside[0].read_bytes()) == 50
    assert json.loads(result.stdout)["session_token"] == FileStore(state).load(record.stem).session_token  # type: ignore[union-attr]
    assert counting_chromium.launches == 2


def test_password_flag_beats_environment(emu: Emulator, tmp_path: Path, counting_chromium: Any) -> None:
    args = account_args(emu, tmp_path / "s", counting_chromium)
    result = run_cli(
        "session", *args, home=tmp_path, DEMO_PASSWORD=emu.account.password, CHATGPT_BROWSER_PASSWORD="stale"
    )
    assert result.returncode == 0, result.stderr
    wrong = run_cli(
        "session", *account_args(emu, tmp_path / "t", counting_chromium), home=tmp_path,
        DEMO_PASSWORD="wrong", CHATGPT_BROWSER_PASSWORD=emu.account.password,
    )  # fmt: skip
    assert wrong.returncode == ExitStatus.AUTH_FAILED
