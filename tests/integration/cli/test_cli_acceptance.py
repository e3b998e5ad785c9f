"""Acceptance checks found by using the CLI from the outside: each one was a defect
(a traceback, a silent half-answer, a crash) before its fix. Real processes, the real
emulator; none of these launches a browser."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import EMAIL, one_line_error, run_cli, seed

from chatgpt_browser.cli.exit_codes import ExitStatus
from chatgpt_browser.emulator.process import Emulator
from chatgpt_browser.session.store import FileStore, account_key

URL = "http://127.0.0.1:9"  # nothing listens there


def base(state: Path, url: str = URL, email: str = EMAIL) -> list[str]:
    return ["--url", url, "--email", email, "--state-dir", str(state)]


def seed_live(emu: Emulator, state: Path, access_in: float = 3600) -> Any:
    """A bundle the emulator accepts, as an earlier harvest would have stored it."""
    ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0.0.0 Safari/537.36"
    session = emu.admin.issue_session(emu.account.email)
    return seed(
        state,
        emu.url,
        email=emu.account.email,
        user_agent=ua,
        clearance_token=emu.admin.issue_clearance(ua),
        session_token=session["session_token"],
        access_token=session["access_token"],
        access_in=access_in,
    )


@pytest.mark.parametrize("command", ["status", "session"])
def test_state_dir_that_is_a_file_is_a_store_error(tmp_path: Path, command: str) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("I am a file")
    result = run_cli(command, *base(not_a_folder / "state"), home=tmp_path)
    assert result.returncode == ExitStatus.STORE, result.stderr
    one_line_error(result.stderr, "StoreError")
    assert "Traceback" not in result.stderr
    assert not_a_folder.read_text() == "I am a file"


@pytest.mark.parametrize(
    ("secret", "why"),
    [("not base32!", "base32"), ("JBSW Y3DP", "bits")],
)
def test_unusable_totp_secret_is_bad_config_before_any_browser(
    tmp_path: Path, counting_chromium: Any, secret: str, why: str
) -> None:
    result = run_cli(
        "session",
        *base(tmp_path / "state"),
        "--executable",
        str(counting_chromium.path),
        "--password-env",
        "MY_PW",
        home=tmp_path,
        MY_PW="pw-123456",
        CHATGPT_BROWSER_TOTP_SECRET=secret,
    )
    assert result.returncode == ExitStatus.BAD_CONFIG, result.stderr
    one_line_error(result.stderr, "ConfigError")
    assert why in result.stderr and "TOTP" in result.stderr
    assert secret not in result.stderr  # the secret itself is never echoed
    assert counting_chromium.launches == 0


def test_ask_says_when_the_stream_ended_without_done(emulator: Emulator, tmp_path: Path) -> None:
    state = tmp_path / "state"
    seed_live(emulator, state)
    args = base(state, emulator.url, emulator.account.email)
    emulator.admin.fault("/backend-api/conversation", "no_done")
    human = run_cli("ask", *args, "Hello there", home=tmp_path)
    assert human.returncode == 0, human.stderr
    assert human.stdout.startswith('You said: "Hello there"')
    warnings = [line for line in human.stderr.splitlines() if line.startswith("WARNING: ")]
    assert any("[DONE]" in line and "incomplete" in line for line in warnings), human.stderr

    emulator.admin.fault("/backend-api/conversation", "no_done")
    cron = run_cli("ask", "--json", *args, "Hello there", home=tmp_path)
    assert cron.returncode == 0, cron.stderr
    assert json.loads(cron.stdout)["incomplete"] is True
    whole = run_cli("ask", "--json", *args, "Hello there", home=tmp_path)
    assert json.loads(whole.stdout)["incomplete"] is False
    assert FileStore(state).read(account_key(emulator.url, emulator.account.email)) is not None


@pytest.mark.parametrize(
    "proxy",
    [
        "ftp://127.0.0.1:3128",
        "http://user:hunter2pass@127.0.0.1:notaport",
        "http://:3128",
        "http://127.0.0.1:99999",
    ],
)
def test_malformed_proxy_is_bad_config_before_any_browser(
    tmp_path: Path, counting_chromium: Any, proxy: str
) -> None:
    result = run_cli(
        "session",
        *base(tmp_path / "state"),
        "--executable",
        str(counting_chromium.path),
        "--password-env",
        "MY_PW",
        home=tmp_path,
        MY_PW="pw-123456",
        CHATGPT_BROWSER_PROXY=proxy,
    )
    assert result.returncode == ExitStatus.BAD_CONFIG, result.stderr
    one_line_error(result.stderr, "ConfigError")
    assert "proxy" in result.stderr and "hunter2pass" not in result.stderr
    assert counting_chromium.launches == 0


@pytest.mark.parametrize(
    "argv",
    [
        ["session", "--min-ttl", "abc"],
        ["sessio"],
        ["session", "--format", "xml"],
        ["login", "--password", "hunter2"],
        [],
    ],
)
def test_argument_errors_are_one_line(tmp_path: Path, argv: list[str]) -> None:
    result = run_cli(*argv, home=tmp_path)
    assert result.returncode == ExitStatus.BAD_CONFIG
    one_line_error(result.stderr, "ConfigError")
    assert "--help" in result.stderr and "hunter2" not in result.stderr


def test_failure_artifacts_stay_private_and_bounded(tmp_path: Path, counting_chromium: Any) -> None:
    # A cron job failing every few minutes for days must not fill the disk with
    # screenshots, and those pages (an account's chat) are nobody else's business.
    artifacts = tmp_path / "state" / "artifacts"
    artifacts.mkdir(parents=True, mode=0o755)
    artifacts.chmod(0o755)
    for minute in range(40):
        old = artifacts / f"20260101-00{minute:02d}00-NetworkError"
        old.mkdir()
        (old / "page.html").write_text("<html></html>")
    mine = artifacts / "notes-of-the-user"
    mine.mkdir()
    result = run_cli(
        "session",
        *base(tmp_path / "state"),
        "--executable",
        str(counting_chromium.path),
        "--password-env",
        "MY_PW",
        home=tmp_path,
        MY_PW="pw-123456",
        CHATGPT_BROWSER_TOTP_SECRET="not base32!",
    )
    assert result.returncode == ExitStatus.BAD_CONFIG, result.stderr
    kept = sorted(p.name for p in artifacts.iterdir() if p.name[:8].isdigit())
    assert 0 < len(kept) <= 20 and kept[-1] == "20260101-003900-NetworkError"
    assert mine.is_dir()  # only our own folders are pruned
    assert (artifacts.stat().st_mode & 0o777) == 0o700


def test_status_says_why_a_record_is_unreadable(tmp_path: Path) -> None:
    state = tmp_path / "state"
    seed(state, URL)
    record = FileStore(state).path(account_key(URL, EMAIL))
    record.write_text("{ truncated")
    result = run_cli("status", "--state-dir", str(state), home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "unreadable" in result.stdout and "not valid JSON" in result.stdout
    assert record.read_text() == "{ truncated"


@pytest.mark.parametrize(
    ("toml", "flags"),
    [
        ('[timeouts]\nharvest = "abc"\n', []),
        ("[timeouts]\nlock = -1\n", []),
        ("[timeouts]\nread = true\n", []),
        ("", ["--lock-timeout", "-5"]),
        ("", ["--lock-timeout", "nan"]),
    ],
)
def test_bad_timeouts_are_bad_config(tmp_path: Path, toml: str, flags: list[str]) -> None:
    config = tmp_path / "c.toml"
    config.write_text(toml)
    result = run_cli(
        "status", "--config", str(config), "--state-dir", str(tmp_path / "s"), *flags, home=tmp_path
    )
    assert result.returncode == ExitStatus.BAD_CONFIG, result.stderr
    one_line_error(result.stderr, "ConfigError")


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/chat", "http://127.0.0.1:9/?x=1", "http://127.0.0.1:99999"]
)
def test_site_url_must_be_the_root(tmp_path: Path, url: str) -> None:
    # Pasting the chat page's address (…/chat) used to send every API call to
    # /chat/backend-api/... and report a confusing 404 "conversation not found".
    result = run_cli("session", *base(tmp_path / "state", url), home=tmp_path)
    assert result.returncode == ExitStatus.BAD_CONFIG, result.stderr
    one_line_error(result.stderr, "ConfigError: site URL")


@pytest.mark.parametrize("debug", [False, True])
def test_cdp_url_secrets_stay_out_of_errors(emulator: Emulator, tmp_path: Path, debug: bool) -> None:
    # Remote browser farms (Browserless) take a token in the URL; a failed connection
    # used to print it. The emulator is not a CDP endpoint: the connection fails with 403.
    port = emulator.url.rsplit(":", 1)[1]
    cdp = f"http://farm:cdpsecretpw@127.0.0.1:{port}/?token=cdpsecrettoken"
    result = run_cli(
        "session",
        *base(tmp_path / "state", emulator.url, emulator.account.email),
        *(["--debug"] if debug else []),
        "--password-env",
        "MY_PW",
        home=tmp_path,
        MY_PW=emulator.account.password,
        CHATGPT_BROWSER_CDP_URL=cdp,
    )
    assert result.returncode == ExitStatus.BROWSER, result.stderr
    if not debug:
        one_line_error(result.stderr, "BrowserError")
    assert "403" in result.stderr
    assert "cdpsecretpw" not in result.stderr and "cdpsecrettoken" not in result.stderr


def test_password_on_stdin_never_becomes_the_message(emulator: Emulator, tmp_path: Path) -> None:
    # `--password-stdin` with `-` (text from stdin too): the first line is the password.
    # With a fresh stored bundle no login needs it, and it used to be sent to the site
    # as part of the message (and echoed back on stdout).
    state = tmp_path / "state"
    seed_live(emulator, state)
    args = base(state, emulator.url, emulator.account.email)
    result = run_cli(
        "ask", *args, "--json", "--password-stdin", "-", input="s3cr3t-pw\nHello there\n", home=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "s3cr3t-pw" not in result.stdout + result.stderr
    assert json.loads(result.stdout)["response"].startswith('You said: "Hello there')


def test_ca_file_lets_the_cli_trust_a_private_ca(make_emulator: Any, tmp_path: Path) -> None:
    # A TLS site with a private CA (a TLS-inspecting corporate proxy, `emulator --tls`):
    # verification stays on, and `--ca-file` / CHATGPT_BROWSER_CA_FILE names the CA.
    emu = make_emulator(tls=True)
    assert emu.url.startswith("https://") and emu.ca_file
    state = tmp_path / "state"
    seed_live(emu, state)
    args = base(state, emu.url, emu.account.email)
    untrusted = run_cli("ask", *args, "Hello there", home=tmp_path)
    assert untrusted.returncode == ExitStatus.NETWORK, untrusted.stderr
    one_line_error(untrusted.stderr, "ConnectError")  # a NetworkError: nothing was sent
    trusted = run_cli("ask", *args, "--ca-file", emu.ca_file, "--json", "Hello there", home=tmp_path)
    assert trusted.returncode == 0, trusted.stderr
    assert json.loads(trusted.stdout)["response"].startswith('You said: "Hello there')
    seed_live(emu, state, access_in=30)  # an access token about to expire: HTTP renewal
    refused = run_cli("session", *args, home=tmp_path)
    assert refused.returncode == ExitStatus.NETWORK, refused.stderr
    renewed = run_cli("session", *args, home=tmp_path, CHATGPT_BROWSER_CA_FILE=emu.ca_file)
    assert renewed.returncode == 0, renewed.stderr
    assert json.loads(renewed.stdout)["access_token_expires_at"] > time.time() + 600


def test_password_env_in_the_config_file_is_read_only_for_a_login(tmp_path: Path) -> None:
    url = "http://127.0.0.1:9"  # never contacted: the stored bundle is fresh
    config = tmp_path / "config.toml"
    state = tmp_path / "state"
    config.write_text(f'url = "{url}"\nemail = "{EMAIL}"\npassword_env = "UNSET_PASSWORD_VAR"\n')
    seed(state, url)
    for command in (["status"], ["session", "--format", "cookie-header"]):
        done = run_cli(*command, "--config", str(config), "--state-dir", str(state), home=tmp_path)
        assert done.returncode == 0, done.stderr
    # a login does need it, and says which variable is missing
    login = run_cli("login", "--config", str(config), "--state-dir", str(state), home=tmp_path)
    assert login.returncode == 2
    one_line_error(login.stderr, "ConfigError")
    assert "UNSET_PASSWORD_VAR" in login.stderr
