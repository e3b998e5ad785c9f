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
from collections.abc import Iterator

from ..errors import ChatGPTError
from ..redact import describe_headers, safe_url
from ._transport import Request, Response, Transport

TRACE_LOGGER = "chatgpt_browser.client.trace"
log = logging.getLogger(TRACE_LOGGER)


class _TracedResponse:
    def __init__(self, inner: Response, label: str, started: float) -> None:
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

    def send(self, request: Request) -> Response:
        label = f"{request.method} {safe_url(request.url)}"
        via = safe_url(request.proxy) if request.proxy else "direct"
        log.debug(
            "%s via %s, %d body bytes, timeout %s; %s",
            label,
            via,
            len(request.body or b""),
            request.timeout,
            describe_headers(request.headers),
        )
        started = time.perf_counter()
        try:
            response = self.inner.send(request)
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
