"""Issue 10 items that need the site: the real CLI against the real emulator and a real
Chromium (one login per module; each test then uses the stored bundle)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import cli_env, one_line_error, run_cli

from chatgpt_browser.cli.exit_codes import ExitStatus
from chatgpt_browser.emulator.process import Emulator

pytestmark = [pytest.mark.browser, pytest.mark.slow]


class Account:
    def __init__(self, emu: Emulator, home: Path) -> None:
        self.emu, self.home, self.state = emu, home, home / "state"
        self.pw = {"DEMO_PASSWORD": emu.account.password}

    def args(self, *extra: str) -> list[str]:
        return [
            "--url", self.emu.url, "--email", self.emu.account.email, "--state-dir", str(self.state),
            "--password-env", "DEMO_PASSWORD", *extra,
        ]  # fmt: skip

    def run(self, command: str, *extra: str, **kwargs: str) -> subprocess.CompletedProcess[str]:
        return run_cli(command, *self.args(*extra), home=self.home, **{**self.pw, **kwargs})


@pytest.fixture(scope="module")
def account(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Account]:
    with Emulator(dwell=0.3) as emu:
        acct = Account(emu, tmp_path_factory.mktemp("cron-site"))
        login = acct.run("login", "-q")
        assert login.returncode == 0, login.stderr
        yield acct


# 6 -------------------------------------------------------------------------------
def test_login_with_a_wrong_password_fails_and_keeps_the_session(account: Account) -> None:
    wrong = run_cli(
        "login", "--password-stdin", *account.args()[:-2], home=account.home, input="wrong-password\n"
    )
    assert wrong.returncode == ExitStatus.AUTH_FAILED, wrong.stderr
    assert "wrong-password" not in wrong.stderr
    again = account.run("session", "--renew", "-q")  # the saved profile still re-clears
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["credentials"]["source"] == "reclear", "the saved session was lost"


# 13 ------------------------------------------------------------------------------
def test_invalid_requests_are_exit_2_not_network(account: Account) -> None:
    long = account.run("ask", "x" * 17000)
    assert long.returncode == ExitStatus.BAD_CONFIG, long.stderr
    one_line_error(long.stderr, "MessageTooLongError")
    bogus = account.run("ask", "--conversation", "nope", "--parent", "nope", "hello")
    assert bogus.returncode == ExitStatus.BAD_CONFIG, bogus.stderr


def test_ask_from_stdin_drops_the_final_newline(account: Account) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "chatgpt_browser", "ask", "-q", "-", *account.args()],
        input="hi there\n", capture_output=True, text=True, timeout=120,
        env=cli_env(account.home, **account.pw),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('You said: "hi there" ')


def test_moderate_quiet_still_fails_when_flagged(account: Account) -> None:
    flagged = account.run("moderate", "-q", "please flagme now")
    assert flagged.returncode == ExitStatus.FLAGGED and flagged.stdout == ""
    allowed = account.run("moderate", "-q", "--no-fail-on-flag", "please flagme now")
    assert allowed.returncode == 0
    clean = account.run("moderate", "-q", "a kind sentence")
    assert clean.returncode == 0


# formats --------------------------------------------------------------------------
def test_storage_state_loads_into_a_real_chromium(account: Account) -> None:
    from playwright.sync_api import sync_playwright

    out = account.home / "state.json"
    result = account.run("session", "--format", "storage-state", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert (out.stat().st_mode & 0o777) == 0o600
    bundle = json.loads(account.run("session").stdout)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium",
            args=["--no-sandbox", "--disable-background-networking", "--no-first-run"],
        )
        try:
            context = browser.new_context(storage_state=str(out), user_agent=bundle["user_agent"])
            names = {c["name"]: c["value"] for c in context.cookies(account.emu.url)}
            assert names["cf_clearance"] == bundle["clearance_token"]
            assert names["__Secure-next-auth.session-token"] == bundle["session_token"]
            page = context.new_page()
            answer = page.goto(account.emu.url + "/api/auth/session")
            assert answer is not None and answer.status == 200
            assert json.loads(page.inner_text("body"))["user"]["email"] == account.emu.account.email
        finally:
            browser.close()


def test_curl_config_file_works_with_real_curl(account: Account) -> None:
    out = account.home / "curl.cfg"
    result = account.run("session", "--format", "curl", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert (out.stat().st_mode & 0o777) == 0o600
    curl = subprocess.run(
        ["curl", "-sS", "-K", str(out), account.emu.url + "/api/auth/session", "-w", "\n%{http_code}"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    body, _, code = curl.stdout.rpartition("\n")
    assert curl.returncode == 0, curl.stderr
    assert code == "200", body
    assert json.loads(body)["user"]["email"] == account.emu.account.email


# 8 (during a harvest) -------------------------------------------------------------
def test_sigterm_during_a_harvest_is_143_quietly(tmp_path: Path) -> None:
    with Emulator(dwell=5) as emu:  # a long challenge: the signal lands mid-harvest
        args = ["--url", emu.url, "--email", emu.account.email, "--state-dir", str(tmp_path / "s"),
                "--password-env", "PW"]  # fmt: skip
        proc = subprocess.Popen(
            [sys.executable, "-m", "chatgpt_browser", "session", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=cli_env(tmp_path, PW=emu.account.password), start_new_session=True,
        )  # fmt: skip
        assert proc.stderr is not None
        seen = []
        for line in proc.stderr:
            seen.append(line)
            if "opening the browser" in line:
                break
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    lines = [line for line in err.splitlines() if line.strip()]
    assert proc.returncode == ExitStatus.TERMINATED, "".join(seen) + err
    assert lines[-1] == "chatgpt-browser: terminated (SIGTERM)"
    assert "Future exception" not in err and "Traceback" not in err
    with pytest.raises(ProcessLookupError):  # nothing of its process group is left
        os.killpg(proc.pid, 0)


# 15 ------------------------------------------------------------------------------
def test_environment_proxy_is_ignored_unless_trust_env(account: Account) -> None:
    with socket.socket() as closed:  # bound, never listening: a proxy that refuses
        closed.bind(("127.0.0.1", 0))
        proxy = f"http://127.0.0.1:{closed.getsockname()[1]}"
        env = {"HTTP_PROXY": proxy, "http_proxy": proxy, "NO_PROXY": "", "no_proxy": ""}
        ignored = account.run("ask", "-q", "hello", **env)
        assert ignored.returncode == 0, ignored.stderr
        trusted = account.run("ask", "-q", "--trust-env", "hello", **env)
    assert trusted.returncode == ExitStatus.NETWORK, trusted.stderr


# Client call errors: CORE's classes reach the documented exit codes -------------------
CONVERSATION = "/backend-api/conversation"


def _posts(account: Account, status: int) -> int:
    return int(account.emu.admin.stats()["requests"].get(f"POST {CONVERSATION} {status}", 0))


def test_a_post_that_may_have_been_processed_is_exit_16_with_its_ids(account: Account) -> None:
    before = _posts(account, 500)
    account.emu.admin.fault(CONVERSATION, "status", status=500, count=1)
    result = account.run("ask", "--json", "post me once")
    assert result.returncode == ExitStatus.MESSAGE_MAYBE_SENT, result.stderr
    error = json.loads(result.stderr.splitlines()[-1])
    assert error["error"] == "MessageMaybeSentError" and error["exit_code"] == 16
    assert error["message_id"] and error["parent_message_id"]
    assert _posts(account, 500) == before + 1  # sent once, never replayed
    plain = account.run("ask", "-q", "the next one goes")  # the fault is used up
    assert plain.returncode == 0, plain.stderr


def test_text_that_is_not_utf8_is_exit_2_and_nothing_is_sent(account: Account) -> None:
    before = _posts(account, 200)
    command = [sys.executable, "-m", "chatgpt_browser", "ask", *account.args()]
    env = cli_env(account.home, **account.pw)
    piped = subprocess.run([*command, "-"], input=b"\xffhello\n", capture_output=True, timeout=120, env=env)
    stderr = piped.stderr.decode("utf-8", "replace")
    assert piped.returncode == ExitStatus.BAD_CONFIG, stderr
    one_line_error(stderr, "InputError")
    # An argument in another encoding reaches Python as lone surrogates: the client's check.
    argv = subprocess.run([*command, b"caf\xe9"], capture_output=True, timeout=120, env=env)
    stderr = argv.stderr.decode("utf-8", "replace")
    assert argv.returncode == ExitStatus.BAD_CONFIG, stderr
    one_line_error(stderr, "InputError")
    assert _posts(account, 200) == before


def test_ask_timeout_bounds_the_whole_call(account: Account) -> None:
    config = account.home / "long-stall.toml"
    config.write_text("[timeouts]\nstream_stall = 600\n")  # only --timeout can end the wait
    account.emu.admin.fault(CONVERSATION, "stall", after_events=1, stall_seconds=120)
    # Generous bound (the deadline is 2 s): without --timeout it would wait out the 120 s stall.
    result = account.run("ask", "--config", str(config), "--timeout", "2", "stall", timeout=90)
    assert result.returncode == ExitStatus.NETWORK, result.stderr
    one_line_error(result.stderr, "ChatGPTTimeoutError")
    bad = account.run("ask", "--timeout", "0", "hello")
    assert bad.returncode == ExitStatus.BAD_CONFIG, bad.stderr
