"""The aiohttp application: middlewares (API key, rate limit, errors, one log line per
request), the probes (`/health`, `/ready`, `/metrics`) and the two APIs' routes."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from ..errors import (
    BrowserError,
    ChallengeNotClearedError,
    ChatGPTBrowserError,
    ChatGPTError,
    ConfigError,
    HumanNeededError,
    LockTimeoutError,
    LoginFailedError,
    NotTheSiteError,
    SecurityError,
    StoreError,
)
from . import flaresolverr, native
from .accounts import QuarantinedError, UnknownAccountError
from .pool import PoolBusyError
from .security import key_matches, presented_key
from .state import SERVICE, BadRequestError, BodyTooLargeError, Service, service

log = logging.getLogger("chatgpt_browser.serve.access")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_OPEN_PATHS = ("/health",)


def _status_for(exc: ChatGPTBrowserError) -> int:
    """The HTTP status of a failure, by what the caller does next."""
    table: tuple[tuple[type[BaseException], int], ...] = (
        (BodyTooLargeError, 413),
        (UnknownAccountError, 404),
        (BadRequestError, 400),
        (ConfigError, 400),
        (QuarantinedError, 503),
        (PoolBusyError, 503),
        (LockTimeoutError, 503),
        (HumanNeededError, 409),
        (LoginFailedError, 502),
        (ChallengeNotClearedError, 502),
        (SecurityError, 502),  # the site's login led off its hosts
        (NotTheSiteError, 502),
        (ChatGPTError, 502),
        (BrowserError, 500),
        (StoreError, 500),
    )
    for kind, status in table:
        if isinstance(exc, kind):
            return status
    return 500


@web.middleware
async def access(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Auth, rate limit, typed errors as JSON, and the one log line (never a token)."""
    svc = service(request)
    started = time.monotonic()
    status = 500
    outcome = "error"
    try:
        if request.path not in _OPEN_PATHS and not key_matches(
            svc.options.api_key, presented_key(request.headers)
        ):
            status, outcome = 401, "unauthorized"
            body = {"error": "missing or wrong API key", "type": "Unauthorized"}
            return web.json_response(body, status=401, headers={"WWW-Authenticate": "Bearer"})
        client = request.remote or "-"
        if request.path not in _OPEN_PATHS and not svc.limiter.allow(client):
            status, outcome = 429, "rate-limited"
            return web.json_response({"error": "too many requests", "type": "RateLimited"}, status=429,
                                     headers={"Retry-After": "1"})  # fmt: skip
        response = await handler(request)
        status = response.status
        outcome = "ok" if status < 400 else request.get("error_type", "error")
        return response
    except ChatGPTBrowserError as exc:
        status, outcome = _status_for(exc), type(exc).__name__
        svc.metrics.errors.labels(outcome).inc()
        message = str(exc).splitlines()[0] if str(exc) else outcome
        return web.json_response({"error": message, "type": outcome}, status=status)
    except asyncio.TimeoutError:
        status, outcome = 504, "DeadlineExceeded"
        svc.metrics.errors.labels(outcome).inc()
        return web.json_response({"error": "the request's deadline passed", "type": outcome}, status=504)
    except web.HTTPException as exc:
        status, outcome = exc.status, "http"
        raise
    finally:
        elapsed = (time.monotonic() - started) * 1000
        route = request.match_info.route.resource.canonical if request.match_info.route.resource else "-"
        svc.metrics.requests.labels(route, str(status)).inc()
        if route != "/metrics":
            log.info(
                "%s %s account=%s outcome=%s status=%d ms=%.1f",
                request.method,
                request.path,
                request.get("account_fp", "-"),
                outcome,
                status,
                elapsed,
            )


probes = web.RouteTableDef()


@probes.get("/health")
async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@probes.get("/ready")
async def ready(request: web.Request) -> web.Response:
    svc = service(request)
    checks: dict[str, str] = {}
    checks["browser"] = svc.browser_path or "not found"
    try:
        await asyncio.get_running_loop().run_in_executor(None, svc.store.list_keys)
        checks["store"] = "ok"
    except ChatGPTBrowserError as exc:
        checks["store"] = type(exc).__name__
    good = svc.browser_path is not None and checks["store"] == "ok"
    return web.json_response({"ready": good, "checks": checks}, status=200 if good else 503)


@probes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    body, content_type = service(request).metrics.render()
    response = web.Response(body=body)
    response.headers["Content-Type"] = content_type
    return response


def build_app(svc: Service) -> web.Application:
    app = web.Application(middlewares=[access], client_max_size=svc.options.body_limit)
    app[SERVICE] = svc
    app.add_routes(probes)
    app.add_routes(native.routes)
    app.add_routes(flaresolverr.routes)
    return app


__all__ = ["build_app"]
