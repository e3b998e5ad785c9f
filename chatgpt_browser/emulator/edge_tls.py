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
from collections.abc import Coroutine

from aiohttp import web

from .fingerprint import MAX_HELLO_BYTES, Fingerprint, HelloError, fingerprint_records, hello_length
from .jsontypes import JSONObject

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
        self.recent: collections.deque[JSONObject] = collections.deque(maxlen=_RECENT_KEPT)
        self.dropped: collections.Counter[str] = collections.Counter()
        self.connections = 0

    def tag(self, fd: int, peer: str, fp: Fingerprint) -> None:
        self._by_fd[fd] = fp
        self.connections += 1
        self.recent.append({"peer": peer, "at": time.time(), **fp.to_dict()})

    def for_request(self, request: web.BaseRequest) -> Fingerprint | None:
        sock = request.transport.get_extra_info("socket") if request.transport else None
        return None if sock is None else self._by_fd.get(sock.fileno())

    def snapshot(self, limit: int = 100) -> JSONObject:
        return {
            "connections": self.connections,
            "dropped": dict(self.dropped),
            "recent": list(self.recent)[-limit:] if limit > 0 else [],
        }


def _peer(address: object) -> str:
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
        self._waiting: set[_HelloWait] = set()
        host, port = sock.getsockname()[:2]
        self._name = f"https://{host}:{port}"

    @property
    def name(self) -> str:
        return self._name

    async def start(self) -> None:
        await super().start()
        # Callbacks, not a coroutine per connection: accepting and peeking stay as cheap
        # as asyncio's own server (the fingerprint layer's cost is measured per connection).
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self._sock.fileno(), self._accept_ready)

    async def stop(self) -> None:
        with contextlib.suppress(ValueError, OSError):
            self._loop.remove_reader(self._sock.fileno())
        for waiting in list(self._waiting):
            waiting.finish()
            _close(waiting.conn)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._sock.close()
        await super().stop()

    def _accept_ready(self) -> None:
        for _ in range(64):  # a burst of connections is accepted in one go, as asyncio does
            try:
                conn, address = self._sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # e.g. EMFILE: pause accepting, keep serving the others
                log.warning("accept failed: %s", exc)
                self._loop.remove_reader(self._sock.fileno())
                self._loop.call_later(0.5, self._loop.add_reader, self._sock.fileno(), self._accept_ready)
                return
            conn.setblocking(False)
            _HelloWait(self, conn, _peer(address)).start()

    def _spawn(self, coroutine: Coroutine[object, object, None]) -> None:
        task = self._loop.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def hello_arrived(self, conn: socket.socket, peer: str, records: bytes) -> None:
        try:
            fp = fingerprint_records(records)
        except HelloError as exc:
            self._spawn(self._refuse(conn, peer, str(exc)))
            return
        self._registry.tag(conn.fileno(), peer, fp)
        self._spawn(self._handshake(conn, peer))

    async def _handshake(self, conn: socket.socket, peer: str) -> None:
        server = self._runner.server
        assert server is not None and self._ssl_context is not None
        try:
            await self._loop.connect_accepted_socket(
                server, conn, ssl=self._ssl_context, ssl_handshake_timeout=HANDSHAKE_TIMEOUT
            )
        except (OSError, ssl.SSLError, asyncio.TimeoutError, TimeoutError) as exc:
            self._drop(conn, peer, "handshake_failed", f"TLS handshake failed ({type(exc).__name__})")

    def hello_failed(self, conn: socket.socket, peer: str, why: str) -> None:
        self._spawn(self._refuse(conn, peer, why))

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


class _HelloWait:
    """One accepted connection whose ClientHello has not fully arrived yet (MSG_PEEK)."""

    def __init__(self, site: FingerprintSite, conn: socket.socket, peer: str) -> None:
        self.site, self.conn, self.peer = site, conn, peer
        self.loop = site._loop
        self.seen = -1
        self.done = False
        self.timer: asyncio.TimerHandle | None = None

    def start(self) -> None:
        self.site._waiting.add(self)
        self.timer = self.loop.call_later(self.site._hello_timeout, self._timed_out)
        self.loop.add_reader(self.conn.fileno(), self._readable)

    def finish(self) -> None:
        if not self.done:
            self.done = True
            self.site._waiting.discard(self)
            with contextlib.suppress(ValueError, OSError):
                self.loop.remove_reader(self.conn.fileno())
            if self.timer is not None:
                self.timer.cancel()

    def _timed_out(self) -> None:
        self.finish()
        self.site.hello_failed(
            self.conn, self.peer, f"no complete ClientHello within {self.site._hello_timeout:g} s"
        )

    def _resume(self) -> None:
        if not self.done:
            self.loop.add_reader(self.conn.fileno(), self._readable)

    def _readable(self) -> None:
        try:
            buffer = self.conn.recv(MAX_HELLO_BYTES + 5, socket.MSG_PEEK)
            size = None if not buffer else hello_length(buffer)
        except (BlockingIOError, InterruptedError):
            return
        except (HelloError, OSError) as exc:
            self.finish()
            self.site.hello_failed(self.conn, self.peer, str(exc))
            return
        if not buffer:
            self.finish()
            self.site.hello_failed(self.conn, self.peer, "connection closed before a ClientHello")
        elif size is not None:
            self.finish()
            self.site.hello_arrived(self.conn, self.peer, buffer[:size])
        elif len(buffer) == self.seen:  # part of the hello is here, the rest is not yet
            if _peer_closed(self.conn):
                self.finish()
                self.site.hello_failed(
                    self.conn, self.peer, f"truncated ClientHello ({len(buffer)} bytes, then EOF)"
                )
                return
            # The socket stays readable (peeked bytes are unread): look again shortly
            # instead of spinning.
            self.loop.remove_reader(self.conn.fileno())
            self.loop.call_later(0.005, self._resume)
        self.seen = len(buffer)


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
