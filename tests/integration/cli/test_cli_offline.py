"""The CLI without a site: formats, status, logout, lazy imports and exit codes that
need no browser (each check runs the real `python -m chatgpt_browser` process)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import EMAIL, cli_env, one_line_error, run_cli, seed
from cryptography.fernet import Fernet

from chatgpt_browser.cli.exit_codes import ExitStatus
from chatgpt_browser.session.store import FileStore, account_key

URL = "http://127.0.0.1:9"  # nothing listens there: these tests must not need the site


def base(state: Path, url: str = URL) -> list[str]:
    return ["--url", url, "--email", EMAIL, "--state-dir", str(state)]


def test_help_lists_commands_and_exit_codes(tmp_path: Path) -> None:
    result = run_cli("--help", home=tmp_path)
    assert result.returncode == 0
    for command in ("login", "session", "status", "ask", "moderate", "logout", "emulator", "demo"):
        assert command in result.stdout
    assert "4 human_needed" in result.stdout and "11 lock_timeout" in result.stdout


def test_session_json_has_the_cron_keys(tmp_path: Path) -> None:
    seeded = seed(tmp_path / "state", URL)
    result = run_cli("session", *base(tmp_path / "state"), "--format", "json", home=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["clearance_token"] == seeded.clearance_token
    assert data["session_token"] == seeded.session_token
    assert data["user_agent"] == seeded.user_agent
    assert data["clearance_expires_at"] == seeded.clearance_expires_at
    assert data["session_expires_at"] == seeded.session_expires_at
    assert result.stderr == ""


def test_session_env_format_is_eval_safe(tmp_path: Path) -> None:
    seeded = seed(tmp_path / "state", URL, user_agent="UA with 'quotes' and $dollar")
    result = run_cli("session", *base(tmp_path / "state"), "--format", "env", home=tmp_path)
    assert result.returncode == 0, result.stderr
    shell = subprocess.run(
        [
            "bash",
            "-c",
            'eval "$1"; printf "%s\\n%s" "$CHATGPT_USER_AGENT" "$CHATGPT_SESSION_TOKEN"',
            "_",
            result.stdout,
        ],
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert shell.stdout.splitlines() == [seeded.user_agent, seeded.session_token]


def test_session_cookie_formats(tmp_path: Path) -> None:
    seeded = seed(tmp_path / "state", URL)
    header = run_cli("session", *base(tmp_path / "state"), "--format", "cookie-header", home=tmp_path)
    assert header.stdout.strip() == (
        f"cf_clearance={seeded.clearance_token}; __Secure-next-auth.session-token={seeded.session_token}"
    )
    netscape = run_cli("session", *base(tmp_path / "state"), "--format", "netscape", home=tmp_path)
    rows = [line.split("\t") for line in netscape.stdout.splitlines() if "\t" in line]
    assert netscape.stdout.startswith("# Netscape HTTP Cookie File")
    assert [(r[0], r[5], r[6]) for r in rows] == [
        ("127.0.0.1", "cf_clearance", seeded.clearance_token),
        ("#HttpOnly_127.0.0.1", "__Secure-next-auth.session-token", seeded.session_token),
    ]
    assert int(rows[0][4]) == int(seeded.clearance_expires_at or 0)


def test_status_table_and_json_show_no_secrets(tmp_path: Path) -> None:
    seeded = seed(tmp_path / "state", URL)
    table = run_cli("status", "--state-dir", str(tmp_path / "state"), home=tmp_path)
    assert table.returncode == 0
    assert EMAIL in table.stdout and "29m" in table.stdout and "29d" in table.stdout
    listing = run_cli("status", "--json", "--state-dir", str(tmp_path / "state"), home=tmp_path)
    data = json.loads(listing.stdout)
    (row,) = data["accounts"]
    assert row["account"] == EMAIL and 1700 < row["clearance_ttl"] <= 1800
    for secret in (seeded.session_token, seeded.clearance_token, seeded.access_token):
        assert secret and secret not in table.stdout + listing.stdout


def test_status_empty_and_unreadable(tmp_path: Path) -> None:
    empty = run_cli("status", "--state-dir", str(tmp_path / "state"), home=tmp_path)
    assert empty.returncode == 0 and "no stored credentials" in empty.stdout
    seed(tmp_path / "state", URL)
    record = FileStore(tmp_path / "state").path(account_key(URL, EMAIL))
    record.write_text("{ truncated")
    broken = run_cli("status", "--state-dir", str(tmp_path / "state"), home=tmp_path)
    assert broken.returncode == 0 and "unreadable" in broken.stdout
    assert record.read_text() == "{ truncated"  # status only looks; it moves nothing


def test_logout_removes_record_and_profile(tmp_path: Path) -> None:
    state = tmp_path / "state"
    seed(state, URL)
    profile = state / "profiles" / account_key(URL, EMAIL)
    (profile / "Default").mkdir(parents=True)
    result = run_cli("logout", *base(state), home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "stored credentials and browser profile" in result.stdout
    assert not profile.exists() and FileStore(state).list_keys() == []
    again = run_cli("logout", "--json", *base(state), home=tmp_path)
    assert json.loads(again.stdout) == {"account": EMAIL, "site": URL, "removed": []}


def test_importing_the_cli_does_not_load_playwright() -> None:
    code = "import sys, chatgpt_browser.cli; print('playwright' in sys.modules, 'requests' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert out.stdout.split() == ["False", "False"]


@pytest.mark.parametrize("command", ["session", "status"])
def test_fast_commands_load_no_browser_code(tmp_path: Path, command: str) -> None:
    seed(tmp_path / "state", URL)
    code = (
        "import sys; from chatgpt_browser.cli import main; rc = main(sys.argv[1:]); "
        "heavy = ('playwright', 'requests', 'redis', 'cryptography'); "
        "print('LOADED', sorted(m for m in heavy if m in sys.modules)); "
        "sys.exit(rc)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, command, *base(tmp_path / "state")],
        capture_output=True,
        text=True,
        timeout=30,
        env=cli_env(tmp_path),
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1] == "LOADED []"


# -- exit codes ---------------------------------------------------------------------


def test_bad_url_is_bad_config(tmp_path: Path) -> None:
    result = run_cli("session", "--url", "ftp://nope", "--email", EMAIL, home=tmp_path)
    assert result.returncode == ExitStatus.BAD_CONFIG
    one_line_error(result.stderr, "ConfigError")


def test_missing_account_is_bad_config(tmp_path: Path) -> None:
    result = run_cli("session", "--url", URL, "--state-dir", str(tmp_path), home=tmp_path)
    assert result.returncode == ExitStatus.BAD_CONFIG
    one_line_error(result.stderr, "ConfigError: no account")


def test_password_is_never_taken_from_argv(tmp_path: Path) -> None:
    result = run_cli("login", *base(tmp_path), "--password", "hunter2", home=tmp_path)
    assert result.returncode == ExitStatus.BAD_CONFIG
    assert "never read from the command line" in result.stderr


def test_unset_password_env_is_bad_config_before_any_browser(tmp_path: Path) -> None:
    result = run_cli("session", *base(tmp_path / "state"), "--password-env", "NO_SUCH_VAR", home=tmp_path)
    assert result.returncode == ExitStatus.BAD_CONFIG
    one_line_error(result.stderr, "ConfigError: environment variable NO_SUCH_VAR is not set")


def test_config_file_errors(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('password = "plain"\n')
    result = run_cli("status", "--config", str(config), home=tmp_path)
    assert result.returncode == ExitStatus.BAD_CONFIG
    one_line_error(result.stderr, "ConfigError")


def test_encrypted_store_without_key_is_a_store_error(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    state = tmp_path / "state"
    seed(state, URL)
    ok = run_cli("session", *base(state), home=tmp_path, CHATGPT_BROWSER_STORE_KEY=key)
    assert ok.returncode == 0, ok.stderr  # reads the plain record; the next write encrypts
    store = FileStore(state, key=key)
    store.save(account_key(URL, EMAIL), store.load(account_key(URL, EMAIL)))  # type: ignore[arg-type]
    result = run_cli("session", *base(state), home=tmp_path)
    assert result.returncode == ExitStatus.STORE
    one_line_error(result.stderr, "StoreError")
    bad_key = run_cli("session", *base(state), home=tmp_path, CHATGPT_BROWSER_STORE_KEY="short")
    assert bad_key.returncode == ExitStatus.BAD_CONFIG


def test_lock_timeout_exit_code(tmp_path: Path) -> None:
    state = tmp_path / "state"
    store = FileStore(state)
    with store.lock(account_key(URL, EMAIL), timeout=5):
        result = run_cli("session", *base(state), "--lock-timeout", "0.5", home=tmp_path)
    assert result.returncode == ExitStatus.LOCK_TIMEOUT
    one_line_error(result.stderr, "LockTimeoutError")
    assert f"pid {__import__('os').getpid()}" in result.stderr


def test_network_failure_during_http_renewal(tmp_path: Path) -> None:
    with socket.socket() as sock:  # bound, never listening: connection refused
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        seed(tmp_path / "state", url, access_in=30)  # access token expiring: HTTP renewal
        result = run_cli("session", *base(tmp_path / "state", url), home=tmp_path)
    assert result.returncode == ExitStatus.NETWORK
    one_line_error(result.stderr, "ConnectError")  # a NetworkError: nothing was sent


def test_interrupt_exit_code(tmp_path: Path) -> None:
    import signal

    state = tmp_path / "state"
    store = FileStore(state)
    with store.lock(account_key(URL, EMAIL), timeout=5):
        proc = subprocess.Popen(
            [sys.executable, "-m", "chatgpt_browser", "session", *base(state), "--lock-timeout", "60", "-v"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env(tmp_path),
        )
        assert proc.stderr is not None
        seen = []
        for line in proc.stderr:  # readiness: the job says it is waiting for the lock
            seen.append(line)
            if "waiting for the account lock" in line:
                break
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert any("waiting for the account lock" in line for line in seen)
    assert proc.returncode == ExitStatus.INTERRUPTED
    assert err.strip().splitlines()[-1] == "chatgpt-browser: interrupted (SIGINT)"


@pytest.mark.parametrize("command", ["ask", "moderate"])
def test_empty_message_is_bad_config(tmp_path: Path, command: str) -> None:
    seed(tmp_path / "state", URL)
    result = run_cli(command, *base(tmp_path / "state"), "  ", home=tmp_path)
    assert result.returncode == ExitStatus.BAD_CONFIG


def test_conversation_needs_parent(tmp_path: Path) -> None:
    seed(tmp_path / "state", URL)
    result = run_cli("ask", *base(tmp_path / "state"), "--conversation", "c-1", "hi", home=tmp_path)
    assert result.returncode == ExitStatus.BAD_CONFIG
    one_line_error(result.stderr, "ConfigError: --conversation needs --parent")


def test_emulator_subcommand_still_works(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "chatgpt_browser", "emulator", "--port", "0", "--auth-port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=cli_env(tmp_path),
    )
    try:
        assert proc.stdout is not None
        ready = json.loads(proc.stdout.readline())
        assert ready["url"].startswith("http://127.0.0.1:") and ready["accounts"]
    finally:
        proc.terminate()
        proc.wait(timeout=20)
