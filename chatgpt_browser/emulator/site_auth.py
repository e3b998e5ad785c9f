"""The site's NextAuth side (wire doc sections 2-3): landing page, csrf, signin,
callback, `/api/auth/session` with its rolling cookie, sign-out and the chat page."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
from urllib.parse import urlencode

from aiohttp import web

from .html_site import capacity_page, chat_page, html_error_page, landing_page
from .jsontypes import JSONObject
from .login_flow import LoginFlow
from .state import Session, State

log = logging.getLogger(__name__)

SESSION_COOKIE = "__Secure-next-auth.session-token"
CSRF_COOKIE = "__Host-next-auth.csrf-token"
CALLBACK_COOKIE = "__Secure-next-auth.callback-url"
CLIENT_ID = "TdJIcbe16WoTHtN95nyywh5E4yOo6ItG"


def compact_json(data: object, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status,
        text=json.dumps(data, separators=(",", ":")),
        content_type="application/json",
        headers=headers,
    )


def iso_ms(timestamp: float) -> str:
    moment = dt.datetime.fromtimestamp(timestamp, tz=dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def session_token_from(request: web.Request) -> str | None:
    """The session cookie, joined from `.0`, `.1`... chunks when it was split."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        return token
    chunks, index = [], 0
    while f"{SESSION_COOKIE}.{index}" in request.cookies:
        chunks.append(request.cookies[f"{SESSION_COOKIE}.{index}"])
        index += 1
    return "".join(chunks) or None


