"""Issue 10, reproduced as a new cron user meets them, offline (a seeded store and a
port nothing listens on): each test runs the real `python -m chatgpt_browser`."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from cli_helpers import EMAIL, cli_env, one_line_error, run_cli, seed

from chatgpt_browser import __version__
from chatgpt_browser.cli.exit_codes import ExitStatus
from chatgpt_browser.credentials import Credentials
from chatgpt_browser.session.store import FileStore, account_key

URL = "http://127.0.0.1:9"  # nothing listens there
OTHER = "http://127.0.0.1:10"
ROOT = Path(__file__).resolve().parents[3]


def base(state: Path, url: str | None = URL) -> list[str]:
    return [*(["--url", url] if url else []), "--email", EMAIL, "--state-dir", str(state)]


# 1 -------------------------------------------------------------------------------
def test_min_ttl_beyond_a_renewal_is_bad_config(tmp_path: Path) -> None:
    seed(tmp_path / "s", URL)
    result = run_cli("session", *base(tmp_path / "s"), "--min-ttl", "3600", home=tmp_path)
    assert result.returncode == ExitStatus.BAD_CONFIG
    one_line_error(result.stderr, "ConfigError")
    assert "1800" in result.stderr  # names the lifetime a renewal gives


# 2 -------------------------------------------------------------------------------
def test_output_file_is_private_atomic_and_untouched_on_failure(tmp_path: Path) -> None:
    out = tmp_path / "cookies.txt"
    seed(tmp_path / "s", URL)
    ok = run_cli("session", *base(tmp_path / "s"), "--format", "netscape", "-o", str(out), home=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout == "" and (out.stat().st_mode & 0o777) == 0o600
    before = out.read_bytes()
    assert b"seeded-session" in before
    # a failing run (nothing stored for this account, no password): exit 4, file as it was
    failed = run_cli(
        "session", "--url", URL, "--email", "other@example.com", "--state-dir", str(tmp_path / "s"),
        "--executable", str(tmp_path / "no-chromium"), "-o", str(out), home=tmp_path,
    )  # fmt: skip
    assert failed.returncode == ExitStatus.HUMAN_NEEDED, failed.stderr
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".cookies")] == []


# 3 -------------------------------------------------------------------------------
def test_site_comes_from_the_store_when_not_given(tmp_path: Path) -> None:
    state = tmp_path / "s"
    seed(state, URL)
    session = run_cli("session", *base(state, None), home=tmp_path)
    assert session.returncode == 0, session.stderr
    assert json.loads(session.stdout)["site"] == URL
    logout = run_cli("logout", *base(state, None), home=tmp_path)
    assert logout.returncode == 0 and "removed stored credentials" in logout.stdout, logout.stderr
    assert FileStore(state).list_keys() == []


def test_two_stored_sites_need_a_choice(tmp_path: Path) -> None:
    state = tmp_path / "s"
    seed(state, URL)
    seed(state, OTHER)
    result = run_cli("session", *base(state, None), home=tmp_path)
    assert result.returncode == ExitStatus.BAD_CONFIG
    one_line_error(result.stderr, "ConfigError")
    assert URL in result.stderr and OTHER in result.stderr and "--url" in result.stderr


# 4 and 11 -------------------------------------------------------------------------
def test_quiet_is_quiet_and_the_log_file_keeps_recovered_events(tmp_path: Path) -> None:
    state = tmp_path / "s"
    seed(state, URL)
    record = FileStore(state).path(account_key(URL, EMAIL))
    record.chmod(0o644)  # loosened by a copy: repaired with a WARNING, the run succeeds
    log = tmp_path / "run.log"
    result = run_cli(
        "session", "-q", *base(state), "--log-file", str(log), "--log-format", "json", home=tmp_path
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert (record.stat().st_mode & 0o777) == 0o600
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert any(e["levelname"] == "WARNING" and "mode 644" in e["message"] for e in entries)


def test_verbosity_levels(tmp_path: Path) -> None:
    seed(tmp_path / "s", URL, access_in=30)  # HTTP renewal against a closed port: logs, then exit 8
    info = run_cli("session", "-v", *base(tmp_path / "s", None), home=tmp_path)
    debug = run_cli("session", "-vv", *base(tmp_path / "s", None), home=tmp_path)
    assert info.returncode == debug.returncode == ExitStatus.NETWORK
    assert " INFO " in info.stderr and " DEBUG " not in info.stderr
    assert " DEBUG " in debug.stderr


def test_json_errors_are_json(tmp_path: Path) -> None:
    result = run_cli("session", "--json", "--url", "ftp://x", "--email", EMAIL, home=tmp_path)
    assert result.returncode == ExitStatus.BAD_CONFIG
    error = json.loads(result.stderr.strip().splitlines()[-1])
    assert error["error"] == "ConfigError" and error["exit_code"] == 2 and "ftp://x" in error["message"]


# 5 and 7 --------------------------------------------------------------------------
def test_headed_without_a_display_exits_4_at_once(tmp_path: Path) -> None:
    env = {k: v for k, v in cli_env(tmp_path).items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "chatgpt_browser", "login", "--headed", *base(tmp_path / "s")],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert result.returncode == ExitStatus.HUMAN_NEEDED, result.stderr
    one_line_error(result.stderr, "HumanNeededError")
    assert "xvfb-run" in result.stderr and "display" in result.stderr
    assert time.monotonic() - started < 30  # generous: no login timeout was waited for


def test_no_password_means_no_browser(tmp_path: Path) -> None:
    # The executable does not exist: launching it would be exit 9, not 4.
    result = run_cli(
        "session", *base(tmp_path / "s"), "--executable", str(tmp_path / "no-chromium"), home=tmp_path
    )
    assert result.returncode == ExitStatus.HUMAN_NEEDED, result.stderr
    one_line_error(result.stderr, "HumanNeededError")
    assert "--password-env" in result.stderr
    assert not (tmp_path / "s" / "artifacts").exists() or not any((tmp_path / "s" / "artifacts").iterdir())
    forced = run_cli("login", "--force", *base(tmp_path / "s"), home=tmp_path, input="")
    assert forced.returncode == ExitStatus.BAD_CONFIG, forced.stderr


# 8 -------------------------------------------------------------------------------
def test_sigterm_is_143_with_one_line(tmp_path: Path) -> None:
    state = tmp_path / "s"
    store = FileStore(state)
    with store.lock(account_key(URL, EMAIL), timeout=5):
        proc = subprocess.Popen(
            [sys.executable, "-m", "chatgpt_browser", "session", *base(state), "--lock-timeout", "60"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env(tmp_path),
        )  # fmt: skip
        assert proc.stderr is not None
        for line in proc.stderr:  # readiness: waiting for the lock we hold
            if "waiting for the account lock" in line:
                break
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == ExitStatus.TERMINATED == 143
    assert err.strip().splitlines() == ["chatgpt-browser: terminated (SIGTERM)"]


# 9 -------------------------------------------------------------------------------
def test_status_check_fails_on_expired_unreadable_and_expiring(tmp_path: Path) -> None:
    state = tmp_path / "s"
    seed(state, URL, clearance_expires_at=time.time() + 600)
    fresh = run_cli("status", "--check", "--state-dir", str(state), home=tmp_path)
    assert fresh.returncode == 0, fresh.stderr
    tight = run_cli("status", "--check", "--min-ttl", "900", "--state-dir", str(state), home=tmp_path)
    assert tight.returncode == ExitStatus.CHECK_FAILED and "clearance expires in" in tight.stderr
    seed(state, OTHER, clearance_expires_at=time.time() - 5)
    expired = run_cli("status", "--check", "--format", "json", "--state-dir", str(state), home=tmp_path)
    assert expired.returncode == ExitStatus.CHECK_FAILED
    report = json.loads(expired.stdout)
    assert report["check"]["ok"] is False and "clearance expired" in report["check"]["problems"][0]
    (state / "credentials" / "broken.json").write_text("{not json")
    broken = run_cli("status", "--check", "--min-ttl", "0", "--state-dir", str(state), home=tmp_path)
    assert broken.returncode == ExitStatus.CHECK_FAILED and "unreadable" in broken.stderr
    plain = run_cli("status", "--state-dir", str(state), home=tmp_path)
    assert plain.returncode == 0  # without --check, status only shows


# 10 ------------------------------------------------------------------------------
def test_version_and_completion(tmp_path: Path) -> None:
    version = run_cli("--version", home=tmp_path)
    assert version.returncode == 0 and version.stdout.strip() == f"chatgpt-browser {__version__}"
    for shell in ("bash", "zsh"):
        script = run_cli("completion", shell, home=tmp_path)
        assert script.returncode == 0, script.stderr
        assert "chatgpt-browser" in script.stdout and "--min-ttl" in script.stdout
    bash = run_cli("completion", "bash", home=tmp_path).stdout
    check = subprocess.run(["bash", "-n"], input=bash, text=True, capture_output=True, timeout=30)
    assert check.returncode == 0, check.stderr


# 12 ------------------------------------------------------------------------------
def test_help_shows_only_acting_flags_with_env_and_defaults(tmp_path: Path) -> None:
    status = run_cli("status", "--help", home=tmp_path).stdout
    assert "--headed" not in status and "--proxy" not in status and "--check" in status
    session = run_cli("session", "--help", home=tmp_path).stdout
    assert "CHATGPT_BROWSER_URL" in session and "default: 300" in " ".join(session.split())
    demo = run_cli("demo", "-v", "--debug", "--help", home=tmp_path)
    assert demo.returncode == 0 and "emulator" in demo.stdout.split("options:")[0]
    assert "--password-env" not in run_cli("logout", "--help", home=tmp_path).stdout


def test_settings_page_lists_every_setting() -> None:
    from dataclasses import fields

    from chatgpt_browser.config import Settings, Timeouts

    page = (ROOT / "docs" / "settings.md").read_text()
    internal = {"url_source", "timeouts", "password"}
    for field in fields(Settings):
        if field.name not in internal:
            assert f"`{field.name}`" in page, field.name
            assert f"CHATGPT_BROWSER_{field.name.upper()}" in page or field.name == "password_env"
    for field in fields(Timeouts):
        assert f"`timeouts.{field.name}`" in page, field.name
    assert "CHATGPT_BROWSER_FLAVOUR" in page and "143" in page and "130" in page


def test_docs_link_only_inside_the_repository() -> None:
    import re

    for page in (ROOT / "docs").glob("*.md"):
        for target in re.findall(r"\]\(([^)#]+)", page.read_text()):
            if "://" in target:
                continue
            resolved = (page.parent / target).resolve()
            assert resolved.is_relative_to(ROOT) and resolved.exists(), f"{page.name}: {target}"
    assert "../shared/" not in (ROOT / "docs" / "emulator.md").read_text()  # outside the repository


# 13 (offline part) -------------------------------------------------------------------
def test_ask_stdin_must_be_utf8(tmp_path: Path) -> None:
    seed(tmp_path / "s", URL)
    result = subprocess.run(
        [sys.executable, "-m", "chatgpt_browser", "ask", "-", *base(tmp_path / "s")],
        input=b"caf\xe9\n", capture_output=True, timeout=60, env=cli_env(tmp_path),
    )  # fmt: skip
    assert result.returncode == ExitStatus.BAD_CONFIG, result.stderr
    assert b"not valid UTF-8" in result.stderr


# 14 ------------------------------------------------------------------------------
def test_json_bundle_reads_back_and_names_proxy_and_browser(tmp_path: Path) -> None:
    seed(tmp_path / "s", URL, proxy="http://user:hunter2@127.0.0.1:3128")
    result = run_cli(
        "session", *base(tmp_path / "s"), "--proxy", "http://user:hunter2@127.0.0.1:3128", home=tmp_path
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["proxy"] == "http://user:***@127.0.0.1:3128" and "hunter2" not in result.stdout
    assert data["browser_major"] == 120
    back = Credentials.from_json(result.stdout)
    assert back.session_token == data["session_token"] and back.site == URL


# 9/10 of the reliability issue --------------------------------------------------------
def test_bad_ca_file_and_proxy_fail_up_front(tmp_path: Path) -> None:
    seed(tmp_path / "s", URL)
    ca = run_cli("session", *base(tmp_path / "s"), "--ca-file", "/nonexistent.pem", home=tmp_path)
    assert ca.returncode == ExitStatus.BAD_CONFIG and "/nonexistent.pem" in ca.stderr
    proxy = run_cli("session", *base(tmp_path / "s"), "--proxy", "not a url", home=tmp_path)
    assert proxy.returncode == ExitStatus.BAD_CONFIG
    one_line_error(proxy.stderr, "ConfigError")


def test_password_file_must_be_utf8(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_bytes(b"p\xe4ss\n")
    result = run_cli("login", *base(tmp_path / "s"), "--password-file", str(secret), home=tmp_path)
    assert result.returncode == ExitStatus.BAD_CONFIG
    one_line_error(result.stderr, "ConfigError")
    assert "not valid UTF-8" in result.stderr and "Traceback" not in result.stderr
