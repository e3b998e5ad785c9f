"""Hostile and broken sites for the drills, each a real server on loopback.

- `black_hole`: accepts TCP connections and never answers a byte.
- `static_site`: a plain static HTTP server (no challenge, no login, no session API).
- `foreign`: a second origin (127.0.0.2, another host) that records every request.
- `hostile_site(kind)`: a site whose login leads to `foreign`: "navigate" (the Log in
  button opens a page there), "post" (the site's own form posts there), "redirect" (the
  login page redirects there).
- `cli_env`: environment for running the real `chatgpt-browser` against a URL.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

FOREIGN_HOST = "127.0.0.2"
LOGIN_BUTTON_PAGE = (
    '<!DOCTYPE html><html><head><title>Log in</title></head><body><div id="__next">'
    '<a class="btn-primary" href="{target}">Log in</a></div></body></html>'
)
FORM_PAGE = (
    "<!DOCTYPE html><html><head><title>Welcome back</title></head><body>"
    '<form method="post" action="{action}"><input id="username" name="username">'
    '<input id="password" name="password" type="password">'
    '<button type="submit">Continue</button></form></body></html>'
)


@contextlib.contextmanager
def serving(server: ThreadingHTTPServer) -> Iterator[ThreadingHTTPServer]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class BlackHole:
    """Accepts connections and keeps them open without ever answering."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _accept(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.accepted.append(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for conn in self.accepted:
            conn.close()
        self.sock.close()


@pytest.fixture
def black_hole() -> Iterator[BlackHole]:
    hole = BlackHole()
    try:
        yield hole
    finally:
        hole.close()


class Recorder(ThreadingHTTPServer):
    """A small site: `routes[path] -> (status, headers, body)`; records what it got."""

    daemon_threads = True

    def __init__(self, host: str, routes: dict[str, tuple[int, dict[str, str], str]] | None = None) -> None:
        super().__init__((host, 0), _Handler)
        self.routes = routes or {}
        self.requests: list[tuple[str, str, bytes]] = []

    @property
    def url(self) -> str:
        return f"http://{self.server_address[0]}:{self.server_port}"


class _Handler(BaseHTTPRequestHandler):
    server: Recorder

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.requests.append((self.command, self.path, body))
        path = self.path.split("?", 1)[0]
        status, headers, text = self.server.routes.get(
            path, (200, {}, "<!DOCTYPE html><html><head><title>Files</title></head><body>hello</body></html>")
        )
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", headers.pop("Content-Type", "text/html; charset=utf-8"))
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer


@pytest.fixture
def static_site() -> Iterator[Recorder]:
    with serving(Recorder("127.0.0.1")) as server:
        yield server  # type: ignore[misc]


@pytest.fixture
def foreign() -> Iterator[Recorder]:
    server = Recorder(FOREIGN_HOST)
    server.routes["/login"] = (200, {}, FORM_PAGE.format(action="/collect"))
    with serving(server):
        yield server


@pytest.fixture
def hostile_site(foreign: Recorder) -> Iterator[Callable[[str], Recorder]]:
    started: list[contextlib.ExitStack] = []

    def make(kind: str) -> Recorder:
        site = Recorder("127.0.0.1")
        if kind == "navigate":
            site.routes["/auth/login"] = (200, {}, LOGIN_BUTTON_PAGE.format(target=foreign.url + "/login"))
        elif kind == "post":
            site.routes["/auth/login"] = (200, {}, LOGIN_BUTTON_PAGE.format(target="/u/login"))
            site.routes["/u/login"] = (200, {}, FORM_PAGE.format(action=foreign.url + "/collect"))
        elif kind == "redirect":
            site.routes["/auth/login"] = (302, {"Location": foreign.url + "/auth/login"}, "")
            foreign.routes["/auth/login"] = (200, {}, LOGIN_BUTTON_PAGE.format(target="/login"))
        else:
            raise ValueError(kind)
        stack = contextlib.ExitStack()
        stack.enter_context(serving(site))
        started.append(stack)
        return site

    try:
        yield make
    finally:
        for stack in started:
            stack.close()


def cli_command() -> list[str]:
    return [sys.executable, "-m", "chatgpt_browser"]


@pytest.fixture
def cli_env(tmp_path: Path) -> Callable[..., dict[str, str]]:
    """Environment for the real CLI: a private state dir and a TOML file with short timeouts."""

    def make(url: str, *, harvest: float = 6.0, **extra: str) -> dict[str, str]:
        config = tmp_path / "config.toml"
        config.write_text(f"[timeouts]\nharvest = {harvest}\nchallenge = {harvest / 2}\nlogin = {harvest}\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHATGPT_BROWSER_")}
        env.update(
            CHATGPT_BROWSER_URL=url,
            CHATGPT_BROWSER_STATE_DIR=str(tmp_path / "state"),
            CHATGPT_BROWSER_CONFIG=str(config),
            **extra,
        )
        return env

    return make


def pytest_collection_modifyitems(items: list[Any]) -> None:
    for item in items:
        if "tests/drills" in str(item.fspath):
            item.add_marker(pytest.mark.drill)
