"""The Cloudflare layer in front of every site path (wire doc section 1).

How it works: a request without a good `cf_clearance` (signed, bound to the client IP
and User-Agent, younger than `clearance_ttl`) gets the 403 managed-challenge page. Its
form posts to `<path>?__cf_chl_f_tk=<token>`; the token is signed and bound to the
same IP and UA and records when the page was served. The page's script reports what it
saw (`navigator.webdriver`, UA, UA-CH brands), a proof-of-work nonce and, in
interactive mode, whether the checkbox click was trusted. The server runs the enabled
checks; on success it sets `cf_clearance` and 302s back to the original URL, otherwise
it records the reasons and serves the challenge again (it never clears).
"""

from __future__ import annotations

import email.utils
import hashlib
import logging
import os
import time
from collections.abc import Mapping
from urllib.parse import urlencode

from aiohttp import web

from .html_site import block_page, challenge_page
from .state import State

log = logging.getLogger(__name__)

TOKEN_PARAM = "__cf_chl_f_tk"
CLEARANCE_COOKIE = "cf_clearance"
_YEAR = 365 * 86400


def client_ip(request: web.Request) -> str:
    return request.remote or ""


def ray_id() -> str:
    return os.urandom(8).hex() + "-LHR"


def leading_zero_bits(digest: bytes) -> int:
    bits = 0
    for byte in digest:
        if byte == 0:
            bits += 8
            continue
        return bits + 8 - byte.bit_length()
    return bits


def pow_ok(salt: str, nonce: str, difficulty: int) -> bool:
    if not nonce.isdigit() or len(nonce) > 12:
        return False
    digest = hashlib.sha256(f"{salt}:{nonce}".encode()).digest()
    return leading_zero_bits(digest) >= difficulty


def blocked_response(request: web.Request) -> web.Response:
    page = block_page(host=request.host.split(":")[0], ip=client_ip(request), ray=ray_id())
    return web.Response(status=403, text=page, content_type="text/html", headers={"cf-ray": ray_id()})


