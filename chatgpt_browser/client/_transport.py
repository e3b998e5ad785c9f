"""HTTP transports: the seam between the client and an HTTP library.

`RequestsTransport` owns one `requests.Session` (a thread-safe connection pool);
`CurlCffiTransport` (`_curl.py`) sends the same requests with Chrome's TLS
fingerprint. The default, "auto", picks between them per bundle (`impersonate.py`): a
Cloudflare edge binds a clearance to the TLS client family of the browser that earned
it. Both: never follow redirects (the client decides), never keep cookies (the client
builds the Cookie header per request, so a `Secure` cookie works over the emulator's
plain http and nothing is ever sent to a host we did not choose), ignore proxy/netrc
settings from the environment, and translate every foreign exception into
`NetworkError` / `ChatGPTTimeoutError` here, at this one boundary.

The proxy is chosen per request, not per transport: a clearance is bound to the
egress IP that earned it, so each request goes out through the proxy of the bundle
it carries, and a renewal that brings another proxy moves the very next request to
it. Both libraries pool connections per proxy (urllib3's proxy managers, curl's
connection cache), so switching costs nothing while the proxy stays the same. The
curl_cffi transport likewise picks its Chrome profile from each request's User-Agent.

A request is one frozen `Request` value (method, url, headers, body, timeout, proxy,
stream) and a transport is anything with `send(request) -> Response` and `close()`, so
the keyword arguments of a request are spelled once, here. A failure to connect is a
`ConnectError` (nothing was sent: safe to retry any request); any later failure may
have reached the server.
"""

from __future__ import annotations

import dataclasses
import http.cookiejar
import logging
import socket
from collections.abc import Iterator, Mapping
from typing import Protocol, TypedDict

import requests

from ..credentials import Credentials
from ..errors import ChatGPTTimeoutError, ConfigError, ConnectError, NetworkError

log = logging.getLogger(__name__)

#: (connect, read) seconds; for a stream, `read` is the stall timeout between chunks.
Timeout = tuple[float, float]
_READ_SIZE = 64 * 1024


