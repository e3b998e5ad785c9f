"""Servers on loopback for tests: `serving` runs an http.server for a block; `BlackHole`
accepts and never answers."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from http.server import HTTPServer
from types import TracebackType
from typing import TypeVar

S = TypeVar("S", bound=HTTPServer)


@contextlib.contextmanager
def serving(server: S) -> Iterator[S]:
    """Serve `server` on a thread for the block; always shut it down and join the thread."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class BlackHole:
    """Accepts TCP connections, reads what arrives, and never answers.

    `requests` holds the request lines seen (e.g. "POST /backend-api/conversation HTTP/1.1"),
    so a test can prove a request was sent exactly once.
    """

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.2)
        self.port = int(self._server.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.requests: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._connections: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, name="black-hole", daemon=True)

    def __enter__(self) -> BlackHole:
        self._thread.start()
        return self

    def __exit__(self, *exc: object | TracebackType) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._server.close()
        for conn in self._connections:
            conn.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._connections.append(conn)
            threading.Thread(target=self._swallow, args=(conn,), daemon=True).start()

    def _swallow(self, conn: socket.socket) -> None:
        buffer = b""
        conn.settimeout(0.2)
        while not self._stop.is_set():
            try:
                chunk = conn.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            while b"\r\n" in buffer:
                line, _, buffer = buffer.partition(b"\r\n")
                text = line.decode("latin-1")
                if text.split(" ", 1)[0] in ("GET", "POST", "PUT", "DELETE", "HEAD"):
                    with self._lock:
                        self.requests.append(text)

    def count(self, prefix: str) -> int:
        with self._lock:
            return sum(1 for line in self.requests if line.startswith(prefix))
