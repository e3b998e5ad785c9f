"""Servers for the browser drills (fixtures in conftest.py): a recording site (the black hole
is tests/support's)."""

from __future__ import annotations

import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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


def cli_command() -> list[str]:
    return [sys.executable, "-m", "chatgpt_browser"]