class SiteAuth:
    def __init__(self, state: State, flow: LoginFlow, *, site_url: str, auth_url: str) -> None:
        self.state = state
        self.flow = flow
        self.site_url = site_url
        self.auth_url = auth_url

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/", self.root),
            web.get("/auth/login", self.landing),
            web.get("/api/auth/csrf", self.csrf),
            web.get("/api/auth/providers", self.providers),
            web.post("/api/auth/signin/auth0", self.signin),
            web.get("/api/auth/signin", self.signin_page),
            web.get("/api/auth/callback/auth0", self.callback),
            web.get("/api/auth/session", self.session),
            web.post("/api/auth/signout", self.signout),
            web.get("/chat", self.chat),
            web.get("/chat/{conversation_id}", self.chat),
        ]

    # -- pages ---------------------------------------------------------------------
    async def root(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/chat")

    async def landing(self, request: web.Request) -> web.StreamResponse:
        if self.state.options.at_capacity:
            return web.Response(status=503, text=capacity_page(), content_type="text/html")
        return web.Response(text=landing_page(), content_type="text/html")

    async def chat(self, request: web.Request) -> web.StreamResponse:
        session = self.state.session_from_token(session_token_from(request))
        if session is None:
            raise web.HTTPFound("/auth/login")
        if self.state.options.at_capacity:
            return web.Response(status=503, text=capacity_page(), content_type="text/html")
        return web.Response(text=chat_page(session.email), content_type="text/html")

    async def signin_page(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/auth/login")

    # -- NextAuth endpoints -----------------------------------------------------------
    def _csrf_hash(self, token: str) -> str:
        return hashlib.sha256((token + self.state.signer.sign("csrf")).encode()).hexdigest()

    def _csrf_from_cookie(self, request: web.Request) -> str | None:
        token, _, digest = request.cookies.get(CSRF_COOKIE, "").partition("|")
        if token and digest == self._csrf_hash(token):
            return token
        return None

    async def csrf(self, request: web.Request) -> web.StreamResponse:
        token = self._csrf_from_cookie(request)
        if token is not None:  # NextAuth keeps a valid token
            return compact_json({"csrfToken": token})
        token = os.urandom(32).hex()
        response = compact_json({"csrfToken": token})
        response.set_cookie(
            CSRF_COOKIE,
            f"{token}|{self._csrf_hash(token)}",
            path="/",
            httponly=True,
            secure=True,
            samesite="Lax",
        )
        return response

    async def providers(self, request: web.Request) -> web.StreamResponse:
        return compact_json(
            {
                "auth0": {
                    "id": "auth0",
                    "name": "Auth0",
                    "type": "oauth",
                    "signinUrl": f"{self.site_url}/api/auth/signin/auth0",
                    "callbackUrl": f"{self.site_url}/api/auth/callback/auth0",
                }
            }
        )

    async def signin(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        expected = self._csrf_from_cookie(request)
        if expected is None or form.get("csrfToken") != expected:
            log.info("signin with a bad csrf token from %s", request.remote)
            return compact_json({"url": f"{self.site_url}/api/auth/signin?csrf=true"})
        callback = str(form.get("callbackUrl") or f"{self.site_url}/chat")
        client_state = self.state.signer.sign("state", os.urandom(8).hex())
        params = {
            "client_id": CLIENT_ID,
            "scope": "openid email profile offline_access model.request model.read organization.read",
            "response_type": "code",
            "redirect_uri": f"{self.site_url}/api/auth/callback/auth0",
            "audience": "https://api.openai.com/v1",
            "prompt": request.query.get("prompt", "login"),
            "state": client_state,
        }
        if request.query.get("screen_hint"):
            params["screen_hint"] = request.query["screen_hint"]
        response = compact_json({"url": f"{self.auth_url}/authorize?{urlencode(params)}"})
        response.set_cookie(CALLBACK_COOKIE, callback, path="/", httponly=True, secure=True, samesite="Lax")
        return response

    async def callback(self, request: web.Request) -> web.StreamResponse:
        email = self.flow.redeem(request.query.get("code", ""), request.query.get("state", ""))
        if email is None:
            self.state.stats.logins_failed += 1
            page = html_error_page(400, "Authentication error: the sign-in link is invalid or expired.")
            return web.Response(status=400, text=page, content_type="text/html")
        session = self.state.new_session(email)
        self.state.stats.logins_ok += 1
        self._ensure_access_token(session)
        target = request.cookies.get(CALLBACK_COOKIE) or "/chat"
        if not (target.startswith("/") or target.startswith(self.site_url)):
            target = "/chat"
        response = web.HTTPFound(target)
        self._set_session_cookie(response, session)
        response.del_cookie(CALLBACK_COOKIE, path="/")
        log.info("login completed for account #%d", self._account_index(email))
        return response

    def _account_index(self, email: str) -> int:
        for index, account in enumerate(self.state.options.accounts):
            if account.email.lower() == email.lower():
                return index
        return -1

    async def session(self, request: web.Request) -> web.StreamResponse:
        token = session_token_from(request)
        session = self.state.session_from_token(token)
        if session is None:
            response = compact_json({})
            if token:
                response.del_cookie(SESSION_COOKIE, path="/")
            return response
        # Rolling session: every call extends it and re-sets the cookie with a new value.
        session.expires_at = self.state.clock.now() + self.state.options.session_ttl
        access_token, refresh_failed = self._ensure_access_token(session)
        account = self.state.account(session.email)
        name = account.email.split("@")[0] if account else session.email
        body: JSONObject = {
            "user": {
                "id": self.state.user_id(session.email),
                "name": name,
                "email": session.email,
                "image": "https://s.gravatar.com/avatar/emulator?s=480&r=pg&d=identicon",
                "picture": "https://s.gravatar.com/avatar/emulator?s=480&r=pg&d=identicon",
                "groups": [],
                "features": [],
            },
            "expires": iso_ms(session.expires_at),
            "accessToken": access_token,
        }
        if refresh_failed:
            body["error"] = "RefreshAccessTokenError"
        response = compact_json(body)
        self._set_session_cookie(response, session)
        return response

    async def signout(self, request: web.Request) -> web.StreamResponse:
        session = self.state.session_from_token(session_token_from(request))
        if session is not None:
            self.state.sessions.pop(session.sid, None)
        response = compact_json({"url": f"{self.site_url}/auth/login"})
        response.del_cookie(SESSION_COOKIE, path="/")
        return response

    # -- helpers ----------------------------------------------------------------------
    def _ensure_access_token(self, session: Session) -> tuple[str, bool]:
        """The session's access token, refreshed when expired or revoked.

        Returns (token, refresh_failed); in `refresh_error` mode a needed refresh fails
        and the stale token is returned with the error flag, as NextAuth did."""
        current, jti = session.access_token, session.access_jti
        record = self.state.access_tokens.get(jti) if jti else None
        if current and record is not None and self.state.clock.now() < record.expires_at:
            return current, False
        if current and self.state.options.refresh_error:
            return current, True
        token, record = self.state.issue_access_token(session.email)
        session.access_token, session.access_jti = token, record.jti
        return token, False

    def _set_session_cookie(self, response: web.StreamResponse, session: Session) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            self.state.session_token(session),
            max_age=int(self.state.options.session_ttl),
            expires=_http_date(session.expires_at - self.state.clock.offset),
            path="/",
            httponly=True,
            secure=True,
            samesite="Lax",
        )


def _http_date(timestamp: float) -> str:
    moment = dt.datetime.fromtimestamp(timestamp, tz=dt.timezone.utc)
    return moment.strftime("%a, %d %b %Y %H:%M:%S GMT")
