"""Plain-HTTP helpers for the emulator's integration tests: a scripted challenge solver
(what a JS-running bot would send), a source-address adapter for IP binding tests, the
login flow over requests, and SSE splitting.

Cookies are Secure as on the real site, so requests' jar will not send them over http;
these helpers pass them explicitly in a Cookie header, as the real client does.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import uuid
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from support.bundles import UA

TIMEOUT = 10.0


class SourceAddressAdapter(HTTPAdapter):
    """Connect from a chosen loopback source address (e.g. 127.0.0.2)."""

    def __init__(self, source_ip: str) -> None:
        self.source_ip = source_ip
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.source_ip, 0)
        super().init_poolmanager(*args, **kwargs)


def http_session(source_ip: str | None = None) -> requests.Session:
    session = requests.Session()
    if source_ip:
        adapter = SourceAddressAdapter(source_ip)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
    return session


def cookie_header(**cookies: str) -> str:
    names = {"cf_clearance": "cf_clearance", "session": "__Secure-next-auth.session-token"}
    return "; ".join(f"{names.get(k, k)}={v}" for k, v in cookies.items() if v)


def challenge_options(page: str) -> dict[str, Any]:
    match = re.search(r"window\._cf_chl_opt=(\{.*?\});", page)
    assert match, "no _cf_chl_opt in the page"
    options: dict[str, Any] = json.loads(match.group(1))
    return options


def form_action(page: str) -> str:
    match = re.search(r'<form id="challenge-form" action="([^"]+)" method="POST"', page)
    assert match, "no challenge form"
    return html.unescape(match.group(1))


def solve_pow(salt: str, difficulty: int) -> int:
    nonce = 0
    while True:
        digest = hashlib.sha256(f"{salt}:{nonce}".encode()).digest()
        if int.from_bytes(digest, "big") >> (256 - difficulty) == 0:
            return nonce
        nonce += 1


def answer_fields(page: str, user_agent: str, **overrides: str) -> dict[str, str]:
    """What the challenge script posts from a clean, visible browser."""
    options = challenge_options(page)
    fields = {
        "md": str(options["cRay"]),
        "wd": "false",
        "ua": user_agent,
        "br": json.dumps(["Chromium/108", "Not?A_Brand/8"]),
        "pw": str(solve_pow(options["cSalt"], int(options["cDiff"]))),
        "ck": "trusted" if options["cType"] == "interactive" else "",
    }
    fields.update(overrides)
    return fields


def post_answer(
    base_url: str, page: str, user_agent: str, session: requests.Session | None = None, **overrides: str
) -> requests.Response:
    http = session or requests
    return http.post(  # type: ignore[no-any-return]
        urljoin(base_url, form_action(page)),
        data=answer_fields(page, user_agent, **overrides),
        headers={"User-Agent": user_agent},
        allow_redirects=False,
        timeout=TIMEOUT,
    )


def clear(
    base_url: str, user_agent: str = UA, path: str = "/auth/login", session: requests.Session | None = None
) -> str:
    """Pass the challenge as a JS-capable client would; returns the cf_clearance value."""
    http = session or requests
    page = http.get(base_url + path, headers={"User-Agent": user_agent}, timeout=TIMEOUT)
    assert page.status_code == 403, page.status_code
    answer = post_answer(base_url, page.text, user_agent, session)
    assert answer.status_code == 302, (answer.status_code, answer.text[:200])
    value = answer.cookies.get("cf_clearance")
    assert value, "no cf_clearance set"
    return str(value)


def login(
    base_url: str,
    auth_url: str,
    email: str,
    password: str,
    *,
    clearance: str,
    user_agent: str = UA,
    totp_code: str | None = None,
) -> str:
    """The whole NextAuth + auth0 login over HTTP; returns the session token."""
    site = {"User-Agent": user_agent}
    with requests.Session() as http:
        csrf = http.get(
            base_url + "/api/auth/csrf",
            headers={**site, "Cookie": cookie_header(cf_clearance=clearance)},
            timeout=TIMEOUT,
        )
        csrf_cookie = csrf.cookies["__Host-next-auth.csrf-token"]
        signin = http.post(
            base_url + "/api/auth/signin/auth0?prompt=login",
            data={"callbackUrl": base_url + "/chat", "csrfToken": csrf.json()["csrfToken"], "json": "true"},
            headers={
                **site,
                "Cookie": cookie_header(
                    cf_clearance=clearance, **{"__Host-next-auth.csrf-token": csrf_cookie}
                ),
            },
            timeout=TIMEOUT,
        )
        authorize = http.get(signin.json()["url"], headers=site, allow_redirects=False, timeout=TIMEOUT)
        identifier_url = urljoin(auth_url, authorize.headers["Location"])
        state = parse_qs(urlsplit(identifier_url).query)["state"][0]
        step = http.post(
            identifier_url,
            data={"state": state, "username": email, "action": "default"},
            headers=site,
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        assert step.status_code == 302, step.text[:300]
        step = http.post(
            urljoin(auth_url, step.headers["Location"]),
            data={"state": state, "password": password, "action": "default"},
            headers=site,
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        assert step.status_code == 302, step.text[:300]
        location = urljoin(auth_url, step.headers["Location"])
        if "mfa-otp-challenge" in location:
            assert totp_code is not None
            step = http.post(
                location,
                data={"state": state, "code": totp_code},
                headers=site,
                allow_redirects=False,
                timeout=TIMEOUT,
            )
            assert step.status_code == 302, step.text[:300]
            location = urljoin(auth_url, step.headers["Location"])
        resume = http.get(location, headers=site, allow_redirects=False, timeout=TIMEOUT)
        callback = http.get(
            resume.headers["Location"],
            headers={**site, "Cookie": cookie_header(cf_clearance=clearance)},
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        assert callback.status_code == 302 and callback.headers["Location"].endswith("/chat"), callback.text[
            :300
        ]
        return str(callback.cookies["__Secure-next-auth.session-token"])


def conversation_body(
    prompt: str,
    *,
    parent: str | None = None,
    conversation_id: str | None = None,
    action: str = "next",
    message_id: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "action": action,
        "messages": [
            {
                "id": message_id or str(uuid.uuid4()),
                "role": "user",
                "content": {"content_type": "text", "parts": [prompt]},
            }
        ],
        "parent_message_id": parent or str(uuid.uuid4()),
        "model": "text-davinci-002-render",
    }
    if conversation_id is not None:
        body["conversation_id"] = conversation_id
    return body


def sse_data(raw: str) -> list[str]:
    """The data payloads of an SSE body, asserting the framing (only `data:` lines)."""
    assert raw.endswith("\n\n"), "stream does not end with a blank line"
    events = raw[:-2].split("\n\n")
    payloads = []
    for event in events:
        assert event.startswith("data: ") and "\n" not in event, repr(event[:80])
        payloads.append(event[len("data: ") :])
    return payloads


class Client:
    """A cleared, logged-in API user of one emulator (cookies sent explicitly)."""

    def __init__(
        self, base_url: str, clearance: str, session_token: str, access_token: str, user_agent: str = UA
    ) -> None:
        self.base_url = base_url
        self.clearance = clearance
        self.session_token = session_token
        self.access_token = access_token
        self.user_agent = user_agent
        self.http = requests.Session()

    def headers(self, bearer: str | None = None, **extra: str) -> dict[str, str]:
        return {
            "User-Agent": self.user_agent,
            "Cookie": cookie_header(cf_clearance=self.clearance, session=self.session_token),
            "Authorization": f"Bearer {self.access_token if bearer is None else bearer}",
            **extra,
        }

    def converse(
        self, body: Any, *, bearer: str | None = None, stream: bool = False, timeout: float = TIMEOUT
    ) -> requests.Response:
        data = body if isinstance(body, str) else json.dumps(body)
        return self.http.post(
            self.base_url + "/backend-api/conversation",
            data=data,
            headers=self.headers(
                bearer, **{"Content-Type": "application/json", "Accept": "text/event-stream"}
            ),
            stream=stream,
            timeout=timeout,
        )

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.get(self.base_url + path, headers=self.headers(), timeout=TIMEOUT, **kwargs)

    def post_json(self, path: str, body: Any) -> requests.Response:
        return self.http.post(self.base_url + path, json=body, headers=self.headers(), timeout=TIMEOUT)

    def close(self) -> None:
        self.http.close()


def make_client(emu: Any, email: str | None = None) -> Client:
    """A Client with credentials minted by the admin API (no browser, no login flow)."""
    clearance = emu.admin.issue_clearance(UA)
    issued = emu.admin.issue_session(email)
    return Client(emu.url, clearance, issued["session_token"], issued["access_token"])
