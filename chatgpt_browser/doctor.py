"""`chatgpt-browser doctor`: is this machine ready to harvest and use a bundle unattended?

Each check is a function returning a `CheckResult` (name, ok, one-line verdict, hint).
The browser checks share one probe: the product's own stealthy launch opens the site's
`/cdn-cgi/trace` page and reports what a site sees (UA, client hints, webdriver, WebGL,
TLS fingerprint, egress IP, Date). The HTTP client's transport then fetches the same
page: its TLS family (JA4 version, ALPN, cipher hash) must be the browser's, or an edge
that binds clearances to it refuses every bundle the browser harvests. A site whose trace
shows no `ja4` is compared on a local `--tls` emulator instead.

`run(settings) -> int` prints the verdicts (text or `--format json`) and returns 0 only
when every check passed.
"""

from __future__ import annotations

import dataclasses
import email.utils
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .doctor_probe import Probe, parse_trace, probe_site
from .errors import ChatGPTBrowserError

if TYPE_CHECKING:
    from .config import Settings

CHECK_FAILED = 14  # the CLI's CHECK_FAILED exit status (contracts: exit codes)
MAX_CLOCK_SKEW = 60.0


@dataclasses.dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    verdict: str
    hint: str = ""

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


# -- machine checks ----------------------------------------------------------------------


def check_browser(settings: Settings) -> CheckResult:
    from .browser.executable import browser_version, find_browser, is_headless_shell, resolve_flavour

    try:
        path = find_browser(settings.executable, flavour=resolve_flavour(None))
    except ChatGPTBrowserError as exc:
        return CheckResult(
            "browser", False, str(exc).splitlines()[0], "install chromium or pass --executable"
        )
    flavour = "headless-shell" if is_headless_shell(path) else "chromium"
    version = browser_version(path)
    if version is None:
        return CheckResult("browser", False, f"{path} does not report a version", "is it a Chromium build?")
    return CheckResult("browser", True, f"{path} {version} ({flavour})")


def check_playwright() -> CheckResult:
    try:
        from importlib.metadata import version as installed

        from playwright.sync_api import sync_playwright

        version = installed("playwright")

        with sync_playwright() as driver:
            driver.chromium.name  # noqa: B018 - the driver process answered
    except Exception as exc:  # ImportError, or the driver would not start
        hint = "pip install playwright (the driver ships in the wheel)"
        return CheckResult("playwright", False, f"driver unusable: {type(exc).__name__}", hint)
    return CheckResult("playwright", True, f"driver {version} starts")


def check_xvfb() -> CheckResult:
    from .browser.xvfb import needs_virtual_display

    found = shutil.which("Xvfb")
    if not needs_virtual_display():
        return CheckResult("xvfb", True, "a display is available; Xvfb not needed for --headed")
    if found:
        return CheckResult("xvfb", True, f"{found} for the headed fallback (no display here)")
    return CheckResult(
        "xvfb", False, "no display and no Xvfb: the headed fallback cannot run", "apt install xvfb"
    )


def check_store(settings: Settings) -> CheckResult:
    if settings.store == "redis":
        return CheckResult("store", True, "Redis store (see the redis check)")
    root = settings.resolved_state_dir()
    try:
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, probe = tempfile.mkstemp(dir=root, prefix=".doctor-")
        os.write(fd, b"ok")
        os.fsync(fd)
        os.close(fd)
        readable = Path(probe).read_bytes() == b"ok"
        os.unlink(probe)
    except OSError as exc:
        return CheckResult(
            "store", False, f"{root} not writable: {exc.strerror}", "fix permissions or --state-dir"
        )
    loose = [p.name for p in root.rglob("*.json") if p.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO)]
    mode = stat.S_IMODE(root.stat().st_mode)
    if not readable or mode & (stat.S_IRWXG | stat.S_IRWXO) or loose:
        what = f"{root} mode {mode:o}" + (f", readable by others: {', '.join(loose[:3])}" if loose else "")
        return CheckResult("store", False, what, f"chmod 700 {root} and 600 the files in it")
    return CheckResult("store", True, f"{root} readable and writable, mode {mode:o}")


def check_redis(settings: Settings) -> CheckResult:
    url = settings.redis_url
    if settings.store != "redis" and not url:
        return CheckResult("redis", True, "not configured")
    try:
        import redis

        client = redis.Redis.from_url(
            url or "redis://localhost:6379/0", socket_timeout=5, socket_connect_timeout=5
        )
        client.ping()
        client.close()
    except ImportError:
        return CheckResult(
            "redis", False, "the redis package is missing", "pip install 'chatgpt-browser[redis]'"
        )
    except Exception as exc:  # redis' ConnectionError, TimeoutError, AuthenticationError...
        return CheckResult("redis", False, f"unreachable: {type(exc).__name__}", "is redis-server running?")
    return CheckResult("redis", True, "reachable (PING answered)")


