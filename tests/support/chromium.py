"""One Chromium listening for CDP on loopback, started and stopped by a test."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

from support.waiting import wait_until

FLAGS = ("--disable-background-networking", "--disable-component-update", "--no-first-run")


@contextlib.contextmanager
def cdp_chromium(workdir: Path, name: str = "cdp", flags: Sequence[str] = FLAGS) -> Iterator[str]:
    """A headless Chromium listening for CDP on 127.0.0.1; yields its http:// URL.

    Its output goes to a file (Debian's launcher writes to stderr; a pipe nobody reads
    could stall it); the port is read from DevToolsActivePort. The process group is
    stopped afterwards, and the block must leave the browser running (a CDP user does
    not own the browser).
    """
    chromium = os.environ.get("CHATGPT_BROWSER_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    profile = workdir / f"{name}-profile"
    with (workdir / f"{name}-chromium.log").open("wb") as log:
        proc = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", *flags, "--remote-debugging-address=127.0.0.1",
             "--remote-debugging-port=0", f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
        )  # fmt: skip
    try:
        port_file = profile / "DevToolsActivePort"

        def port() -> str | None:
            assert proc.poll() is None, "chromium exited early"
            lines = port_file.read_text().splitlines() if port_file.exists() else []
            return lines[0] if lines and lines[0].isdigit() else None

        yield f"http://127.0.0.1:{wait_until(port, 30, 'the DevTools port')}"
        assert proc.poll() is None, "connecting over CDP must leave the browser running"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
