"""The native API: credentials for the fleet (documented in docs/serve.md).

GET    /v1/credentials?account=EMAIL&min_ttl=600&format=json|cookie-header|netscape|env
POST   /v1/credentials/renew      {"account": EMAIL, "reason": "401", "stale": FINGERPRINT}
DELETE /v1/credentials?account=EMAIL
GET    /v1/status
"""

from __future__ import annotations

import math
import time

from aiohttp import web

from ..cli.formats import FORMATS, format_bundle
from ..credentials import Credentials, fingerprint
from ..errors import StoreError
from .accounts import Account, AccountBook
from .remote import bundle_from
from .state import BadRequestError, JsonObject, read_json, service

routes = web.RouteTableDef()

_CONTENT_TYPES = {"json": "application/json", "env": "text/plain", "cookie-header": "text/plain"}
_MAX_TTL = 30 * 86400.0
_REASON_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_")


def _min_ttl(value: str | None, default: float) -> float:
    if value is None:
        return default
    try:
        seconds = float(value)
    except ValueError:
        raise BadRequestError(f"min_ttl must be a number of seconds, got {value[:40]!r}") from None
    if not (0 <= seconds <= _MAX_TTL) or math.isnan(seconds):
        raise BadRequestError(f"min_ttl must be between 0 and {_MAX_TTL:.0f} seconds")
    return seconds


def _timeout(value: str | None) -> float | None:
    """The caller's own deadline in seconds (capped by --request-timeout)."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = float("nan")
    if not 0 < seconds < float("inf"):
        raise BadRequestError("timeout must be a positive number of seconds")
    return seconds


def _format(value: str | None) -> str:
    fmt = value or "json"
    if fmt not in FORMATS:
        raise BadRequestError(f"format must be one of {', '.join(FORMATS)}")
    return fmt


def bundle_response(credentials: Credentials, fmt: str, account: Account) -> web.Response:
    owner, bodies = account.rendered
    if owner is not credentials:  # formatting costs more than the rest of a fresh answer
        owner, bodies = credentials, {}
        account.rendered = (owner, bodies)
    body = bodies.get(fmt)
    if body is None:
        body = bodies[fmt] = format_bundle(credentials, fmt, account.settings)
    if fmt == "json":
        return web.Response(text=body, content_type="application/json", headers=_NO_STORE)
    return web.Response(
        text=body + "\n", content_type=_CONTENT_TYPES.get(fmt, "text/plain"), headers=_NO_STORE
    )


_NO_STORE = {"Cache-Control": "no-store"}


def _note_account(request: web.Request, account: Account) -> None:
    request["account_fp"] = fingerprint(account.spec.email)


@routes.get("/v1/credentials")
async def get_credentials(request: web.Request) -> web.Response:
    svc = service(request)
    book: AccountBook = svc.book
    account = book.find(request.query.get("account"))
    _note_account(request, account)
    fmt = _format(request.query.get("format"))
    min_ttl = _min_ttl(request.query.get("min_ttl"), account.settings.min_ttl)
    credentials = await book.get(account, min_ttl, svc.deadline(_timeout(request.query.get("timeout"))))
    return bundle_response(credentials, fmt, account)


@routes.post("/v1/credentials/renew")
async def renew_credentials(request: web.Request) -> web.Response:
    svc = service(request)
    body = await read_json(request, svc.options.body_limit)
    account = svc.book.find(_text(body, "account", required=False) or request.query.get("account"))
    _note_account(request, account)
    reason = _text(body, "reason", required=False) or "forced"
    if len(reason) > 40 or not set(reason.lower()) <= _REASON_CHARS:
        raise BadRequestError("reason must be a short word such as 401, 403-challenge or forced")
    stale = _text(body, "stale", required=False)
    fmt = _format(_text(body, "format", required=False) or request.query.get("format"))
    timeout = _timeout(str(body["timeout"]) if "timeout" in body else request.query.get("timeout"))
    credentials = await svc.book.renew(account, reason.lower(), stale, svc.deadline(timeout))
    return bundle_response(credentials, fmt, account)


@routes.put("/v1/credentials")
async def put_credentials(request: web.Request) -> web.Response:
    """A worker's own refresh of the bundle (rotated session cookie, new access token)."""
    svc = service(request)
    body = await read_json(request, svc.options.body_limit)
    account = svc.book.find(request.query.get("account"))
    _note_account(request, account)
    try:
        credentials = bundle_from(body.get("credentials"), source="refresh")
    except StoreError as exc:
        raise BadRequestError(f"'credentials' is not a bundle: {exc}") from None
    if credentials.site != account.settings.site().base_url or (credentials.account or "").lower() != (
        account.spec.email.lower()
    ):
        raise BadRequestError("the bundle belongs to another site or account")
    await svc.book.update(account, credentials)
    return web.json_response({"account": account.spec.email, "stored": True})


@routes.delete("/v1/credentials")
async def delete_credentials(request: web.Request) -> web.Response:
    svc = service(request)
    account = svc.book.find(request.query.get("account"))
    _note_account(request, account)
    removed = await svc.book.forget(account)
    return web.json_response({"account": account.spec.email, "removed": removed})


@routes.get("/v1/status")
async def status(request: web.Request) -> web.Response:
    svc = service(request)
    pool = svc.pool
    return web.json_response(
        {
            "store": svc.store.location(),
            "accounts": svc.book.status(),
            "browsers": {
                "max": pool.max_browsers,
                "warm": len(pool.browsers),
                "harvesting": pool.harvests,
                "sessions": len(pool.sessions),
            },
            "time": time.time(),
        }
    )


def _text(body: JsonObject, name: str, *, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise BadRequestError(f"'{name}' must be a non-empty string")
    return value
