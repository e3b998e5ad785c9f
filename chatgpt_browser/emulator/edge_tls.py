"""The `--tls` listener: read each connection's ClientHello, then let aiohttp serve it.

How it works: `FingerprintSite` accepts connections itself instead of letting asyncio's
server do it. For each one it *peeks* (MSG_PEEK) at the first TLS records until the
whole ClientHello is there, fingerprints it (fingerprint.py), and hands the untouched
socket to `loop.connect_accepted_socket` with the SSL context and aiohttp's protocol
factory, so OpenSSL still sees every byte. The aiohttp protocol object of the connection
is tagged with its fingerprint (`TlsRegistry.for_request(request)`), which is how the
Cloudflare layer knows which TLS client sent a request.

Bad input never reaches aiohttp: random bytes, a truncated hello or a stalled client are
logged and dropped (after draining what they sent, so the close is a FIN, not a reset),
and a plain HTTP request gets the edge's "400 plain HTTP request was sent to HTTPS port"
and a clean close. Each connection runs in its own task: one bad client never blocks
another.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import select
import socket
import ssl
import time
from typing import Any

from aiohttp import web

from .fingerprint import MAX_HELLO_BYTES, Fingerprint, HelloError, fingerprint_records, hello_length

log = logging.getLogger(__name__)

#: Seconds a client may take to send its whole ClientHello, then to finish the handshake.
HELLO_TIMEOUT = 10.0
HANDSHAKE_TIMEOUT = 10.0
_RECENT_KEPT = 1000
_PLAIN_HTTP_BODY = (
    b"<html><head><title>400 The plain HTTP request was sent to HTTPS port</title></head>"
    b"<body><center><h1>400 Bad Request</h1></center><hr><center>cloudflare</center></body></html>\r\n"
)
_PLAIN_HTTP_ANSWER = (
    b"HTTP/1.1 400 Bad Request\r\nServer: cloudflare\r\nContent-Type: text/html\r\n"
    b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(_PLAIN_HTTP_BODY)
) + _PLAIN_HTTP_BODY
_HTTP_METHODS = (b"GET ", b"POST", b"HEAD", b"PUT ", b"DELE", b"OPTI", b"PATC", b"CONN", b"TRAC")


class TlsRegistry:
    """The fingerprint each live connection presented, plus recent ones for the admin API."""

    def __init__(self) -> None:
        # Keyed by file descriptor: every accepted connection overwrites its descriptor's
        # entry before the handshake, so an entry left by a closed one is never read.
        self._by_fd: dict[int, Fingerprint] = {}
        self.recent: collections.deque[dict[str, Any]] = collections.deque(maxlen=_RECENT_KEPT)
        self.dropped: collections.Counter[str] = collections.Counter()
        self.connections = 0

    def tag(self, fd: int, peer: str, fp: Fingerprint) -> None:
        self._by_fd[fd] = fp
        self.connections += 1
        self.recent.append({"peer": peer, "at": time.time(), **fp.to_dict()})

    def for_request(self, request: web.BaseRequest) -> Fingerprint | None:
        sock = request.transport.get_extra_info("socket") if request.transport else None
        return None if sock is None else self._by_fd.get(sock.fileno())

    def snapshot(self, limit: int = 100) -> dict[str, Any]:
        return {
            "connections": self.connections,
            "dropped": dict(self.dropped),
            "recent": list(self.recent)[-limit:] if limit > 0 else [],
        }


def _peer(address: Any) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        host = f"[{address[0]}]" if ":" in str(address[0]) else str(address[0])
        return f"{host}:{address[1]}"
    return str(address)


def _peer_closed(conn: socket.socket) -> bool:
    """True when the client has shut down its side (data it sent may still be unread)."""
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLRDHUP | select.POLLHUP)
    return bool(poller.poll(0))


class FingerprintSite(web.BaseSite):
    """Like aiohttp's SockSite with an SSL context, plus the ClientHello capture."""

    def __init__(
        self,
        runner: web.BaseRunner,
        sock: socket.socket,
        *,
        ssl_context: ssl.SSLContext,
        registry: TlsRegistry,
        hello_timeout: float = HELLO_TIMEOUT,
    ) -> None:
        super().__init__(runner, ssl_context=ssl_context)
        self._sock = sock
        self._registry = registry
        self._hello_timeout = hello_timeout
        self._tasks: set[asyncio.Task[None]] = set()
        self._accepting: asyncio.Task[None] | None = None
        host, port = sock.getsockname()[:2]
        self._name = f"https://{host}:{port}"

    @property
    def name(self) -> str:
        return self._name

    async def start(self) -> None:
        await super().start()
        self._accepting = asyncio.get_running_loop().create_task(self._accept_forever())

    async def stop(self) -> None:
        tasks = [t for t in (self._accepting, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._sock.close()
        await super().stop()

    async def _accept_forever(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                conn, address = await loop.sock_accept(self._sock)
            except OSError as exc:  # e.g. EMFILE: keep serving the connections we have
                log.warning("accept failed: %s", exc)
                await asyncio.sleep(0.1)
                continue
            conn.setblocking(False)
            task = loop.create_task(self._serve(conn, _peer(address)))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _serve(self, conn: socket.socket, peer: str) -> None:
        loop = asyncio.get_running_loop()
        try:
            records = await asyncio.wait_for(self._peek_hello(conn), self._hello_timeout)
            fp = fingerprint_records(records)
        except HelloError as exc:
            await self._refuse(conn, peer, str(exc))
            return
        except (TimeoutError, asyncio.TimeoutError):
            await self._refuse(conn, peer, f"no complete ClientHello within {self._hello_timeout:g} s")
            return
        except OSError as exc:
            self._drop(conn, peer, "socket_error", str(exc))
            return
        server = self._runner.server
        assert server is not None and self._ssl_context is not None
        self._registry.tag(conn.fileno(), peer, fp)
        try:
            await loop.connect_accepted_socket(
                server, conn, ssl=self._ssl_context, ssl_handshake_timeout=HANDSHAKE_TIMEOUT
            )
        except (OSError, ssl.SSLError, asyncio.TimeoutError, TimeoutError) as exc:
            self._drop(conn, peer, "handshake_failed", f"TLS handshake failed ({type(exc).__name__})")

    async def _peek_hello(self, conn: socket.socket) -> bytes:
        """The ClientHello's records, still unread in the socket (MSG_PEEK)."""
        seen = -1
        while True:
            await _readable(conn)
            try:
                buffer = conn.recv(MAX_HELLO_BYTES + 5, socket.MSG_PEEK)
            except BlockingIOError:
                continue
            if not buffer:
                raise HelloError("connection closed before a ClientHello")
            size = hello_length(buffer)
            if size is not None:
                return buffer[:size]
            if len(buffer) == seen:  # part of the hello is here, the rest is not yet
                if _peer_closed(conn):
                    raise HelloError(f"truncated ClientHello ({len(buffer)} bytes, then EOF)")
                await asyncio.sleep(0.005)
            seen = len(buffer)

    async def _refuse(self, conn: socket.socket, peer: str, why: str) -> None:
        loop = asyncio.get_running_loop()
        with contextlib.suppress(OSError):
            head = conn.recv(8, socket.MSG_PEEK)
            if head[:4] in _HTTP_METHODS:
                _drain(conn)
                self._registry.dropped["plain_http"] += 1
                log.info("plain HTTP from %s on the TLS port: 400 and close", peer)
                await asyncio.wait_for(loop.sock_sendall(conn, _PLAIN_HTTP_ANSWER), 5.0)
                _close(conn)
                return
        self._drop(conn, peer, "bad_hello", why)

    def _drop(self, conn: socket.socket, peer: str, kind: str, why: str) -> None:
        self._registry.dropped[kind] += 1
        # A client refusing our certificate is ordinary; bytes that are no TLS are not.
        log.log(
            logging.INFO if kind == "handshake_failed" else logging.WARNING,
            "dropped connection from %s: %s",
            peer,
            why,
        )
        _drain(conn)
        _close(conn)


async def _readable(conn: socket.socket) -> None:
    loop = asyncio.get_running_loop()
    ready = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(conn.fileno(), wake)
    try:
        await ready
    finally:
        loop.remove_reader(conn.fileno())


def _drain(conn: socket.socket) -> None:
    """Read what the client sent, so closing sends a FIN (unread data would make it a RST)."""
    with contextlib.suppress(OSError):
        for _ in range(64):
            if not conn.recv(65536):
                break


def _close(conn: socket.socket) -> None:
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_WR)
    conn.close()
