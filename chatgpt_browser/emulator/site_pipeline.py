"""The site's request pipeline (an aiohttp middleware) and the site application.

Every request but the admin API's is counted, then: the challenge assets and trace
page pass; a blocked IP gets error 1020; without a valid clearance the Cloudflare
layer answers; a queued status/reset/html fault answers; else the route handler does.
"""

from __future__ import annotations

import logging
import socket
import struct

from aiohttp import web
from aiohttp.typedefs import Handler

from .admin import PREFIX as ADMIN_PREFIX
from .backend_wire import MESSAGES_401, TOO_MANY_PER_HOUR, detail
from .challenge import TOKEN_PARAM, ChallengeLayer, blocked_response, client_ip
from .edge import TRACE_PATH, edge_headers, hints_contradict, maybe_compress, trace_response
from .faults import Fault
from .html_site import CHALLENGES_CSS, capacity_page, html_error_page
from .state import State

log = logging.getLogger(__name__)

_CSS_PATH = "/cdn-cgi/styles/challenges.css"
_GATEWAY_PAGES = {
    502: "Bad gateway. The web server reported a bad gateway error. Error code 502",
    524: "A timeout occurred. The origin web server timed out responding to this request. Error code 524",
}
_HTML_FAULT_PAGE = (
    '<!DOCTYPE html><html><head><title>ChatGPT</title></head><body><div id="__next">'
    "<p>Something went wrong. An HTML page where JSON was expected.</p></div></body></html>"
)


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


class SitePipeline:
    """The middleware's steps, one method each."""

    def __init__(self, state: State, layer: ChallengeLayer) -> None:
        self.state = state
        self.options = state.options
        self.layer = layer

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(ADMIN_PREFIX):
            return await handler(request)
        status = 500
        try:
            response = await self._through_layers(request, handler)
            status = response.status
            maybe_compress(request, response)
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            self.state.stats.requests[f"{request.method} {_route_name(request)} {status}"] += 1

    async def _through_layers(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in (_CSS_PATH, TRACE_PATH):
            return await handler(request)
        ip = client_ip(request)
        if ip in self.options.blocked_ips:
            log.info("blocked IP %s (1020)", ip)
            return blocked_response(request)
        if self.options.challenge:
            refused = await self._edge_refusal(request)
            if refused is not None:
                return refused
        fault = self.state.faults.take(request.path, {"status", "reset", "html"})
        if fault is not None:
            self.state.stats.faults_applied += 1
            if fault.kind == "reset":
                _reset_connection(request)
                return web.Response(status=500)  # never sent: the connection is gone
            return fault_response(fault, request, self.layer)
        return await handler(request)

    async def _edge_refusal(self, request: web.Request) -> web.StreamResponse | None:
        """The Cloudflare layer's answer (a verdict or a challenge), or None: pass on."""
        if request.method == "POST" and TOKEN_PARAM in request.query:
            return await self.layer.verify(request)
        reason = self.layer.clearance_reason(request)
        if reason is not None:
            self.state.stats.clearance_rejections[reason] += 1
            if reason != "missing":
                log.info("clearance refused for %s %s: %s", request.method, request.path, reason)
            return self.layer.challenge(request)
        if self._hints_refused(request):
            self.state.stats.client_hint_mismatches += 1
            self.state.stats.clearance_rejections["client_hints_mismatch"] += 1
            log.warning("sec-ch-ua contradicts the User-Agent on %s: challenge", request.path)
            return self.layer.challenge(request)
        return None

    def _hints_refused(self, request: web.Request) -> bool:
        """The API refuses client hints that contradict the UA the clearance was earned with."""
        hints = request.headers.get("sec-ch-ua")
        if hints is None or not self.options.checks_client_hints:
            return False
        if not request.path.startswith(("/backend-api/", "/api/")):
            return False
        return hints_contradict(hints, request.headers.get("User-Agent", ""))


def make_site_app(state: State, layer: ChallengeLayer, routes: list[web.RouteDef]) -> web.Application:
    async def css(request: web.Request) -> web.StreamResponse:
        return web.Response(text=CHALLENGES_CSS, content_type="text/css")

    async def trace(request: web.Request) -> web.StreamResponse:
        return trace_response(request, state.tls)

    app = web.Application(middlewares=[SitePipeline(state, layer).middleware])
    app.on_response_prepare.append(edge_headers)
    app.add_routes([*routes, web.get(_CSS_PATH, css), web.get(TRACE_PATH, trace)])
    return app
