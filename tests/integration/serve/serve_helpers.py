"""Start `chatgpt-browser serve` as a real process for the tests, and stop it."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import requests

from chatgpt_browser.emulator.process import Emulator


class Serve:
    """One `serve` process: its ready line, its stderr (a file) and its lifetime."""

    def __init__(self, args: Sequence[str], *, env: dict[str, str], log: Path) -> None:
        self.log = log
        self._log_handle = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "chatgpt_browser", "serve", *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._log_handle, env=env,
        )  # fmt: skip
        self.info: dict[str, Any] = {}

    def wait_ready(self, timeout: float = 30.0) -> Serve:
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        buffer = b""
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            while b"\n" not in buffer:
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"serve not ready in {timeout}s: {self.stderr()}"
                if selector.select(timeout=remaining):
                    chunk = os.read(self.process.stdout.fileno(), 4096)
                    assert chunk, f"serve exited with {self.process.wait(5)}: {self.stderr()}"
                    buffer += chunk
        self.info = json.loads(buffer.split(b"\n", 1)[0])
        return self

    @property
    def url(self) -> str:
        return str(self.info["url"])

    def stderr(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.get(self.url + path, timeout=kwargs.pop("timeout", 120), **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.post(self.url + path, timeout=kwargs.pop("timeout", 120), **kwargs)

    def terminate(self, timeout: float = 60.0) -> int:
        if self._log_handle.closed:
            return int(self.process.returncode)
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
            raise
        finally:
            if self.process.stdout is not None:
                self.process.stdout.close()
            self._log_handle.close()
        return code


def serve_env(emu: Emulator, home: Path, **extra: str) -> dict[str, str]:
    return {"HOME": str(home), "PATH": "/usr/bin:/bin", "DEMO_PASSWORD": emu.account.password, **extra}


def serve_args(emu: Emulator, state: Path, executable: str, *more: str) -> list[str]:
    return ["--url", emu.url, "--email", emu.account.email, "--password-env", "DEMO_PASSWORD",
            "--state-dir", str(state), "--executable", executable, "--port", "0", *more]  # fmt: skip


def processes_with(marker: str) -> list[int]:
    """PIDs whose command line contains `marker` (e.g. a state folder)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return [pid for pid in found if pid != os.getpid()]


class Recorder:
    """A loopback HTTP server that records what reaches it: GET answers a small page,
    `/redirect?to=URL` answers 302 to URL, POST echoes its form body."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import parse_qs, urlsplit

        seen: list[dict[str, str]] = []
        self.seen = seen

        class Handler(BaseHTTPRequestHandler):
            def _record(self, body: str = "") -> None:
                seen.append({"method": self.command, "path": self.path, "body": body,
                             "cookie": self.headers.get("Cookie", ""),
                             "content-type": self.headers.get("Content-Type", "")})  # fmt: skip

            def do_GET(self) -> None:
                self._record()
                target = parse_qs(urlsplit(self.path).query).get("to")
                if urlsplit(self.path).path == "/redirect" and target:
                    self.send_response(302)
                    self.send_header("Location", target[0])
                    self.end_headers()
                    return
                self._page(b"<html><body>recorded</body></html>")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode()
                self._record(body)
                self._page(f"<html><body><pre id='echo'>{body}</pre></body></html>".encode())

            def _page(self, data: bytes) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Set-Cookie", "recorder=1; Path=/")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(10)
