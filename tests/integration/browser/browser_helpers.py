"""Helpers and fixtures of the browser tests: a real Chromium with a DevTools port, a small
authenticating forward proxy, and a helper to list the browser processes of a profile."""

from __future__ import annotations

import base64
import contextlib
import http.client
import os
import select
import socket
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from support.chromium import cdp_chromium
from support.servers import serving
from support.waiting import wait_until

from chatgpt_browser.browser.launch import BASE_ARGS, browser_processes, group_members

CHROMIUM = "/usr/bin/chromium"


def chromium_pids(profile_dir: Path) -> list[int]:
    return browser_processes(profile_dir)


def process_groups(pids: list[int]) -> set[int]:
    groups = set()
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            groups.add(os.getpgid(pid))
    return groups


def live_members(groups: set[int]) -> list[int]:
    return group_members(groups)


# -- a Chromium started by hand with --remote-debugging-port ---------------------------


@pytest.fixture
def debug_chromium(tmp_path: Path) -> Iterator[str]:
    """A headless Chromium listening for CDP on 127.0.0.1, with every launch's switches
    (`support.chromium.cdp_chromium`); afterwards none of its processes is left."""
    try:
        with cdp_chromium(tmp_path, flags=BASE_ARGS) as url:
            yield url
    finally:
        wait_until(lambda: not chromium_pids(tmp_path / "cdp-profile"), 10, "the CDP browser to exit")


# -- an authenticating HTTP forward proxy ------------------------------------------------


def login_harvest(emu: Any, tmp_path: Path, **kwargs: Any) -> Any:
    """`harvest()` of the emulator's demo account unless told otherwise, artifacts in tmp_path."""
    from chatgpt_browser import harvest

    kwargs.setdefault("email", emu.account.email)
    kwargs.setdefault("password", emu.account.password)
    kwargs.setdefault("artifacts_dir", tmp_path / "artifacts")
    kwargs.setdefault("timeout", 60.0)
    return harvest(emu.url, **kwargs)


class ForwardProxy(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, username: str, password: str) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.expected = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        self.forwarded: list[str] = []
        self.rejected = 0

    @property
    def url_without_credentials(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"


class _ProxyHandler(BaseHTTPRequestHandler):
    server: ForwardProxy
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _authorised(self) -> bool:
        if self.headers.get("Proxy-Authorization") == self.server.expected:
            return True
        self.server.rejected += 1
        self.send_response(407)
        self.send_header("Proxy-Authenticate", 'Basic realm="test"')
        self.send_header("Content-Length", "0")
        self.end_headers()
        return False

    def do_CONNECT(self) -> None:
        if not self._authorised():
            return
        host, _, port = self.path.partition(":")
        upstream = socket.create_connection((host, int(port)), timeout=30)
        self.server.forwarded.append(f"CONNECT {self.path}")
        self.send_response(200, "Connection established")
        self.end_headers()
        sockets = [self.connection, upstream]
        try:
            while True:
                ready, _, _ = select.select(sockets, [], [], 30)
                if not ready:
                    return
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (upstream if sock is self.connection else self.connection).sendall(data)
        finally:
            upstream.close()
            self.close_connection = True

    def _forward(self) -> None:
        if not self._authorised():
            return
        target = urlsplit(self.path)
        assert target.hostname in ("127.0.0.1", "localhost"), "tests only ever reach loopback"
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {
            k: v
            for k, v in self.headers.items()
            if k.lower() not in ("proxy-authorization", "proxy-connection")
        }
        headers["Connection"] = "close"
        conn = http.client.HTTPConnection(target.hostname, target.port or 80, timeout=30)
        path = target.path + (f"?{target.query}" if target.query else "")
        conn.request(self.command, path or "/", body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        self.server.forwarded.append(f"{self.command} {path}")
        self.send_response(response.status, response.reason)
        for key, value in response.getheaders():
            if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        conn.close()

    do_GET = do_POST = do_HEAD = _forward


@pytest.fixture
def forward_proxy() -> Iterator[ForwardProxy]:
    with serving(ForwardProxy("proxyuser", "proxy-s3cret")) as server:
        yield server


# -- a page server that records the request headers the browser sent ---------------------


class EchoServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _EchoHandler)
        self.seen: list[dict[str, str]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}/"


class _EchoHandler(BaseHTTPRequestHandler):
    server: EchoServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.server.seen.append({k.lower(): v for k, v in self.headers.items()})
        body = b"<!DOCTYPE html><html><head><title>echo</title></head><body>echo</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def echo_server() -> Iterator[EchoServer]:
    with serving(EchoServer()) as server:
        yield server


# -- one emulator for the browser tests ----------------------------------------------------

TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
TOTP_ACCOUNT = {"email": "totp@example.com", "password": "totp-password", "totp_secret": TOTP_SECRET}
CAPTCHA_ACCOUNT = {"email": "captcha@example.com", "password": "captcha-password", "captcha": True}
# An 80-bit key (16 base32 letters), as many sites still hand out.
TOTP80_ACCOUNT = {
    "email": "totp80@example.com",
    "password": "totp80-password",
    "totp_secret": "JBSWY3DPEHPK3PXP",
}
# The emulator's options the tests may change; the `emu` fixture puts them back.
DEFAULT_OPTIONS = {"interactive": False, "at_capacity": False, "blocked_ips": [], "dwell": 0.0}


@pytest.fixture(scope="session")
def browser_emulator() -> Iterator[Any]:
    from chatgpt_browser import Emulator

    # Low proof-of-work difficulty and no dwell keep the browser tests fast.
    with Emulator(
        dwell=0.0, pow_difficulty=8, accounts=[TOTP_ACCOUNT, CAPTCHA_ACCOUNT, TOTP80_ACCOUNT]
    ) as emulator:
        yield emulator


@pytest.fixture
def emu(browser_emulator: Any) -> Iterator[Any]:
    """The browser tests' emulator, with options and faults reset after each test.

    One emulator serves the whole browser group (starting one per test costs time);
    tests that change its options do so through `configure`, undone here.
    """
    yield browser_emulator
    browser_emulator.admin.configure(**DEFAULT_OPTIONS)
    browser_emulator.admin.clear_faults()