class ChallengeLayer:
    def __init__(self, state: State, *, secure_cookies: bool) -> None:
        self.state = state
        self.secure_cookies = secure_cookies

    def _token(self, ip: str, user_agent: str, interactive: bool) -> tuple[str, str, int]:
        salt = os.urandom(12).hex()
        issued = str(int(self.state.clock.now() * 1000))  # milliseconds
        difficulty = self.state.options.pow_difficulty
        kind = "i" if interactive else "m"
        signature = self.state.signer.sign("chl", salt, issued, str(difficulty), kind, ip, user_agent)
        return f"{salt}.{issued}.{difficulty}.{kind}.{signature}", salt, difficulty

    def challenge(self, request: web.Request, *, failed: bool = False) -> web.Response:
        """The 403 managed (or interactive) challenge for this request's URL."""
        options = self.state.options
        ip, user_agent = client_ip(request), request.headers.get("User-Agent", "")
        token, salt, difficulty = self._token(ip, user_agent, options.interactive)
        query = [(k, v) for k, v in request.query.items() if k != TOKEN_PARAM]
        query.append((TOKEN_PARAM, token))
        action = f"{request.path}?{urlencode(query)}"
        ray = ray_id()
        opt = {
            "cvId": "2",
            "cType": "interactive" if options.interactive else "managed",
            "cNounce": str(int.from_bytes(os.urandom(3), "big")),
            "cRay": ray.split("-")[0],
            "cHash": salt[:16],
            "cUPMDTk": action,
            "cFPWv": "g",
            "cTTimeMs": "1000",
            "cMTimeMs": "0",
            "cSalt": salt,
            "cDiff": difficulty,
            "cDwell": options.dwell,
            "cFailed": failed,
        }
        page = challenge_page(
            host=request.host.split(":")[0],
            action=action,
            opt=opt,
            interactive=options.interactive,
            failed=failed,
            ray=ray,
        )
        self.state.stats.challenges_served += 1
        headers = {"cf-mitigated": "challenge", "cf-ray": ray, "Cache-Control": "no-cache, no-store"}
        return web.Response(status=403, text=page, content_type="text/html", headers=headers)

    def clearance_reason(self, request: web.Request) -> str | None:
        """None when the request carries a clearance good for its IP, UA and TLS client."""
        value = request.cookies.get(CLEARANCE_COOKIE)
        fp = self.state.tls.for_request(request)
        reason = self.state.check_clearance(
            value, client_ip(request), request.headers.get("User-Agent", ""), fp.binding if fp else None
        )
        if reason == "tls_mismatch":
            record = self.state.clearance_record(value)
            earned = record.ja4 if record else None
            presented = fp.ja4 if fp else None
            self.state.stats.tls_mismatch(
                {
                    "path": request.path,
                    "ip": client_ip(request),
                    "earned_ja4": earned,
                    "presented_ja4": presented,
                }
            )
            log.warning(
                "tls_mismatch on %s %s: clearance earned by JA4 %s, presented by JA4 %s",
                request.method, request.path, earned, presented,
            )  # fmt: skip
        return reason

    async def verify(self, request: web.Request) -> web.StreamResponse:
        """Handle the challenge form's POST: run the checks, clear or challenge again."""
        ip, header_ua = client_ip(request), request.headers.get("User-Agent", "")
        form = await request.post()
        reasons = self._failed_checks(
            request.query.get(TOKEN_PARAM, ""), form, ip, header_ua, request.headers.get("sec-ch-ua", "")
        )
        fp = self.state.tls.for_request(request)
        if fp is not None and self.state.options.fingerprint_mode != "off" and not fp.browser_like:
            # What a bot-management score does with a library's TLS stack, whatever the JS said.
            reasons.append("tls_fingerprint")
            log.warning("challenge answer over a library TLS fingerprint (JA4 %s)", fp.ja4)
        if reasons:
            self.state.stats.challenge_failed(reasons, ip, header_ua)
            log.warning("challenge failed from %s: %s (UA %r)", ip, ",".join(reasons), header_ua)
            return self.challenge(request, failed=True)
        self.state.stats.challenges_passed += 1
        log.info("challenge passed from %s", ip)
        query = [(k, v) for k, v in request.query.items() if k != TOKEN_PARAM]
        location = request.path + (f"?{urlencode(query)}" if query else "")
        response = web.HTTPFound(location)
        response.set_cookie(
            CLEARANCE_COOKIE,
            self.state.issue_clearance(
                ip, header_ua, tls_binding=fp.binding if fp else None, ja4=fp.ja4 if fp else None
            ),
            max_age=_YEAR,
            expires=email.utils.formatdate(time.time() + _YEAR, usegmt=True),
            path="/",
            httponly=True,
            secure=self.secure_cookies,
            samesite="None" if self.secure_cookies else "Lax",
        )
        return response

    def _failed_checks(
        self, token: str, form: Mapping[str, object], ip: str, header_ua: str, sec_ch_ua: str
    ) -> list[str]:
        """The reasons this answer does not clear (empty: it does)."""
        get = form.get
        options = self.state.options
        parts = token.split(".")
        if len(parts) != 5:
            return ["bad_token"]
        salt, issued, difficulty, kind, signature = parts
        if not self.state.signer.verify(signature, "chl", salt, issued, difficulty, kind, ip, header_ua):
            # Also what a token replayed from another IP or UA looks like.
            return ["bad_token"]
        refused = self.state.use_challenge(salt, int(issued) / 1000)
        if refused is not None:
            return [refused]
        checks, reasons = options.checks, []
        js_ua, brands = str(get("ua", "")), str(get("br", ""))
        if "webdriver" in checks and get("wd", "") != "false":
            reasons.append("webdriver")
        if "headless" in checks:
            seen = (js_ua, brands, header_ua, sec_ch_ua)
            if any("headless" in value.lower() for value in seen):
                reasons.append("headless")
        if "ua_match" in checks and js_ua != header_ua:
            reasons.append("ua_match")
        if "pow" in checks and not pow_ok(salt, str(get("pw", "")), int(difficulty)):
            reasons.append("pow")
        if "dwell" in checks and self.state.clock.now() - int(issued) / 1000 < options.dwell:
            reasons.append("dwell")
        if kind == "i" and get("ck", "") != "trusted":
            reasons.append("untrusted_click")
        return reasons