@dataclasses.dataclass(frozen=True)
class Request:
    """One HTTP request, as the client decided it; transports only carry it out."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None = None
    timeout: Timeout = (10.0, 30.0)
    #: This request's proxy URL (None: the transport's default, if any).
    proxy: str | None = None
    #: Leave the body unread (an event stream).
    stream: bool = False
    #: Seconds the whole exchange may take at most (the call's deadline), if any.
    total: float | None = None

    @property
    def label(self) -> str:
        """`METHOD url-without-query`, for messages (queries may carry tokens)."""
        return f"{self.method} {self.url.split('?', 1)[0]}"


class Response(Protocol):
    status_code: int
    headers: Mapping[str, str]

    def set_cookies(self) -> list[str]:
        """The raw `Set-Cookie` header values, one per cookie."""
        ...

    def iter_bytes(self) -> Iterator[bytes]:
        """Body chunks as they arrive; raises NetworkError / ChatGPTTimeoutError."""
        ...

    def read(self) -> bytes: ...

    def interrupt(self) -> None:
        """From another thread: make a blocked read return (used by `abort`)."""
        ...

    def close(self) -> None: ...


class Transport(Protocol):
    """Sends one `Request`; a streamed response leaves its body unread."""

    def send(self, request: Request) -> Response: ...

    def close(self) -> None: ...


#: The former name of `Response`.
TransportResponse = Response


#: curl error codes that mean no request was sent: resolve proxy / host, connect, and
#: the TLS handshake (connect error, certificate problem / cipher / verification / CA file).
_CURL_CONNECT_CODES = frozenset({5, 6, 7, 35, 58, 59, 60, 77})


def _never_connected(exc: BaseException) -> bool:
    """True when `exc` proves the request never left: DNS, refused, connect timeout, proxy."""
    if isinstance(
        exc, (requests.ConnectTimeout, requests.exceptions.ProxyError, requests.exceptions.SSLError)
    ):
        return True
    if isinstance(exc, requests.ConnectionError):
        from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

        reason = getattr(exc.args[0] if exc.args else None, "reason", None)
        return isinstance(reason, (NewConnectionError, ConnectTimeoutError))
    return getattr(exc, "code", None) in _CURL_CONNECT_CODES  # curl_cffi's CurlError


class SendOptions(TypedDict):
    headers: dict[str, str]
    data: bytes | None
    timeout: Timeout
    stream: bool
    allow_redirects: bool


def send_options(request: Request) -> SendOptions:
    """The keywords both transports pass to their session's `request` (redirects are
    never followed: a 3xx is an answer to classify, and cookies must not leak)."""
    return {
        "headers": dict(request.headers),
        "data": request.body,
        "timeout": request.timeout,
        "stream": request.stream,
        "allow_redirects": False,
    }


def _network_error(exc: BaseException, what: str) -> NetworkError:
    from urllib3.exceptions import TimeoutError as Urllib3Timeout

    timeout_types: tuple[type[BaseException], ...] = (
        requests.Timeout,
        socket.timeout,
        TimeoutError,
        Urllib3Timeout,
    )
    try:  # a dependency, but `transport="requests"` never needs it loaded
        from curl_cffi.requests import exceptions as curl_exceptions

        timeout_types += (curl_exceptions.Timeout,)
    except ImportError:  # pragma: no cover
        pass
    text = type(exc).__name__
    if _never_connected(exc):
        return ConnectError(f"{what}: could not connect ({text})", original_error=exc)
    if isinstance(exc, timeout_types):
        return ChatGPTTimeoutError(f"{what}: timed out ({text})", original_error=exc)
    return NetworkError(f"{what}: connection failed ({text})", original_error=exc)


class _RequestsResponse:
    def __init__(self, response: requests.Response, what: str, stream: bool) -> None:
        self._response = response
        self._stream = stream
        self._what = what
        self.status_code = response.status_code
        self.headers: Mapping[str, str] = response.headers

    def set_cookies(self) -> list[str]:
        raw_headers = getattr(self._response.raw, "headers", None)
        if raw_headers is not None and hasattr(raw_headers, "getlist"):
            return list(raw_headers.getlist("Set-Cookie"))
        value = self._response.headers.get("Set-Cookie")
        return [value] if value else []

    def iter_bytes(self) -> Iterator[bytes]:
        if not self._stream:  # requests has read the body already
            yield self.read()
            return
        raw = self._response.raw
        try:
            if getattr(raw, "chunked", False) and hasattr(raw, "read_chunked"):
                # Each HTTP chunk as soon as it is complete (the site writes an event per
                # chunk), with less work per chunk than read1.
                yield from raw.read_chunked(decode_content=True)
                return
            # read1 returns what has arrived instead of waiting for a full buffer: the
            # first event reaches on_progress without delay.
            read = raw.read1 if hasattr(raw, "read1") else raw.read
            while chunk := read(_READ_SIZE):
                yield chunk
        except Exception as exc:
            raise _network_error(exc, self._what) from exc

    def read(self) -> bytes:
        try:
            return self._response.content
        except Exception as exc:
            raise _network_error(exc, self._what) from exc

    def interrupt(self) -> None:
        connection = getattr(self._response.raw, "connection", None)
        sock = getattr(connection, "sock", None)
        try:
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def close(self) -> None:
        self._response.close()


class RequestsTransport:
    """The default transport, on a `requests.Session` (connection pooling, thread-safe sends)."""

    def __init__(self, *, proxy: str | None = None, verify: bool | str = True, pool_size: int = 64) -> None:
        session = requests.Session()
        session.trust_env = False
        session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.headers.clear()
        session.verify = verify
        self._session = session
        self._proxy = proxy

    def send(self, request: Request) -> Response:
        what = request.label
        chosen = request.proxy or self._proxy
        try:
            response = self._session.request(
                request.method,
                request.url,
                **send_options(request),
                proxies={"http": chosen, "https": chosen} if chosen else None,
            )
        except Exception as exc:
            raise _network_error(exc, what) from exc
        return _RequestsResponse(response, what, request.stream)

    def close(self) -> None:
        self._session.close()


def make_transport(
    transport: Transport | str | None,
    proxy: str | None,
    verify: bool | str,
    user_agent: str,
    credentials: Credentials | None = None,
) -> Transport:
    """The transport a client option names: None/"auto", "requests", "curl_cffi", or an instance.

    "auto" (the default) follows the bundle's browser (`impersonate.choose_transport`):
    Chrome's TLS for a bundle a browser harvested, since the edge binds its clearance to
    that TLS family; plain requests for any other bundle, or without `credentials`.
    """
    if transport is None or transport == "auto":
        transport = "requests"
        if credentials is not None:
            from .impersonate import choose_transport

            choice = choose_transport(credentials)
            log.debug("transport auto: %s (%s)", choice.kind, choice.reason)
            transport = choice.kind
    if transport == "requests":
        return RequestsTransport(proxy=proxy, verify=verify)
    if transport in ("curl_cffi", "impersonate"):
        from ._curl import CurlCffiTransport  # lazy: loads curl_cffi only when used

        return CurlCffiTransport(user_agent=user_agent, proxy=proxy, verify=verify)
    if isinstance(transport, str):
        raise ConfigError(f"unknown transport {transport!r} (use 'auto', 'requests' or 'curl_cffi')")
    return transport


__all__ = [
    "Request",
    "RequestsTransport",
    "Response",
    "Timeout",
    "Transport",
    "TransportResponse",
    "make_transport",
]
