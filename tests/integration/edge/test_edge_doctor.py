"""`chatgpt-browser doctor` on this machine against a --tls emulator (real Chromium, real CLI)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from chatgpt_browser.emulator.process import Emulator

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _doctor(emu: Emulator, home: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATGPT_BROWSER_")}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_STATE_HOME=str(home / ".state"))
    args = ["doctor", "--url", emu.url, "--ca-file", str(emu.ca_file), "--state-dir", str(home / "state")]
    return subprocess.run(
        [sys.executable, "-m", "chatgpt_browser", *args, *extra],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )


def test_doctor_passes_here_and_names_a_mismatched_transport(
    make_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    emu = make_emulator(tls=True)
    passed = _doctor(emu, tmp_path)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert passed.stdout.rstrip().endswith("all checks passed")
    assert "ok   tls_fingerprint  transport 'auto' matches the browser: t13" in passed.stdout

    failed = _doctor(emu, tmp_path, "--transport", "requests", "--format", "json")
    assert failed.returncode == 14, failed.stderr
    report = json.loads(failed.stdout)
    verdicts = {check["name"]: check for check in report["checks"]}
    assert report["ok"] is False and [n for n, c in verdicts.items() if not c["ok"]] == ["tls_fingerprint"]
    tls = verdicts["tls_fingerprint"]
    assert tls["verdict"].startswith("transport 'requests' presents t13i1811h1_85036bcba153_")
    assert "refuse every harvested bundle" in tls["verdict"] and "auto" in tls["hint"]
    # The emulator saw both clients' fingerprints on its trace page.
    ja4s = {entry["ja4"].split("_")[1] for entry in emu.admin.tls()["recent"]}
    assert {"8daaf6152771", "85036bcba153"} <= ja4s
