"""A private X display (Xvfb) for the headed fallback when the machine has none.

Xvfb tells us its display number through `-displayfd` once it is ready, so there is no
guessing of free display numbers and no sleeping. On Linux the server also gets
PR_SET_PDEATHSIG, so it dies with us even if we are SIGKILLed.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

from ..errors import BrowserError

log = logging.getLogger(__name__)


def _die_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG = 1


def needs_virtual_display() -> bool:
    """True when a headed browser would have no display to open."""
    return (
        sys.platform.startswith("linux")
        and not os.environ.get("DISPLAY")
        and not os.environ.get("WAYLAND_DISPLAY")
    )


def has_xvfb() -> bool:
    """True when Xvfb is installed (a headed run can then get a private display)."""
    return shutil.which("Xvfb") is not None


@contextlib.contextmanager
def virtual_display(timeout: float = 10.0, size: str = "1280x800x24") -> Iterator[str]:
    """Run Xvfb for the duration of the block; yields the DISPLAY value (":N")."""
    binary = shutil.which("Xvfb")
    if binary is None:
        raise BrowserError("a headed browser needs a display: install Xvfb (Debian package `xvfb`)")
    read_fd, write_fd = os.pipe()
    try:
        proc = subprocess.Popen(
            [binary, "-displayfd", str(write_fd), "-nolisten", "tcp", "-screen", "0", size],
            pass_fds=(write_fd,),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
    finally:
        os.close(write_fd)
    try:
        display = _read_display(read_fd, proc, timeout)
        log.debug("Xvfb pid %s on :%s", proc.pid, display)
        yield f":{display}"
    finally:
        os.close(read_fd)
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _read_display(fd: int, proc: subprocess.Popen[bytes], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    data = b""
    while not data.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0 or proc.poll() is not None:
            proc.kill()
            proc.wait(timeout=5)
            raise BrowserError(f"Xvfb did not start within {timeout:.0f}s (exit status {proc.returncode})")
        ready, _, _ = select.select([fd], [], [], min(remaining, 0.5))
        if ready:
            chunk = os.read(fd, 64)
            if not chunk:
                continue
            data += chunk
    return data.decode().strip()


__all__ = ["has_xvfb", "needs_virtual_display", "virtual_display"]
