"""Fixtures shared by the session and CLI integration tests (session developer):
a real redis-server on a free loopback port, and a Chromium wrapper that counts launches."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.chromium import cdp_chromium


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_redis(port: int, proc: subprocess.Popen[bytes], deadline: float) -> bool:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(64).startswith(b"+PONG"):
                    return True
        except OSError:
            pass
        time.sleep(0.02)
    return False


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private redis-server (no persistence) for this test session; stopped afterwards."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("redis-server is not installed (scripts/setup installs it)")
    workdir: Path = tmp_path_factory.mktemp("redis")
    for _attempt in range(5):  # another program may grab the port between probe and bind
        port = _free_port()
        proc = subprocess.Popen(
            [server, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
             "--dir", str(workdir), "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            if _wait_for_redis(port, proc, time.monotonic() + 10):
                yield f"redis://127.0.0.1:{port}/0"
                return
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
    pytest.fail("could not start redis-server on a free loopback port")


class CountingChromium:
    """A wrapper executable that records every browser launch, then execs Chromium."""

    def __init__(self, folder: Path) -> None:
        real = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
        self.log = folder / "launches.log"
        self.path = folder / "chromium-counting"
        self.path.write_text(
            "#!/bin/sh\n"
            'case " $* " in *" --version "*) ;; *) echo "$$" >> "' + str(self.log) + '" ;; esac\n'
            f'exec "{real}" "$@"\n'
        )
        self.path.chmod(0o755)

    @property
    def launches(self) -> int:
        return len(self.log.read_text().splitlines()) if self.log.exists() else 0


@pytest.fixture
def counting_chromium(tmp_path: Path) -> CountingChromium:
    folder = tmp_path / "bin"
    folder.mkdir()
    return CountingChromium(folder)


@pytest.fixture
def remote_chromium(tmp_path: Path) -> Iterator[str]:
    """A Chromium of a "remote farm": listening for CDP on 127.0.0.1 (`support.chromium`)."""
    with cdp_chromium(tmp_path, "farm") as url:
        yield url
