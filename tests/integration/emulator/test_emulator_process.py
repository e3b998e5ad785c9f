"""The emulator as a process: the CLI's one JSON line, clean stop, TLS, accounts file."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from emu_helpers import TIMEOUT, UA, clear

from chatgpt_browser.emulator.process import Emulator, EmulatorStartError


def _start_cli(*args: str) -> tuple[subprocess.Popen[str], dict[str, object]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "chatgpt_browser", "emulator", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()  # bounded by the test timeout
    return process, json.loads(line)


def test_cli_prints_exactly_one_json_line_and_stops_on_sigterm() -> None:
    process, info = _start_cli("--account", "cli@example.com:pw-cli")
    try:
        assert {"url", "auth_url", "admin_url", "admin_token", "accounts", "pid", "ca_file"} <= set(info)
        assert info["pid"] == process.pid and info["ca_file"] is None
        assert info["accounts"][0] == {  # type: ignore[index]
            "email": "demo@example.com",
            "password": "demo-password",
            "totp_secret": None,
            "captcha": False,
        }
        assert info["accounts"][1]["email"] == "cli@example.com"  # type: ignore[index]
        assert requests.get(f"{info['url']}/api/auth/session", timeout=TIMEOUT).status_code == 403
    finally:
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=10)
    assert process.returncode == 0
    assert rest == ""  # nothing but the ready line on stdout


def test_cli_rejects_bad_options() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "chatgpt_browser.emulator", "--account", "no-colon"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert "EMAIL:PASSWORD" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--port", "99999"],
        ["--auth-port", "-1"],
        ["--pow-difficulty", "300"],
        ["--dwell", "-1"],
        ["--token-delay", "nan"],
        ["--clearance-ttl", "0"],
        ["--rate-limit", "-3"],
        ["--max-message-chars", "0"],
        ["--block-ip", "not-an-ip"],
    ],
)
def test_cli_rejects_out_of_range_options(args: list[str]) -> None:
    # Each used to start a useless server (a challenge no browser can solve) or crash
    # with a traceback; a clear refusal names the option instead.
    result = subprocess.run(
        [sys.executable, "-m", "chatgpt_browser.emulator", *args],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert "Traceback" not in result.stderr and args[0] in result.stderr


def test_context_manager_stops_the_process() -> None:
    with Emulator() as emu:
        pid = emu.pid
        assert emu.running and emu.account.email == "demo@example.com"
        assert "demo-password" not in repr(emu.account)
    assert not emu.running
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_start_failure_is_reported() -> None:
    with Emulator() as first:
        port = int(first.url.rsplit(":", 1)[1])
        with pytest.raises(EmulatorStartError):
            Emulator(port=port, stderr=subprocess.DEVNULL).start()


def test_tls_serves_both_origins_with_a_trusted_ca(tmp_path: Path) -> None:
    # About certificates and origins, so the challenge is answered by `requests` here: the
    # TLS fingerprint layer, which refuses that, is off (tests/integration/edge/ covers it).
    with Emulator(tls=True, pow_difficulty=4, tls_fingerprint="off") as emu:
        assert emu.url.startswith("https://127.0.0.1:") and emu.auth_url.startswith("https://")
        assert emu.ca_file and Path(emu.ca_file).is_file()
        css = requests.get(emu.url + "/cdn-cgi/styles/challenges.css", verify=emu.ca_file, timeout=TIMEOUT)
        assert css.status_code == 200
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(emu.url + "/cdn-cgi/styles/challenges.css", timeout=TIMEOUT)
        authorize = requests.get(
            emu.auth_url + "/u/login/identifier?state=x", verify=emu.ca_file, timeout=TIMEOUT
        )
        assert authorize.status_code == 400  # reached over TLS; the state is unknown
        with requests.Session() as http:
            # REQUESTS_CA_BUNDLE in the environment would override Session.verify.
            http.trust_env = False
            http.verify = emu.ca_file
            clearance = clear(emu.url, session=http)
            # Over https the jar itself keeps and sends the Secure cookie.
            ok = http.get(emu.url + "/api/auth/session", headers={"User-Agent": UA}, timeout=TIMEOUT)
            assert ok.status_code == 200 and http.cookies["cf_clearance"] == clearance
        assert emu.admin.stats()["challenges"]["passed"] == 1
        assert ssl.PEM_cert_to_DER_cert(Path(emu.ca_file).read_text())  # a real PEM certificate
    assert not Path(emu.ca_file).exists()  # removed with the server


def test_accounts_file(tmp_path: Path) -> None:
    accounts = tmp_path / "accounts.json"
    accounts.write_text(
        json.dumps([{"email": "file@example.com", "password": "pw-file", "totp_secret": "JBSWY3DPEHPK3PXP"}])
    )
    with Emulator(extra_args=["--accounts-file", str(accounts)]) as emu:
        emails = [a.email for a in emu.accounts]
        assert emails == ["demo@example.com", "file@example.com"]
        assert emu.accounts[1].totp_secret == "JBSWY3DPEHPK3PXP"


def test_the_server_exits_when_its_parent_is_killed() -> None:
    script = (
        "import sys\n"
        "from chatgpt_browser.emulator.process import Emulator\n"
        "emu = Emulator().start()\n"
        "print(emu.pid, flush=True)\n"
        "sys.stdin.read()\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    server_pid = int(parent.stdout.readline())
    parent.kill()  # no __exit__, no cleanup: the server must notice on its own
    parent.wait(timeout=10)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.kill(server_pid, 0)
        except ProcessLookupError:
            break
        _reap(server_pid)
        time.sleep(0.1)
    else:
        os.kill(server_pid, signal.SIGKILL)
        raise AssertionError("emulator outlived its killed parent")
    assert parent.stdin is not None
    parent.stdin.close()
    parent.stdout.close()


def _reap(pid: int) -> None:
    """The orphan is re-parented (to init or a subreaper, maybe us): reap it if it is ours."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
