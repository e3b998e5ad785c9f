"""What the Cloudflare edge adds to every site response, and its trace page.

- `server: cloudflare` and a `cf-ray` on every response, `cf-cache-status: DYNAMIC` on
  the app's own answers (not on challenge or block pages, which the edge makes itself);
- gzip for HTML and JSON when the client accepts it (SSE and other streams stay as they
  are: the edge does not buffer an event stream);
- `/cdn-cgi/trace`: `key=value` lines about the request as the edge saw it (`ip`, `uag`,
  `http`, `tls`, `ja4`, ...); like the real one it is not behind the challenge;
- the client-hints rule: a `sec-ch-ua` that contradicts the User-Agent (another Chrome
  major, or Chromium brands on a Firefox/Safari UA) is not a browser.
"""

from __future__ import annotations

import re
import ssl
import time

from aiohttp import web

from .challenge import client_ip, ray_id
from .edge_tls import TlsRegistry

TRACE_PATH = "/cdn-cgi/trace"
_COMPRESSED_TYPES = frozenset({"text/html", "application/json", "text/plain", "text/css"})
_BRAND = re.compile(r'"([^"]*)"\s*;\s*v\s*=\s*"([^"]*)"')
_CHROME_MAJOR = re.compile(r"(?:Chrome|Chromium|HeadlessChrome)/(\d+)")
_VERSIONED_BRANDS = frozenset({"chromium", "google chrome"})
_TLS_NAMES = {"TLSv1.3": "TLSv1.3", "TLSv1.2": "TLSv1.2"}


async def edge_headers(request: web.Request, response: web.StreamResponse) -> None:
    """`on_response_prepare` hook of the site app."""
    if request.path.startswith("/__admin"):
        return
    headers = response.headers
    headers["Server"] = "cloudflare"
    headers.setdefault("cf-ray", ray_id())
    if "cf-mitigated" not in headers and response.status != 403:
        headers.setdefault("cf-cache-status", "DYNAMIC")


def maybe_compress(request: web.Request, response: web.StreamResponse) -> None:
    """Gzip a complete HTML/JSON/text answer when the client accepts gzip."""
    if not isinstance(response, web.Response) or response.body is None:
        return
    if response.content_type not in _COMPRESSED_TYPES or "Content-Encoding" in response.headers:
        return
    accepted = {
        part.split(";")[0].strip().lower() for part in request.headers.get("Accept-Encoding", "").split(",")
    }
    if "gzip" in accepted:
        response.enable_compression(web.ContentCoding.gzip)


def hints_contradict(sec_ch_ua: str, user_agent: str) -> bool:
    """True when `sec-ch-ua` cannot come from the browser this User-Agent names."""
    brands = {name.strip().lower(): version for name, version in _BRAND.findall(sec_ch_ua)}
    versioned = {name: v for name, v in brands.items() if name in _VERSIONED_BRANDS}
    major = _CHROME_MAJOR.search(user_agent)
    if major is None:  # Firefox and Safari send no client hints at all
        return bool(versioned)
    if not versioned:
        return True
    return any(version.split(".")[0] != major.group(1) for version in versioned.values())


def trace_response(request: web.Request, registry: TlsRegistry) -> web.Response:
    """The `/cdn-cgi/trace` page: one `key=value` per line, text/plain."""
    fp = registry.for_request(request)
    ssl_object = request.transport.get_extra_info("ssl_object") if request.transport else None
    tls = "off"
    if isinstance(ssl_object, (ssl.SSLObject, ssl.SSLSocket)):
        version = ssl_object.version()
        tls = _TLS_NAMES.get(version, version) if version is not None else "off"
    lines = {
        "fl": "29f1",
        "h": request.host,
        "ip": client_ip(request),
        "ts": f"{time.time():.3f}",
        "visit_scheme": request.scheme,
        "uag": request.headers.get("User-Agent", ""),
        "colo": "LHR",
        "sliver": "none",
        "http": f"http/{request.version.major}.{request.version.minor}",
        "loc": "GB",
        "tls": tls,
        "sni": "off",
        "warp": "off",
        "gateway": "off",
        "ja4": fp.ja4 if fp else "",
        "ja3": fp.ja3 if fp else "",
    }
    text = "".join(f"{key}={value}\n" for key, value in lines.items())
    return web.Response(text=text, content_type="text/plain", headers={"Cache-Control": "no-store"})
