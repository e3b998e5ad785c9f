"""Builds the two aiohttp applications and runs them until told to stop.

The site app's middleware is the request pipeline: count the request, let the admin
API through, hard-block listed IPs (error 1020), run the Cloudflare layer, apply a
queued status/reset/html fault, then the route handler.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import secrets
import shutil
import signal
import socket
from collections.abc import Callable

from aiohttp import web

from .admin import PREFIX as ADMIN_PREFIX
from .admin import Admin
from .auth0 import Auth0
from .backend import Backend
from .challenge import ChallengeLayer
from .edge_tls import FingerprintSite
from .login_flow import LoginFlow
from .options import Options
from .site_auth import SiteAuth
from .site_pipeline import make_site_app
from .state import State

log = logging.getLogger(__name__)


@dataclasses.dataclass
class Servers:
    """The running emulator: what the JSON ready-line reports."""

    url: str
    auth_url: str
    admin_url: str
    admin_token: str
    ca_file: str | None
    state: State
    runners: list[web.AppRunner]

    async def close(self) -> None:
        for runner in self.runners:
            await runner.cleanup()
        if self.ca_file:  # the generated CA and key live in their own temporary folder
            shutil.rmtree(os.path.dirname(self.ca_file), ignore_errors=True)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def _origin(scheme: str, host: str, port: int) -> str:
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


async def start(options: Options) -> Servers:
    """Bind both origins, start serving, and return where they are."""
    ca_file, site_ssl, auth_ssl = None, None, None
    if options.tls:
        from .tls import make_certificates  # cryptography is only needed with --tls

        ca_file, site_ssl = make_certificates(options.host)
        auth_ssl = site_ssl
    scheme = "https" if options.tls else "http"
    site_sock, auth_sock = _bind(options.host, options.port), _bind(options.host, options.auth_port)
    site_url = _origin(scheme, options.host, site_sock.getsockname()[1])
    auth_url = _origin(scheme, options.host, auth_sock.getsockname()[1])

    state = State(options)
    flow = LoginFlow(state.clock)
    token = options.admin_token or secrets.token_urlsafe(24)
    # Chromium accepts Secure cookies from http://127.0.0.1 and localhost (loopback is a
    # secure context), so cookies carry Secure as on the real site unless the emulator is
    # served over plain http on a non-loopback address.
    secure = (
        options.tls or options.host in ("127.0.0.1", "localhost", "::1") or options.host.startswith("127.")
    )
    if not secure:
        log.warning(
            "serving plain http on %s: browsers will refuse the Secure session cookie and "
            "crypto.subtle (the challenge's proof of work); use --tls off loopback",
            options.host,
        )
    layer = ChallengeLayer(state, secure_cookies=secure)
    site_routes = [
        *SiteAuth(state, flow, site_url=site_url, auth_url=auth_url).routes(),
        *Backend(state).routes(),
        *Admin(state, flow, token).routes(),
    ]
    site_app = make_site_app(state, layer, site_routes)
    auth_app = web.Application()
    auth_app.add_routes(Auth0(state, flow, site_url=site_url).routes())

    runners = []
    for app, sock, ssl_context in ((site_app, site_sock, site_ssl), (auth_app, auth_sock, auth_ssl)):
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0, handle_signals=False)
        await runner.setup()
        site: web.BaseSite
        if ssl_context is not None and options.tls_fingerprint != "off":
            # Read each ClientHello before the handshake (off: aiohttp's own TLS, no capture).
            site = FingerprintSite(runner, sock, ssl_context=ssl_context, registry=state.tls)
        else:
            site = web.SockSite(runner, sock, ssl_context=ssl_context, backlog=1024)
        await site.start()
        runners.append(runner)
    return Servers(site_url, auth_url, site_url + ADMIN_PREFIX, token, ca_file, state, runners)


async def serve_forever(options: Options, on_ready: Callable[[Servers], None]) -> None:
    """Start, report readiness, then serve until SIGINT or SIGTERM."""
    servers = await start(options)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    watchdog = asyncio.create_task(_watch_parent(options.parent_pid, stop)) if options.parent_pid else None
    try:
        on_ready(servers)
        await stop.wait()
    finally:
        if watchdog is not None:
            watchdog.cancel()
        await servers.close()


async def _watch_parent(parent_pid: int, stop: asyncio.Event) -> None:
    """Stop when the parent dies (we get re-parented), even if it was SIGKILLed."""
    while os.getppid() == parent_pid:
        await asyncio.sleep(0.5)
    log.warning("parent process %d is gone; stopping", parent_pid)
    stop.set()
