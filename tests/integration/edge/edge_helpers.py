"""Helpers for the TLS-edge tests: a bundle minted for Chrome's UA and raw HTTP clients."""

from __future__ import annotations

import hashlib
import html
import json
import re
import subprocess
from typing import Any

from support.bundles import UA

from chatgpt_browser.emulator.process import Emulator

CH_UA = '"Not_A Brand";v="8", "Chromium";v="120"'
TIMEOUT = 10.0
SESSION_COOKIE = "__Secure-next-auth.session-token"


def bundle_cookies(emu: Emulator, **clearance: Any) -> dict[str, str]:
    """cf_clearance (bound like one Chromium earned, unless `ja4=` says otherwise) + session."""
    session = emu.admin.issue_session()
    return {
        "cf_clearance": emu.admin.issue_clearance(UA, **clearance),
        SESSION_COOKIE: session["session_token"],
    }


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def curl(emu: Emulator, path: str, *headers: str) -> tuple[int, str]:
    """Plain curl (OpenSSL): (status, body)."""
    args = ["curl", "-s", "--max-time", "10", "--cacert", str(emu.ca_file), "-o", "-", "-w", "\n%{http_code}"]
    for header in headers:
        args += ["-H", header]
    done = subprocess.run([*args, emu.url + path], capture_output=True, text=True, timeout=20, check=True)
    body, _, status = done.stdout.rpartition("\n")
    return int(status), body


def trace(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def challenge_answer(page: str, user_agent: str = UA) -> tuple[str, dict[str, str]]:
    """(form action, fields) a clean visible Chromium's challenge script would post."""
    options = json.loads(re.search(r"window\._cf_chl_opt=(\{.*?\});", page).group(1))  # type: ignore[union-attr]
    action = html.unescape(re.search(r'id="challenge-form" action="([^"]+)"', page).group(1))  # type: ignore[union-attr]
    nonce, difficulty = 0, int(options["cDiff"])
    while int.from_bytes(hashlib.sha256(f"{options['cSalt']}:{nonce}".encode()).digest(), "big") >> (
        256 - difficulty
    ):
        nonce += 1
    fields = {
        "md": str(options["cRay"]),
        "wd": "false",
        "ua": user_agent,
        "br": json.dumps(["Chromium/120", "Not_A Brand/8"]),
        "pw": str(nonce),
        "ck": "",
    }
    return action, fields


def solve(http: Any, base_url: str) -> Any:
    """GET the challenge and POST a perfect answer with this session; the POST's response."""
    page = http.get(base_url + "/auth/login", headers={"User-Agent": UA}, timeout=TIMEOUT)
    assert page.status_code == 403
    action, fields = challenge_answer(page.text)
    return http.post(
        base_url + action, data=fields, headers={"User-Agent": UA}, allow_redirects=False, timeout=TIMEOUT
    )
