"""FlareSolverr's v1 API on `POST /v1`, so its existing clients work unchanged.

Commands: `request.get`, `request.post` (`postData` form-encoded), `sessions.create`,
`sessions.list`, `sessions.destroy`. Every answer carries `status` ("ok" / "error"),
`message`, `startTimestamp`, `endTimestamp` (ms) and `version`; a failure is HTTP 500
with `status: "error"` as FlareSolverr does (400 for a malformed request, 403 for a
URL outside the allow-list). A `session` is a browser context kept warm in the pool.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid

from aiohttp import web

from ..browser.solve import Solution, SolveRequest, solve
from ..errors import BrowserCrashedError, ChatGPTBrowserError
from .security import RefusedTargetError, check_target
from .state import BadRequestError, BodyTooLargeError, JsonObject, Service, read_json, service

VERSION = "3.3.0 (chatgpt-browser serve)"
DEFAULT_MAX_TIMEOUT_MS = 60_000
_REMOVED = ("headers", "userAgent", "returnRawHtml", "download")
_COMMANDS = ("request.get", "request.post", "sessions.create", "sessions.list", "sessions.destroy")

routes = web.RouteTableDef()


def _answer(started: float, status: str, message: str, http: int = 200, **extra: object) -> web.Response:
    body = {
        "status": status,
        "message": message,
        "startTimestamp": int(started * 1000),
        "endTimestamp": int(time.time() * 1000),
        "version": VERSION,
        **extra,
    }
    return web.json_response(body, status=http)


def error_answer(started: float, message: str, http: int = 500) -> web.Response:
    return _answer(started, "error", f"Error: {message}", http)


@routes.get("/")
async def index(request: web.Request) -> web.Response:
    svc = service(request)
    return web.json_response(
        {"msg": "FlareSolverr is ready!", "version": VERSION, "userAgent": svc.user_agent}
    )


@routes.post("/v1")
async def v1(request: web.Request) -> web.Response:
    started = time.time()
    svc = service(request)
    try:
        body = await read_json(request, svc.options.body_limit)
        cmd = body.get("cmd")
        if cmd not in _COMMANDS:
            raise BadRequestError(f"Request parameter 'cmd' = '{str(cmd)[:40]}' is invalid.")
        request["outcome_detail"] = cmd
        if cmd == "sessions.list":
            return _answer(started, "ok", "", sessions=sorted(svc.pool.sessions))
        if cmd == "sessions.create":
            return await _create(svc, body, started)
        if cmd == "sessions.destroy":
            return await _destroy(svc, body, started)
        return await _request(svc, body, started, post=cmd == "request.post")
    except RefusedTargetError as exc:
        return error_answer(started, str(exc), 403)
    except BodyTooLargeError as exc:
        return error_answer(started, str(exc), 413)
    except BadRequestError as exc:
        return error_answer(started, str(exc), 400)
    except ChatGPTBrowserError as exc:
        request["error_type"] = type(exc).__name__
        return error_answer(started, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)


def _session_name(body: JsonObject, required: bool) -> str | None:
    value = body.get("session")
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > 200:
        raise BadRequestError("Request parameter 'session' must be a non-empty string.")
    return value


def _proxy(body: JsonObject) -> str | None:
    value = body.get("proxy")
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("url"), str):
        raise BadRequestError("Request parameter 'proxy' must be an object with a 'url'.")
    url: str = value["url"]
    user, password = value.get("username"), value.get("password")
    if isinstance(user, str) and user and "://" in url:
        scheme, rest = url.split("://", 1)
        url = f"{scheme}://{user}:{password or ''}@{rest}"
    from ..browser.inputs import checked_proxy

    return checked_proxy(url)


async def _create(svc: Service, body: JsonObject, started: float) -> web.Response:
    name = _session_name(body, required=False) or str(uuid.uuid4())
    if name in svc.pool.sessions:
        return _answer(started, "ok", "Session already exists.", session=name)
    proxy = _proxy(body)
    ttl = _ttl_minutes(body)
    deadline = svc.deadline()
    browser = await svc.pool.browser_for(None, deadline)
    try:
        ignore = bool(svc.settings.ca_file)
        await asyncio.wrap_future(
            browser.submit(lambda b: b.open_context(name, proxy=proxy, ignore_https_errors=ignore))
        )
        svc.pool.sessions[name] = (browser, time.monotonic(), ttl)
        svc.pool._publish()
    finally:
        await svc.pool.release(browser)
    return _answer(started, "ok", "Session created successfully.", session=name)


async def _destroy(svc: Service, body: JsonObject, started: float) -> web.Response:
    name = _session_name(body, required=True)
    assert name is not None
    if not await svc.pool.destroy_session(name):
        raise ChatGPTBrowserError("This session does not exist.")
    return _answer(started, "ok", "The session has been removed.")


def _ttl_minutes(body: JsonObject) -> float | None:
    value = body.get("session_ttl_minutes")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise BadRequestError("Request parameter 'session_ttl_minutes' must be a positive number.")
    return float(value) * 60


def _solve_request(svc: Service, body: JsonObject, *, post: bool, deadline: float) -> SolveRequest:
    for name in _REMOVED:
        if name in body:
            raise BadRequestError(f"Request parameter '{name}' was removed in FlareSolverr v2.")
    url = check_target(svc.hosts, body.get("url"))
    post_data = body.get("postData")
    if post and not isinstance(post_data, str):
        raise BadRequestError("Request parameter 'postData' is mandatory in 'request.post' command.")
    if not post and post_data is not None:
        raise BadRequestError("Cannot use 'postBody' when sending a GET request.")
    cookies = body.get("cookies") or []
    if not isinstance(cookies, list) or not all(
        isinstance(c, dict) and isinstance(c.get("name"), str) and isinstance(c.get("value"), str)
        for c in cookies
    ):
        raise BadRequestError("Request parameter 'cookies' must be a list of {name, value} objects.")
    return SolveRequest(
        url=url,
        deadline=deadline,
        session=_session_name(body, required=False),
        post_data=post_data if post and isinstance(post_data, str) else None,
        cookies=tuple((c["name"], c["value"]) for c in cookies),
        return_only_cookies=bool(body.get("returnOnlyCookies", False)),
        proxy=_proxy(body),
        ignore_https_errors=bool(svc.settings.ca_file),
        clearance_cookie=svc.settings.site().clearance_cookie,
    )


def _max_timeout(body: JsonObject) -> float:
    value = body.get("maxTimeout", DEFAULT_MAX_TIMEOUT_MS)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise BadRequestError("Request parameter 'maxTimeout' must be a positive number of milliseconds.")
    return float(value) / 1000


async def _request(svc: Service, body: JsonObject, started: float, *, post: bool) -> web.Response:
    deadline = svc.deadline(_max_timeout(body))
    spec = _solve_request(svc, body, post=post, deadline=deadline)
    if spec.session is not None:
        await _renew_old_session(svc, spec.session, _ttl_minutes(body))
        if spec.session not in svc.pool.sessions:
            raise ChatGPTBrowserError("This session does not exist. Use 'sessions.create' first.")
    browser = await svc.pool.browser_for(spec.session, deadline)
    try:
        with svc.metrics.harvest_seconds.labels("flaresolverr").time():
            future = browser.submit(lambda b: solve(b, spec))
            try:
                solution = await asyncio.wait_for(
                    asyncio.wrap_future(future), timeout=max(deadline - time.monotonic(), 0.001) + 5
                )
            except BrowserCrashedError:
                await svc.pool.discard(browser)
                raise
            except asyncio.TimeoutError:
                raise ChatGPTBrowserError(
                    f"Maximum timeout reached. maxTimeout={_max_timeout(body) * 1000:.0f} (ms)"
                ) from None
    finally:
        await svc.pool.release(browser)
    message = "Challenge solved!" if solution.challenged else "Challenge not detected!"
    return _answer(started, "ok", message, solution=_solution_json(solution))


async def _renew_old_session(svc: Service, name: str, ttl: float | None) -> None:
    """FlareSolverr's `session_ttl_minutes`: a session older than that starts over."""
    entry = svc.pool.sessions.get(name)
    if entry is None or ttl is None or time.monotonic() - entry[1] <= ttl:
        return
    browser = entry[0]
    await asyncio.wrap_future(browser.submit(lambda b: b.close_context(name)))
    await asyncio.wrap_future(
        browser.submit(lambda b: b.open_context(name, ignore_https_errors=bool(svc.settings.ca_file)))
    )
    svc.pool.sessions[name] = (browser, time.monotonic(), entry[2])


def _solution_json(solution: Solution) -> dict[str, object]:
    data = dataclasses.asdict(solution)
    data.pop("challenged")
    data["userAgent"] = data.pop("user_agent")
    return data
