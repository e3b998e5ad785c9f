"""A newcomer follows docs/deploy.md (the README points there) against the emulator:
the one-time steps, then the crontab's two lines, run as cron would (`sh -c`, a bare
environment). Done when: a 0600 cookie file appears and `status --check` monitors it."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import time
from pathlib import Path

import pytest
from cli_helpers import seed

from chatgpt_browser.cli.exit_codes import ExitStatus
from chatgpt_browser.emulator.process import Emulator

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "deploy.md"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.S)


def cron_env(home: Path) -> dict[str, str]:
    # What cron gives a job: HOME, a short PATH (plus where the package is installed).
    bin_dir = str(ROOT / ".venv" / "bin")
    return {"HOME": str(home), "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}


def test_deploy_walkthrough_gives_a_cron_job_and_monitoring(tmp_path: Path) -> None:
    with Emulator(dwell=0.3) as emu:
        once = blocks("sh")[0]
        once = "\n".join(line for line in once.splitlines() if not line.startswith("scripts/setup"))
        once = once.replace("https://chat.openai.com", emu.url).replace("me@example.com", emu.account.email)
        once = once.replace("'the-password'", f"'{emu.account.password}'")
        setup = subprocess.run(
            ["bash", "-euc", once], capture_output=True, text=True, timeout=300, env=cron_env(tmp_path)
        )
        assert setup.returncode == 0, setup.stderr
        password = tmp_path / ".config" / "chatgpt-browser" / "password"
        assert stat.S_IMODE(password.stat().st_mode) == 0o600

        crontab = [line for line in blocks("crontab")[0].splitlines() if line[:1] in "*0123456789"]
        renew, monitor = (line.split(None, 5)[5] for line in crontab)
        job = subprocess.run(
            ["sh", "-c", renew], capture_output=True, text=True, timeout=300, env=cron_env(tmp_path)
        )
        assert job.returncode == 0 and job.stdout == job.stderr == "", job.stderr  # cron mails nothing
        cookies = tmp_path / ".cache" / "chatgpt-cookies.txt"
        assert stat.S_IMODE(cookies.stat().st_mode) == 0o600
        assert "__Secure-next-auth.session-token" in cookies.read_text()
        assert os.stat(cookies).st_size > 0

        watch = subprocess.run(
            ["sh", "-c", monitor], capture_output=True, text=True, timeout=60, env=cron_env(tmp_path)
        )
        assert watch.returncode == 0 and watch.stdout == watch.stderr == "", watch.stderr

        # the monitor speaks up when a record goes stale (here: another account's, expired)
        state = tmp_path / ".local" / "state" / "chatgpt-browser"
        seed(state, emu.url, email="stale@example.com", clearance_expires_at=time.time() - 1)
        stale = subprocess.run(
            ["sh", "-c", monitor], capture_output=True, text=True, timeout=60, env=cron_env(tmp_path)
        )
        assert stale.returncode == ExitStatus.CHECK_FAILED
        assert "stale@example.com" in stale.stderr and stale.stdout == ""