# -- what a site sees ----------------------------------------------------------------------


def check_headless_leaks(probe: Probe) -> CheckResult:
    seen = probe.browser
    if probe.error or not seen:
        return CheckResult(
            "headless_leaks", False, f"browser probe failed: {probe.error}", "run with --debug"
        )
    leaks = []
    if "headless" in str(seen.get("ua", "")).lower():
        leaks.append("UA says Headless")
    brands = seen.get("brands")
    if isinstance(brands, list) and any("headless" in str(b).lower() for b in brands):
        leaks.append("client hints name HeadlessChrome")
    if brands is None:
        leaks.append("no navigator.userAgentData")
    if seen.get("webdriver"):
        leaks.append("navigator.webdriver is true")
    if not seen.get("vendor"):
        leaks.append("no WebGL")
    gpu = f"WebGL {seen.get('vendor')} / {seen.get('renderer')}"
    if leaks:
        return CheckResult(
            "headless_leaks", False, "; ".join(leaks), "report it: the stealth layer missed a leak"
        )
    return CheckResult("headless_leaks", True, f"none: UA, client hints and webdriver clean; {gpu}")


def check_tls(probe: Probe) -> CheckResult:
    from .emulator.fingerprint import binding_of

    browser, client = probe.browser_ja4, probe.client_ja4
    where = "the site" if probe.compared_on == "site" else "a local --tls emulator (the site shows no ja4)"
    if probe.error or not browser or not client:
        return CheckResult("tls_fingerprint", False, f"no fingerprints from {where}: {probe.error}", "")
    if binding_of(browser) != binding_of(client):
        verdict = (
            f"transport {probe.transport!r} presents {client}, the browser {browser} (on {where}): "
            "an edge that binds clearances will refuse every harvested bundle"
        )
        return CheckResult("tls_fingerprint", False, verdict, "use transport 'auto' (or 'curl_cffi')")
    return CheckResult(
        "tls_fingerprint", True, f"transport {probe.transport!r} matches the browser: {client}"
    )


def check_clock(probe: Probe) -> CheckResult:
    if not probe.site_date:
        return CheckResult("clock", False, "the site sent no Date header", "")
    # The header has whole seconds: up to 1 s of that is rounding, not skew.
    skew = probe.date_seen_at - email.utils.parsedate_to_datetime(probe.site_date).timestamp()
    verdict = f"{skew:+.1f} s against the site's Date header"
    if abs(skew) > MAX_CLOCK_SKEW:
        return CheckResult("clock", False, verdict, "sync the clock (NTP): expiry decisions use it")
    return CheckResult("clock", True, verdict)


def check_egress(probe: Probe) -> CheckResult:
    browser, client = probe.browser_trace.get("ip"), probe.client_trace.get("ip")
    if not browser or not client:
        return CheckResult("egress_ip", False, "the trace page did not show both egress IPs", "")
    if browser != client:
        verdict = f"browser leaves from {browser}, the client from {client}: clearances are bound to the IP"
        return CheckResult("egress_ip", False, verdict, "give both the same --proxy")
    return CheckResult("egress_ip", True, f"browser and client both leave from {client}")


def run_checks(settings: Settings, transport: str = "auto") -> list[CheckResult]:
    results = [check_browser(settings), check_playwright(), check_xvfb()]
    probe = probe_site(settings, transport)
    results += [check_headless_leaks(probe), check_tls(probe), check_clock(probe), check_egress(probe)]
    results += [check_store(settings), check_redis(settings)]
    return results


def render_text(results: list[CheckResult]) -> str:
    lines = []
    for result in results:
        lines.append(f"{'ok  ' if result.ok else 'FAIL'} {result.name:<16} {result.verdict}")
        if not result.ok and result.hint:
            lines.append(f"     {'':<16} hint: {result.hint}")
    failed = [r.name for r in results if not r.ok]
    lines.append("all checks passed" if not failed else f"{len(failed)} failed: {', '.join(failed)}")
    return "\n".join(lines)


def render_json(results: list[CheckResult]) -> str:
    return json.dumps({"ok": all(r.ok for r in results), "checks": [r.to_dict() for r in results]})


def run(
    settings: Settings,
    *,
    transport: str = "auto",
    fmt: str = "text",
    out: Callable[[str], None] = print,
) -> int:
    """Run every check, print the verdicts; 0 when all passed, else CHECK_FAILED (14)."""
    results = run_checks(settings, transport)
    out(render_json(results) if fmt == "json" else render_text(results))
    return 0 if all(r.ok for r in results) else CHECK_FAILED


__all__ = [
    "CheckResult",
    "Probe",
    "parse_trace",
    "probe_site",
    "render_json",
    "render_text",
    "run",
    "run_checks",
]
