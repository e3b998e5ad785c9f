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
import struct
from collections.abc import Callable
from typing import Any

from aiohttp import web

from .admin import PREFIX as ADMIN_PREFIX
from .admin import Admin
from .auth0 import Auth0
from .backend import MESSAGES_401, TOO_MANY_PER_HOUR, Backend, detail
from .challenge import TOKEN_PARAM, ChallengeLayer, blocked_response, client_ip
from .edge import TRACE_PATH, edge_headers, hints_contradict, maybe_compress, trace_response
from .edge_tls import FingerprintSite
from .faults import Fault
from .html_site import CHALLENGES_CSS, capacity_page, html_error_page
from .login_flow import LoginFlow
from .options import Options
from .site_auth import SiteAuth
from .state import State

log = logging.getLogger(__name__)

_GATEWAY_PAGES = {
    502: "Bad gateway. The web server reported a bad gateway error. Error code 502",
    524: "A timeout occurred. The origin web server timed out responding to this request. Error code 524",
}
_HTML_FAULT_PAGE = (
    '<!DOCTYPE html><html><head><title>ChatGPT</title></head><body><div id="__next">'
    "<p>Something went wrong. An HTML page where JSON was expected.</p></div></body></html>"
)


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


def _reset_connection(request: web.Request) -> None:
    """Drop the connection with a TCP RST (SO_LINGER 0), as a crashing proxy would."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def _route_name(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else request.path


def fault_response(fault: Fault, request: web.Request, layer: ChallengeLayer) -> web.StreamResponse:
    """The canned answer for a queued 'status' or 'html' fault."""
    headers = dict(fault.headers or {})
    if fault.kind == "html":
        return web.Response(text=_HTML_FAULT_PAGE, content_type="text/html", headers=headers)
    status, body = int(fault.status or 500), fault.body
    if body is None:
        if status == 403:
            return layer.challenge(request)
        if status == 401:
            body = {
                "detail": {
                    "message": MESSAGES_401["token_expired"],
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "token_expired",
                }
            }
        elif status == 429:
            headers.setdefault("Retry-After", "3600")
            return detail(429, TOO_MANY_PER_HOUR, headers=headers)
        elif status == 503:
            return web.Response(status=503, text=capacity_page(), content_type="text/html", headers=headers)
        elif status in _GATEWAY_PAGES:
            page = html_error_page(status, _GATEWAY_PAGES[status])
            return web.Response(status=status, text=page, content_type="text/html", headers=headers)
        else:
            body = {"detail": "Something went wrong. If this issue persists please contact us."}
    if isinstance(body, str):
        kind = "text/html" if body.lstrip().startswith("<") else "text/plain"
        return web.Response(status=status, text=body, content_type=kind, headers=headers)
    return web.json_response(body, status=status, headers=headers)


def make_site_app(state: State, layer: ChallengeLayer, routes: list[web.RouteDef]) -> web.Application:
    options = state.options

    @web.middleware
    async def pipeline(request: web.Request, handler: Callable[[web.Request], Any]) -> web.StreamResponse:
        if request.path.startswith(ADMIN_PREFIX):
            return await handler(request)
        status = 500
        try:
            response = await _through_layers(request, handler)
            status = response.status
            maybe_compress(request, response)
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            state.stats.requests[f"{request.method} {_route_name(request)} {status}"] += 1

    async def _through_layers(
        request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        if request.path in ("/cdn-cgi/styles/challenges.css", TRACE_PATH):
            return await handler(request)
        ip = client_ip(request)
        if ip in options.blocked_ips:
            log.info("blocked IP %s (1020)", ip)
            return blocked_response(request)
        if options.challenge:
            if request.method == "POST" and TOKEN_PARAM in request.query:
                return await layer.verify(request)
            reason = layer.clearance_reason(request)
            if reason is not None:
                state.stats.clearance_rejections[reason] += 1
                if reason != "missing":
                    log.info("clearance refused for %s %s: %s", request.method, request.path, reason)
                return layer.challenge(request)
            if _hints_refused(request):
                state.stats.client_hint_mismatches += 1
                state.stats.clearance_rejections["client_hints_mismatch"] += 1
                log.warning("sec-ch-ua contradicts the User-Agent on %s: challenge", request.path)
                return layer.challenge(request)
        fault = state.faults.take(request.path, {"status", "reset", "html"})
        if fault is not None:
            state.stats.faults_applied += 1
            if fault.kind == "reset":
                _reset_connection(request)
                return web.Response(status=500)  # never sent: the connection is gone
            return fault_response(fault, request, layer)
        response: web.StreamResponse = await handler(request)
        return response

    def _hints_refused(request: web.Request) -> bool:
        """The API refuses client hints that contradict the UA the clearance was earned with."""
        hints = request.headers.get("sec-ch-ua")
        if hints is None or not options.checks_client_hints:
            return False
        if not request.path.startswith(("/backend-api/", "/api/")):
            return False
        return hints_contradict(hints, request.headers.get("User-Agent", ""))

    async def css(request: web.Request) -> web.StreamResponse:
        return web.Response(text=CHALLENGES_CSS, content_type="text/css")

    async def trace(request: web.Request) -> web.StreamResponse:
        return trace_response(request, state.tls)

    app = web.Application(middlewares=[pipeline])
    app.on_response_prepare.append(edge_headers)
    app.add_routes([*routes, web.get("/cdn-cgi/styles/challenges.css", css), web.get(TRACE_PATH, trace)])
    return app


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
