"""The admin API under `/__admin` on the site port: loopback only, bearer-protected.

Everything a test needs to create a situation deterministically: counters, queued
faults, expiring or revoking credentials, moving the clock, changing options, reading
the captcha answer, and minting credentials without a browser.
"""

from __future__ import annotations

import dataclasses
import hmac
import ipaddress
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from .faults import Fault
from .fingerprint import CHROMIUM_JA4, binding_of
from .jsontypes import JSONMapping, JSONObject, to_float
from .login_flow import LoginFlow
from .state import State

log = logging.getLogger(__name__)

PREFIX = "/__admin"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _is_loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


class Admin:
    def __init__(self, state: State, flow: LoginFlow, token: str) -> None:
        self.state = state
        self.flow = flow
        self.token = token

    def routes(self) -> list[web.RouteDef]:
        table: list[tuple[str, str, Handler]] = [
            ("GET", "/stats", self.stats),
            ("POST", "/reset_stats", self.reset_stats),
            ("POST", "/fault", self.fault),
            ("POST", "/clear_faults", self.clear_faults),
            ("POST", "/expire", self.expire),
            ("POST", "/revoke", self.revoke),
            ("POST", "/advance_clock", self.advance_clock),
            ("POST", "/configure", self.configure),
            ("GET", "/options", self.get_options),
            ("GET", "/captcha_answer", self.captcha_answer),
            ("POST", "/issue_clearance", self.issue_clearance),
            ("POST", "/issue_session", self.issue_session),
            ("GET", "/tls", self.tls),
        ]
        return [web.route(method, PREFIX + path, self._guard(handler)) for method, path, handler in table]

    def _guard(self, handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            if not _is_loopback(request.remote):
                return web.json_response({"error": "admin API is loopback only"}, status=403)
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip(), self.token):
                return web.json_response({"error": "bad admin token"}, status=401)
            try:
                return await handler(request)
            except (ValueError, KeyError, TypeError) as exc:
                return web.json_response({"error": str(exc)}, status=400)

        return guarded

    @staticmethod
    async def _body(request: web.Request) -> JSONObject:
        if not request.can_read_body:
            return {}
        body = await request.json()
        if not isinstance(body, dict):
            raise ValueError("expected a JSON object")
        return body

    async def stats(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self.state.snapshot())

    async def reset_stats(self, request: web.Request) -> web.StreamResponse:
        self.state.stats.reset()
        return web.json_response({"ok": True})

    async def fault(self, request: web.Request) -> web.StreamResponse:
        fault = Fault.from_dict(await self._body(request))
        self.state.faults.add(fault)
        log.info("fault queued: %s %s x%d", fault.kind, fault.route, fault.count)
        return web.json_response({"ok": True, "pending": self.state.faults.pending()})

    async def clear_faults(self, request: web.Request) -> web.StreamResponse:
        self.state.faults.clear()
        return web.json_response({"ok": True})

    async def expire(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        count = self.state.expire(str(body["what"]), _email(body))
        return web.json_response({"ok": True, "count": count})

    async def revoke(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        count = self.state.revoke(str(body["what"]), _email(body))
        return web.json_response({"ok": True, "count": count})

    async def advance_clock(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        now = self.state.clock.advance(to_float(body["seconds"]))
        return web.json_response({"ok": True, "now": now, "offset": self.state.clock.offset})

    async def configure(self, request: web.Request) -> web.StreamResponse:
        self.state.options.update(await self._body(request))
        return await self.get_options(request)

    async def get_options(self, request: web.Request) -> web.StreamResponse:
        data = dataclasses.asdict(self.state.options)
        data.pop("accounts")
        data.pop("admin_token")
        for key, value in data.items():
            if isinstance(value, frozenset):
                data[key] = sorted(value)
        return web.json_response(data)

    async def captcha_answer(self, request: web.Request) -> web.StreamResponse:
        state = request.query.get("state") or self.flow.last_captcha_state
        transaction = self.flow.get(state) if state else None
        if transaction is None or transaction.captcha_answer is None:
            return web.json_response({"error": "no captcha served"}, status=404)
        return web.json_response({"state": transaction.state, "answer": transaction.captcha_answer})

    async def issue_clearance(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        # Bound like one Chromium earned (the TLS family of every browser we harvest with)
        # unless the caller names the JA4 to bind to, or null for none.
        ja4 = body.get("ja4", CHROMIUM_JA4 if self.state.options.tls else None)
        value = self.state.issue_clearance(
            str(body.get("ip", "127.0.0.1")),
            str(body["user_agent"]),
            tls_binding=binding_of(str(ja4)) if ja4 else None,
            ja4=str(ja4) if ja4 else None,
        )
        return web.json_response({"name": "cf_clearance", "value": value})

    async def tls(self, request: web.Request) -> web.StreamResponse:
        """The fingerprints connections presented (newest last), `?limit=N` (default 100)."""
        limit = int(request.query.get("limit", "100"))
        return web.json_response(
            {"mode": self.state.options.fingerprint_mode, **self.state.tls.snapshot(limit)}
        )

    async def issue_session(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        account = self.state.account(str(body.get("email") or self.state.options.accounts[0].email))
        if account is None:
            raise ValueError("unknown account")
        session = self.state.new_session(account.email)
        token, record = self.state.issue_access_token(account.email)
        session.access_token, session.access_jti = token, record.jti
        return web.json_response(
            {
                "name": "__Secure-next-auth.session-token",
                "session_token": self.state.session_token(session),
                "access_token": token,
                "email": account.email,
            }
        )


def _email(body: JSONMapping) -> str | None:
    """The optional "email" of an admin call (None: every account)."""
    email = body.get("email")
    return None if email is None else str(email)
