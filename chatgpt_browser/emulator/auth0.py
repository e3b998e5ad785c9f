"""The auth0-like login origin (wire doc section 2, steps 3-6), on its own port.

/authorize starts a transaction (state S) and sends the browser to the identifier
page; identifier -> password -> (one-time code) each post back with S; /authorize/resume
issues a one-time code and redirects to the site's NextAuth callback.
"""

from __future__ import annotations

import logging
import time
from urllib.parse import urlencode

import pyotp
from aiohttp import web

from . import captcha
from .html_auth import identifier_page, message_page, otp_page, password_page
from .login_flow import LoginFlow, Transaction
from .state import State

log = logging.getLogger(__name__)

WRONG_PASSWORD = "Wrong email or password"


class _Totp(pyotp.TOTP):
    """RFC 6238 codes; like authenticator apps, accept the 80-bit (16-character) secrets
    many sites hand out, which pyotp refuses by default."""

    min_secret_length_bits = 80


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(
        status=status, text=text, content_type="text/html", headers={"Cache-Control": "no-store"}
    )


class Auth0:
    def __init__(self, state: State, flow: LoginFlow, *, site_url: str) -> None:
        self.state = state
        self.flow = flow
        self.site_url = site_url

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/authorize", self.authorize),
            web.get("/u/login/identifier", self.identifier),
            web.post("/u/login/identifier", self.identifier_post),
            web.get("/u/login/password", self.password),
            web.post("/u/login/password", self.password_post),
            web.get("/u/mfa-otp-challenge", self.otp),
            web.post("/u/mfa-otp-challenge", self.otp_post),
            web.get("/u/captcha", self.captcha_image),
            web.get("/authorize/resume", self.resume),
        ]

    def _transaction(self, request: web.Request, state: str | None = None) -> Transaction:
        transaction = self.flow.get(state or request.query.get("state", ""))
        if transaction is None:
            raise web.HTTPBadRequest(
                text=message_page("Invalid state", "This login link is invalid or has expired. Start again."),
                content_type="text/html",
            )
        return transaction

    async def authorize(self, request: web.Request) -> web.StreamResponse:
        redirect_uri = request.query.get("redirect_uri", "")
        if not redirect_uri.startswith(self.site_url + "/"):
            return _html(message_page("Callback URL mismatch", "The redirect_uri is not allowed."), 400)
        transaction = self.flow.start(request.query.get("state", ""), redirect_uri)
        raise web.HTTPFound(f"/u/login/identifier?state={transaction.state}")

    # -- identifier -------------------------------------------------------------------
    def _identifier(
        self, t: Transaction, *, username: str = "", error: str | None = None, status: int = 200
    ) -> web.Response:
        src = None
        if t.captcha_required or self.state.options.captcha:
            t.captcha_answer = captcha.new_answer()
            self.flow.last_captcha_state = t.state
            src = f"/u/captcha?state={t.state}&n={int(time.time() * 1000)}"
        return _html(identifier_page(t.state, username=username, error=error, captcha_src=src), status)

    async def identifier(self, request: web.Request) -> web.StreamResponse:
        return self._identifier(self._transaction(request))

    async def captcha_image(self, request: web.Request) -> web.StreamResponse:
        t = self._transaction(request)
        if not t.captcha_answer:
            raise web.HTTPNotFound()
        return web.Response(
            text=captcha.render_svg(t.captcha_answer),
            content_type="image/svg+xml",
            headers={"Cache-Control": "no-store"},
        )

    async def identifier_post(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        t = self._transaction(request, str(form.get("state") or request.query.get("state", "")))
        username = str(form.get("username", "")).strip()
        if t.captcha_required or self.state.options.captcha:
            if not captcha.answer_matches(t.captcha_answer, str(form.get("captcha", ""))):
                log.info("captcha answer wrong or missing")
                return self._identifier(
                    t,
                    username=username,
                    error="Solve the challenge question to verify you are not a robot.",
                    status=400,
                )
            t.captcha_passed = True
        account = self.state.account(username)
        if account is None:
            self.state.stats.logins_failed += 1
            return self._identifier(
                t, username=username, error="We couldn't find an account with that email address.", status=400
            )
        if account.captcha and not t.captcha_passed:
            t.captcha_required = True
            return self._identifier(
                t,
                username=username,
                error="Solve the challenge question to verify you are not a robot.",
                status=400,
            )
        t.email = account.email
        raise web.HTTPFound(f"/u/login/password?state={t.state}")

    # -- password ---------------------------------------------------------------------
    async def password(self, request: web.Request) -> web.StreamResponse:
        t = self._transaction(request)
        if t.email is None:
            raise web.HTTPFound(f"/u/login/identifier?state={t.state}")
        return _html(password_page(t.state, t.email))

    async def password_post(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        t = self._transaction(request, str(form.get("state") or request.query.get("state", "")))
        account = self.state.account(t.email or "")
        if account is None:
            raise web.HTTPFound(f"/u/login/identifier?state={t.state}")
        if str(form.get("password", "")) != account.password:
            self.state.stats.logins_failed += 1
            log.info("wrong password for a known account")
            return _html(password_page(t.state, account.email, error=WRONG_PASSWORD), 400)
        t.password_ok = True
        if account.totp_secret:
            raise web.HTTPFound(f"/u/mfa-otp-challenge?state={t.state}")
        raise web.HTTPFound(f"/authorize/resume?state={t.state}")

    # -- one-time code ------------------------------------------------------------------
    async def otp(self, request: web.Request) -> web.StreamResponse:
        t = self._transaction(request)
        if not t.password_ok:
            raise web.HTTPFound(f"/u/login/identifier?state={t.state}")
        return _html(otp_page(t.state))

    async def otp_post(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        t = self._transaction(request, str(form.get("state") or request.query.get("state", "")))
        account = self.state.account(t.email or "")
        if account is None or not t.password_ok or not account.totp_secret:
            raise web.HTTPFound(f"/u/login/identifier?state={t.state}")
        code = str(form.get("code", "")).strip()
        totp = _Totp(account.totp_secret)
        # The authenticator app knows real time; accept the emulator clock too.
        if not (
            totp.verify(code, valid_window=1)
            or totp.verify(code, for_time=self.state.clock.now(), valid_window=1)
        ):
            self.state.stats.logins_failed += 1
            return _html(otp_page(t.state, error="The code you entered is invalid"), 400)
        t.totp_ok = True
        raise web.HTTPFound(f"/authorize/resume?state={t.state}")

    async def resume(self, request: web.Request) -> web.StreamResponse:
        t = self._transaction(request)
        account = self.state.account(t.email or "")
        if account is None or not t.password_ok or (account.totp_secret and not t.totp_ok):
            raise web.HTTPFound(f"/u/login/identifier?state={t.state}")
        code = self.flow.issue_code(t)
        raise web.HTTPFound(f"{t.redirect_uri}?{urlencode({'code': code, 'state': t.client_state})}")
