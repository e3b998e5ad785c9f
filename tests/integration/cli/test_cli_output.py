"""What the CLI shows: stage progress only on a terminal; --verbose logs without secrets."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import cli_env, run_cli

from chatgpt_browser.emulator.process import Emulator

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def args_for(emu: Emulator, tmp_path: Path, chromium: Any) -> list[str]:
    return [
        "--url", emu.url, "--email", emu.account.email, "--state-dir", str(tmp_path / "state"),
        "--executable", str(chromium.path), "--password-env", "DEMO_PASSWORD",
    ]  # fmt: skip


def read_all(fd: int) -> str:
    chunks = []
    while True:
        try:
            data = os.read(fd, 4096)
        except OSError:  # EIO: the other side is closed
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks).decode(errors="replace")


def test_progress_on_a_terminal_only(emu: Emulator, tmp_path: Path, counting_chromium: Any) -> None:
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "chatgpt_browser", "session", *args_for(emu, tmp_path, counting_chromium)],
        stdout=subprocess.PIPE,
        stderr=slave,
        env=cli_env(tmp_path, DEMO_PASSWORD=emu.account.password),
    )
    os.close(slave)
    try:
        terminal = read_all(master)
        out, _ = proc.communicate(timeout=120)
    finally:
        os.close(master)
    assert proc.returncode == 0, terminal
    assert "opening the browser (empty)" in terminal and "renewed by browser (harvest)" in terminal
    assert json.loads(out)["session_token"]  # stdout stays machine-readable

    # the same renewal without a terminal: plain stage lines; with -q nothing at all
    emu.admin.expire("clearance")
    plain = run_cli(
        "session", *args_for(emu, tmp_path, counting_chromium), "--renew",
        home=tmp_path, DEMO_PASSWORD=emu.account.password,
    )  # fmt: skip
    assert plain.returncode == 0, plain.stderr
    assert "opening the browser (forced)" in plain.stderr and "\x1b[" not in plain.stderr
    emu.admin.expire("clearance")
    quiet = run_cli(
        "session", "-q", *args_for(emu, tmp_path, counting_chromium), "--renew",
        home=tmp_path, DEMO_PASSWORD=emu.account.password,
    )  # fmt: skip
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_verbose_logs_redact_secrets(emu: Emulator, tmp_path: Path, counting_chromium: Any) -> None:
    result = run_cli(
        "session", "-vv", *args_for(emu, tmp_path, counting_chromium),
        home=tmp_path, DEMO_PASSWORD=emu.account.password,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    bundle = json.loads(result.stdout)
    assert "DEBUG" in result.stderr and "renewed by browser" in result.stderr
    for secret in (
        bundle["session_token"],
        bundle["clearance_token"],
        bundle["access_token"],
        emu.account.password,
    ):
        assert secret and secret not in result.stderr
