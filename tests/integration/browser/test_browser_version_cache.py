"""The browser version probe (`chromium --version`) runs once per binary, across processes."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

PROBE = """
import sys
from pathlib import Path
from chatgpt_browser.browser.executable import browser_version
print(browser_version(sys.argv[1], cache=Path(sys.argv[2])))
"""


def _fake_browser(tmp_path: Path, version: str) -> tuple[Path, Path]:
    calls = tmp_path / "calls"
    binary = tmp_path / "chromium"
    binary.write_text(f'#!/bin/sh\necho x >> "{calls}"\necho "Chromium {version} built on Debian"\n')
    binary.chmod(0o755)
    return binary, calls


def _probe(binary: Path, cache: Path) -> str:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(binary), str(cache)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return out.stdout.strip()


def test_the_version_is_probed_once_and_cached_privately(tmp_path: Path) -> None:
    binary, calls = _fake_browser(tmp_path, "156.0.1.2")
    cache = tmp_path / "cache" / "browser-versions.json"
    assert _probe(binary, cache) == "156.0.1.2"
    assert _probe(binary, cache) == "156.0.1.2"
    assert calls.read_text().count("x") == 1, "the second process read the cache"
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600


def test_an_upgraded_binary_is_probed_again(tmp_path: Path) -> None:
    binary, calls = _fake_browser(tmp_path, "156.0.1.2")
    cache = tmp_path / "versions.json"
    assert _probe(binary, cache) == "156.0.1.2"
    binary.write_text(binary.read_text().replace("156.0.1.2", "157.0.0.1") + "# upgraded\n")
    assert _probe(binary, cache) == "157.0.0.1"
    assert calls.read_text().count("x") == 2
