"""A small HTTP forward proxy on loopback that counts and records what passes through.

Enough for the client's plain-http requests to the emulator: it takes an absolute-form
request (`POST http://127.0.0.1:port/path HTTP/1.1`), forwards it in origin form to
the target (loopback only) with `Connection: close`, and streams the answer back byte
for byte (event streams arrive as they are written). One request per connection.
Each request is recorded with its raw header lines, so a test can see exactly what
the client sent, duplicates included.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import socket
import socketserver
import threading
from urllib.parse import urlsplit

_MAX_HEAD = 64 * 1024


@dataclasses.dataclass(frozen=True)
class ProxiedRequest:
    method: str
    path: str
    header_lines: tuple[tuple[str, str], ...]

    def values(self, name: str) -> list[str]:
        """Every value sent under `name` (case-insensitive), in order."""
        return [v for n, v in self.header_lines if n.lower() == name.lower()]


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        client: socket.socket = self.request
        client.settimeout(30)
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(65536)
            if not chunk or len(head) > _MAX_HEAD:
                return
            head += chunk
        head, _, rest = head.partition(b"\r\n\r\n")
        request_line, *lines = head.decode("latin-1").split("\r\n")
        method, target, version = request_line.split(" ", 2)
        headers = [(n.strip(), v.strip()) for n, _, v in (line.partition(":") for line in lines)]
        url = urlsplit(target)
        assert url.hostname and ipaddress.ip_address(url.hostname).is_loopback, "loopback targets only"
        path = url.path + (f"?{url.query}" if url.query else "")
        self.server.record(ProxiedRequest(method, path, tuple(headers)))
        length = next((int(v) for n, v in headers if n.lower() == "content-length"), 0)
        while len(rest) < length:
            chunk = client.recv(65536)
            if not chunk:
                return
            rest += chunk
        hop = {"connection", "proxy-connection", "keep-alive"}
        forwarded = [f"{method} {path} {version}"]
        forwarded += [f"{n}: {v}" for n, v in headers if n.lower() not in hop]
        forwarded.append("Connection: close")
        with socket.create_connection((url.hostname, url.port or 80), timeout=30) as upstream:
            upstream.sendall("\r\n".join(forwarded).encode("latin-1") + b"\r\n\r\n" + rest)
            while True:
                try:
                    data = upstream.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                try:
                    client.sendall(data)
                except OSError:  # the client went away (abort, timeout): drop the upstream too
                    return


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[ProxiedRequest] = []
        self._lock = threading.Lock()

    def record(self, request: ProxiedRequest) -> None:
        with self._lock:
            self.requests.append(request)


class ForwardProxy:
    """Start with `with ForwardProxy() as proxy:`; `proxy.url`, `proxy.count`, `proxy.requests`."""

    def __init__(self) -> None:
        self._server = _Server()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="forward-proxy",
            daemon=True,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def requests(self) -> list[ProxiedRequest]:
        with self._server._lock:
            return list(self._server.requests)

    @property
    def count(self) -> int:
        return len(self.requests)

    def __enter__(self) -> ForwardProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
