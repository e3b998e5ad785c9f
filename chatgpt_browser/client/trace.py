"""`debug=True`: a trace of every request a client sends, with no secret in it.

The original client printed its requests when `debug` was on; a library should log
instead (the application decides where logs go). A client built with `debug=True`
wraps its transport in `TracingTransport`, which writes one DEBUG record per request
(method, URL without query, proxy without credentials, header names with cookie and
bearer values shown as fingerprints, status, time to headers) and one when a
response is closed (bytes read, total time) to the `chatgpt_browser.client.trace`
logger. That logger is set to DEBUG so the records reach the application's handlers
whatever its root level; clients without `debug` never write to it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from urllib.parse import urlsplit

from ..credentials import fingerprint
from ..errors import ChatGPTError
from .transport import Timeout, Transport, TransportResponse

TRACE_LOGGER = "chatgpt_browser.client.trace"
log = logging.getLogger(TRACE_LOGGER)

_SECRET_HEADERS = frozenset({"cookie", "authorization", "proxy-authorization"})


def _safe_url(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def describe_headers(headers: Mapping[str, str]) -> str:
    """`Name: value` pairs, with secret values replaced by their fingerprints."""
    shown = []
    for name, value in headers.items():
        if name.lower() in _SECRET_HEADERS:
            value = f"<{fingerprint(value)}>"
        shown.append(f"{name}: {value}")
    return "; ".join(shown)


class _TracedResponse:
    def __init__(self, inner: TransportResponse, label: str, started: float) -> None:
        self._inner = inner
        self._label = label
        self._started = started
        self._bytes = 0
        self._closed = False
        self.status_code = inner.status_code
        self.headers = inner.headers

    def set_cookies(self) -> list[str]:
        return self._inner.set_cookies()

    def iter_bytes(self) -> Iterator[bytes]:
        for chunk in self._inner.iter_bytes():
            self._bytes += len(chunk)
            yield chunk

    def read(self) -> bytes:
        data = self._inner.read()
        self._bytes += len(data)
        return data

    def interrupt(self) -> None:
        self._inner.interrupt()

    def close(self) -> None:
        self._inner.close()
        if not self._closed:
            self._closed = True
            elapsed = (time.perf_counter() - self._started) * 1000
            log.debug("%s: closed after %d bytes, %.1f ms", self._label, self._bytes, elapsed)


class TracingTransport:
    """A transport that logs what the wrapped one sends (see the module docstring)."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        log.setLevel(logging.DEBUG)

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: Timeout,
        stream: bool,
        proxy: str | None = None,
    ) -> TransportResponse:
        label = f"{method} {_safe_url(url)}"
        via = _safe_url(proxy) if proxy else "direct"
        log.debug(
            "%s via %s, %d body bytes, timeout %s; %s",
            label,
            via,
            len(body or b""),
            timeout,
            describe_headers(headers),
        )
        started = time.perf_counter()
        try:
            response = self.inner.request(
                method, url, headers=headers, body=body, timeout=timeout, stream=stream, proxy=proxy
            )
        except ChatGPTError as exc:
            elapsed = (time.perf_counter() - started) * 1000
            log.debug("%s: failed after %.1f ms: %s", label, elapsed, type(exc).__name__)
            raise
        elapsed = (time.perf_counter() - started) * 1000
        log.debug(
            "%s: %d %s in %.1f ms",
            label,
            response.status_code,
            response.headers.get("content-type", ""),
            elapsed,
        )
        return _TracedResponse(response, label, started)

    def close(self) -> None:
        self.inner.close()


__all__ = ["TRACE_LOGGER", "TracingTransport", "describe_headers"]
