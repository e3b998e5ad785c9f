"""What the request handlers share: the `Service` (options, store, pool, accounts,
metrics) and the request-body rules (size limit, JSON object, clear 400s)."""

from __future__ import annotations

import dataclasses
import json
import time

from aiohttp import web

from ..config import Settings
from ..errors import ConfigError
from ..session.store import CredentialStore
from .accounts import AccountBook
from .metrics import Metrics
from .options import ServeOptions
from .pool import BrowserPool
from .security import HostRule, RateLimiter


class BadRequestError(ConfigError):
    """The request itself is wrong (HTTP 400)."""


class BodyTooLargeError(BadRequestError):
    """The request body exceeds the limit (HTTP 413)."""


@dataclasses.dataclass
class Service:
    options: ServeOptions
    settings: Settings
    store: CredentialStore
    pool: BrowserPool
    book: AccountBook
    metrics: Metrics
    hosts: HostRule
    limiter: RateLimiter
    user_agent: str | None = None
    browser_path: str | None = None

    def deadline(self, seconds: float | None = None) -> float:
        """A request's deadline: `seconds` (capped by --request-timeout) from now."""
        budget = (
            self.options.request_timeout if seconds is None else min(seconds, self.options.request_timeout)
        )
        return time.monotonic() + budget


#: A request body: a JSON object whose values are checked field by field where used.
JsonObject = dict[str, object]

SERVICE: web.AppKey[Service] = web.AppKey("service", Service)


def service(request: web.Request) -> Service:
    return request.app[SERVICE]


async def read_json(request: web.Request, limit: int) -> JsonObject:
    """The body as a JSON object, or a clear `BadRequestError`."""
    if request.content_length is not None and request.content_length > limit:
        raise BodyTooLargeError(f"request body over {limit} bytes")
    raw = await request.content.read(limit + 1)
    if len(raw) > limit:
        raise BodyTooLargeError(f"request body over {limit} bytes")
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequestError(f"the body is not valid JSON ({str(exc).splitlines()[0][:80]})") from None
    if not isinstance(data, dict):
        raise BadRequestError("the body must be a JSON object")
    return data
