"""`chatgpt-browser demo`: the whole product on the embedded emulator, timed stage by stage.

1. start the emulator (a real HTTP server copy of the site, with a realistic challenge
   dwell time, served over TLS with the Cloudflare-like fingerprint layer: clearances
   are bound to the TLS client family that earned them); 2. a cold, unattended harvest
   (challenge + login in headless Chromium); 2b. plain `requests` with that very bundle
   (cookie, UA, IP all right) is refused: 403 challenge, `tls_mismatch`; 3. the fast path
   (fresh bundle from the store, no browser); 4. a warm HTTP renewal
(one session call); 5. after the site expires the clearance, a re-clear with the persistent profile
(browser, no login); 6. a streamed message and 7. a moderation through the client.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, TypeVar

from .cli.exit_codes import ExitStatus
from .config import Settings

if TYPE_CHECKING:
    from requests import Response

    from .client import ChatResponse
    from .credentials import Credentials
    from .emulator.process import Emulator
    from .session.manager import SessionManager

T = TypeVar("T")

PROMPT = "Write a haiku about unattended browsers."


class _Stages:
    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.timings: dict[str, float] = {}

    def run(
        self, name: str, label: str, func: Callable[[], T], detail: Callable[[T], str] | None = None
    ) -> T:
        self._say(f"{label + ' ':.<54}", end="")
        started = time.monotonic()
        value = func()
        self.timings[name] = round(time.monotonic() - started, 3)
        extra = f"  {detail(value)}" if detail is not None else ""
        self._say(f" {self.timings[name]:7.3f} s{extra}")
        return value

    def _say(self, text: str, end: str = "\n") -> None:
        if not self.quiet:
            print(text, end=end, flush=True)


def run_demo(
    *,
    dwell: float = 2.0,
    token_delay: float = 0.05,
    headed: bool = False,
    as_json: bool = False,
    executable: str | None = None,
) -> int:
    from .emulator.process import Emulator

    stages = _Stages(quiet=as_json)
    report: dict[str, object] = {"dwell": dwell}
    with tempfile.TemporaryDirectory(prefix="chatgpt-browser-demo-") as state:
        emulator = stages.run(
            "emulator_start",
            f"starting the site emulator (TLS edge, dwell {dwell:g} s)",
            lambda: Emulator(dwell=dwell, token_delay=token_delay, tls=True, log_level="ERROR").__enter__(),
            lambda e: e.url,
        )
        try:
            account = emulator.account
            settings = Settings(
                url=emulator.url,
                email=account.email,
                password=account.password,
                totp_secret=account.totp_secret,
                state_dir=Path(state),
                executable=executable,
                headless=not headed,
                ca_file=emulator.ca_file,
            )
            refusal = _session_stages(stages, emulator, settings, report)
            stats = emulator.admin.stats()
            seen = {
                "challenges_passed": stats.get("challenges", {}).get("passed"),
                "logins_ok": stats.get("logins", {}).get("ok"),
            }
        finally:
            emulator.__exit__(None, None, None)
    report.update(tls_edge=refusal, emulator=seen, timings=stages.timings)
    if as_json:
        print(json.dumps(report, sort_keys=True))
    else:
        total = sum(stages.timings.values())
        print(
            f"done in {total:.1f} s; the site saw {seen['challenges_passed']} challenges passed "
            f"and {seen['logins_ok']} login (the re-clear reused the saved session); plain requests "
            f"got {refusal['status']}, the product's client (Chrome TLS) got its answers"
        )
    return ExitStatus.OK


def _session_stages(
    stages: _Stages, emulator: Emulator, settings: Settings, report: dict[str, object]
) -> EdgeRefusal:
    """Harvest, fast path, HTTP renewal and re-clear; then the client's stages."""
    from .app import build_manager

    manager = build_manager(settings)
    cold = stages.run(
        "cold_harvest",
        "cold harvest: challenge + login, headless",
        lambda: manager.get(),
        lambda c: _harvest_detail(c.timings),
    )
    refusal = stages.run(
        "plain_requests_refused",
        "plain requests + that bundle (right cookie, UA, IP)",
        lambda: _plain_requests_call(emulator, cold),
        lambda r: f"{r['status']} {r['reason']}: JA4 {r['presented_ja4']} is not {r['earned_ja4']}",
    )
    stages.run(
        "fresh_from_store",
        "fresh bundle from the store (no browser)",
        lambda: manager.get(),
        lambda c: f"clearance valid {int(c.ttl() or 0) // 60} min",
    )
    http = stages.run(
        "http_renewal",
        "warm renewal over HTTP (session call)",
        lambda: manager.renew("401", cold),
        lambda c: f"path={manager.last_renewal.path if manager.last_renewal else '?'}",
    )
    emulator.admin.expire("clearance")  # as Cloudflare does after ~30 min
    stages.run(
        "browser_reclear",
        "clearance expired: re-clear with the saved profile",
        lambda: manager.renew("403-challenge", http),
        lambda c: f"{c.source}, no login",
    )
    _client_stages(stages, settings, manager, report)
    return refusal


