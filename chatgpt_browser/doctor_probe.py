"""The doctor's probe: what the launched browser and the HTTP client see of one trace page.

The product's own stealthy launch opens the site's `/cdn-cgi/trace`, reports what a site
sees of it (UA, client hints, webdriver, WebGL) and the trace's `ja4` and `ip`; the
client's transport then fetches the same page. A site whose trace shows no `ja4` (the
real Cloudflare trace page does not) is compared on a local `--tls` emulator instead.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import Settings

_TIMEOUT = 15.0
_PROBE_JS = """() => {
  const gl = document.createElement('canvas').getContext('webgl');
  let vendor = null, renderer = null;
  if (gl) {
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    vendor = gl.getParameter(info ? info.UNMASKED_VENDOR_WEBGL : gl.VENDOR);
    renderer = gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER);
  }
  const data = navigator.userAgentData;
  return {ua: navigator.userAgent, webdriver: navigator.webdriver, vendor, renderer,
          brands: data ? data.brands.map(b => b.brand + '/' + b.version) : null};
}"""


@dataclasses.dataclass
class Probe:
    """What the launched browser and the HTTP client saw of one trace page."""

    trace_url: str = ""
    browser: dict[str, object] = dataclasses.field(default_factory=dict)
    browser_trace: dict[str, str] = dataclasses.field(default_factory=dict)
    client_trace: dict[str, str] = dataclasses.field(default_factory=dict)
    browser_ja4: str = ""
    client_ja4: str = ""
    site_date: str | None = None
    date_seen_at: float = 0.0
    transport: str = ""
    compared_on: str = "site"
    error: str | None = None


def parse_trace(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def _client_trace(
    settings: Settings, url: str, user_agent: str, transport: str, verify: bool | str
) -> dict[str, str]:
    """The trace page as the client's own transport fetches it."""
    from .client._transport import Request, make_transport
    from .credentials import Credentials

    # Only to let "auto" decide as it would for a browser-harvested bundle; sent nowhere.
    sample = Credentials(site=url, user_agent=user_agent, session_token="-", clearance_token="-")
    proxy = settings.proxy
    sender = make_transport(transport, proxy, verify, user_agent, sample)
    try:
        request = Request(
            "GET", url, headers={"User-Agent": user_agent}, timeout=(_TIMEOUT, _TIMEOUT), proxy=proxy
        )
        response = sender.send(request)
        try:
            return parse_trace(response.read().decode("utf-8", "replace"))
        finally:
            response.close()
    finally:
        sender.close()


@contextmanager
def _fallback_edge() -> Iterator[tuple[str, str]]:
    from .emulator.process import Emulator

    with Emulator(tls=True) as emu:
        yield emu.url + "/cdn-cgi/trace", str(emu.ca_file)


def probe_site(settings: Settings, transport: str = "auto") -> Probe:
    """Launch the browser as a harvest does and look at the trace page with it and the client."""
    from .browser.launch import open_browser

    site = (settings.url or "https://chat.openai.com").rstrip("/")
    ca_file = settings.ca_file
    probe = Probe(trace_url=site + "/cdn-cgi/trace", transport=str(transport))
    try:
        with open_browser(
            executable=settings.executable,
            headless=True,
            proxy=settings.proxy,
            # A probe, not a harvest: nothing secret is sent, and the local fallback edge
            # below has its own throw-away CA.
            ignore_https_errors=True,
            launch_timeout=30.0,
        ) as session:
            page = session.new_page()
            page.set_default_timeout(_TIMEOUT * 1000)
            response = page.goto(probe.trace_url)
            probe.site_date = response.headers.get("date") if response else None
            probe.date_seen_at = time.time()
            probe.browser = page.evaluate(_PROBE_JS)
            probe.browser_trace = parse_trace(page.inner_text("body")) if response and response.ok else {}
            user_agent = str(probe.browser.get("ua") or session.user_agent)
            verify = ca_file or True
            probe.client_trace = _client_trace(settings, probe.trace_url, user_agent, transport, verify)
            probe.browser_ja4 = probe.browser_trace.get("ja4", "")
            probe.client_ja4 = probe.client_trace.get("ja4", "")
            if not probe.browser_ja4:  # no fingerprint echo on this site: compare on a local edge
                probe.compared_on = "emulator"
                with _fallback_edge() as (trace_url, local_ca):
                    page.goto(trace_url)
                    probe.browser_ja4 = parse_trace(page.inner_text("body")).get("ja4", "")
                    local = _client_trace(settings, trace_url, user_agent, transport, local_ca)
                    probe.client_ja4 = local.get("ja4", "")
    except Exception as exc:  # every failure becomes a failed check with its one line
        probe.error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return probe


__all__ = ["Probe", "parse_trace", "probe_site"]