def _client_stages(
    stages: _Stages, settings: Settings, manager: SessionManager, report: dict[str, object]
) -> None:
    """A streamed message and a moderation through the product's client."""
    from .app import build_client

    with build_client(settings, manager=manager) as client:
        stream = _StreamPrinter(quiet=stages.quiet)
        answer = stages.run(
            "streamed_message",
            "streamed message",
            lambda: stream.finish(client.send_message(PROMPT, on_progress=stream)),
            lambda r: f"{len(r.response)} chars, first token after {stream.first_token:.3f} s",
        )
        report["answer"] = answer.response
        report["first_token"] = round(stream.first_token, 3)
        moderation = stages.run(
            "moderation",
            "moderation",
            lambda: client.send_moderation(answer.response),
            lambda m: f"flagged={m.flagged}",
        )
        report["moderation"] = {"flagged": moderation.flagged, "blocked": moderation.blocked}


class EdgeRefusal(TypedDict):
    """What the TLS edge told a stock HTTP client presenting a browser's bundle."""

    status: int
    reason: str
    presented_ja4: str | None
    earned_ja4: str | None


def plain_requests_get(url: str, bundle: Credentials, verify: str | None, timeout: float) -> Response:
    """GET the session endpoint with stock `requests` and a harvested bundle (cookie, UA,
    headers all right): what most HTTP clients do, and what the edge refuses by TLS."""
    import requests

    cookie = f"cf_clearance={bundle.clearance_token}; __Secure-next-auth.session-token={bundle.session_token}"
    with requests.Session() as http:
        http.trust_env = False
        return http.get(
            url + "/api/auth/session",
            headers={**dict(bundle.headers), "User-Agent": bundle.user_agent, "Cookie": cookie},
            verify=verify if verify else True,
            timeout=timeout,
        )


def _plain_requests_call(emulator: Emulator, bundle: Credentials) -> EdgeRefusal:
    """What most HTTP clients do with a harvested bundle: the edge refuses their TLS."""
    response = plain_requests_get(emulator.url, bundle, emulator.ca_file, 30)
    mismatches = emulator.admin.stats()["challenges"]["tls_mismatches"]
    last = mismatches[-1] if mismatches else {}
    presented, earned = last.get("presented_ja4"), last.get("earned_ja4")
    return {
        "status": response.status_code,
        "reason": "tls_mismatch" if last else response.headers.get("cf-mitigated", "?"),
        "presented_ja4": presented if isinstance(presented, str) else None,
        "earned_ja4": earned if isinstance(earned, str) else None,
    }


def _harvest_detail(timings: Mapping[str, float]) -> str:
    parts = [f"{name} {value:.2f}" for name, value in dict(timings).items() if name != "total"]
    return ", ".join(parts)


class _StreamPrinter:
    """Prints the answer as it streams in (to stdout, between the stage lines)."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.started = time.monotonic()
        self.first_token = 0.0
        self._printed = 0

    def __call__(self, partial: ChatResponse) -> None:
        if not self.first_token:
            self.first_token = time.monotonic() - self.started
        if self.quiet:
            return
        if self._printed == 0:
            print("\n  | ", end="")
        text: str = partial.response
        sys.stdout.write(text[self._printed :].replace("\n", "\n  | "))
        sys.stdout.flush()
        self._printed = len(text)

    def finish(self, result: T) -> T:
        if not self.quiet and self._printed:
            print(f"\n{'':.<54}", end="")  # the stage's time goes on its own line
        return result
