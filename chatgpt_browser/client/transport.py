"""HTTP transports: the seam between the client and an HTTP library.

`RequestsTransport` (default) owns one `requests.Session` (a thread-safe connection
pool); `CurlCffiTransport` (extra `impersonate`) sends the same requests with Chrome's
TLS fingerprint. Both: never follow redirects (the client decides), never keep
cookies (the client builds the Cookie header per request, so a `Secure` cookie works
over the emulator's plain http and nothing is ever sent to a host we did not choose),
ignore proxy/netrc settings from the environment, and translate every foreign
exception into `NetworkError` / `ChatGPTTimeoutError` here, at this one boundary.

The proxy is chosen per request, not per transport: a clearance is bound to the
egress IP that earned it, so each request goes out through the proxy of the bundle
it carries, and a renewal that brings another proxy moves the very next request to
it. Both libraries pool connections per proxy (urllib3's proxy managers, curl's
connection cache), so switching costs nothing while the proxy stays the same. The
curl_cffi transport likewise picks its Chrome profile from each request's User-Agent.
"""

from __future__ import annotations

import http.cookiejar
import logging
import queue
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

import requests

from ..credentials import Credentials
from ..errors import ChatGPTTimeoutError, ConfigError, NetworkError

log = logging.getLogger(__name__)

#: (connect, read) seconds; for a stream, `read` is the stall timeout between chunks.
Timeout = tuple[float, float]
_READ_SIZE = 64 * 1024
#: How often a curl_cffi stream read looks for an interrupt.
_CURL_POLL = 0.05


class TransportResponse(Protocol):
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
    """Sends one request; `stream=True` leaves the body unread."""

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
        """`proxy`: this request's proxy URL (None: the transport's default, if any)."""
        ...

    def close(self) -> None: ...


def _network_error(exc: BaseException, what: str) -> NetworkError:
    timeout_types: tuple[type[BaseException], ...] = (requests.Timeout, socket.timeout)
    try:  # curl_cffi is optional
        from curl_cffi.requests import exceptions as curl_exceptions

        timeout_types += (curl_exceptions.Timeout,)
    except ImportError:  # pragma: no cover
        pass
    text = type(exc).__name__
    if isinstance(exc, timeout_types) or "timed out" in str(exc).lower():
        return ChatGPTTimeoutError(f"{what}: timed out ({text})", original_error=exc)
    return NetworkError(f"{what}: connection failed ({text})", original_error=exc)


class _RequestsResponse:
    def __init__(self, response: requests.Response, what: str) -> None:
        self._response = response
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
        raw = self._response.raw
        # read1 returns what has arrived instead of waiting for a full buffer: the
        # first event reaches on_progress without delay.
        read = raw.read1 if hasattr(raw, "read1") else raw.read
        try:
            while True:
                chunk = read(_READ_SIZE)
                if not chunk:
                    return
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
        what = f"{method} {url.split('?', 1)[0]}"
        chosen = proxy or self._proxy
        try:
            response = self._session.request(
                method,
                url,
                headers=dict(headers),
                data=body,
                timeout=timeout,
                stream=stream,
                allow_redirects=False,
                proxies={"http": chosen, "https": chosen} if chosen else None,
            )
        except Exception as exc:
            raise _network_error(exc, what) from exc
        return _RequestsResponse(response, what)

    def close(self) -> None:
        self._session.close()


def impersonate_target(user_agent: str) -> str:
    """The curl_cffi Chrome profile closest to (not newer than) the UA's Chrome version."""
    from .impersonate import chrome_major, pick_chrome_target, supported_chrome_targets

    return pick_chrome_target(chrome_major(user_agent), supported_chrome_targets()) or "chrome"


class _CurlResponse:
    """A curl_cffi response. In stream mode curl runs in a worker thread that fills a
    queue; reading that queue with a short timeout lets `interrupt()` take effect even
    while the network is silent."""

    def __init__(self, response: Any, what: str, stall: float) -> None:
        self._response = response
        self._what = what
        self._stall = stall
        self._interrupted = threading.Event()
        self.status_code = int(response.status_code)
        self.headers: Mapping[str, str] = response.headers

    def set_cookies(self) -> list[str]:
        return [v for v in self._response.headers.get_list("set-cookie") if v]

    def iter_bytes(self) -> Iterator[bytes]:
        from curl_cffi.requests.models import STREAM_END

        stream_queue = getattr(self._response, "queue", None)
        if stream_queue is None:  # not streamed: the body is already here
            yield self.read()
            return
        last_data = time.monotonic()
        while True:
            try:
                chunk = stream_queue.get(timeout=_CURL_POLL)
            except queue.Empty:
                if self._interrupted.is_set():
                    raise NetworkError(f"{self._what}: interrupted") from None
                if time.monotonic() - last_data > self._stall:
                    self.interrupt()
                    raise ChatGPTTimeoutError(
                        f"{self._what}: timed out (no data for {self._stall}s)"
                    ) from None
                continue
            last_data = time.monotonic()
            if chunk is STREAM_END:
                return
            if isinstance(chunk, BaseException):
                raise _network_error(chunk, self._what) from chunk
            if chunk:
                yield chunk

    def read(self) -> bytes:
        try:
            return bytes(self._response.content)
        except Exception as exc:
            raise _network_error(exc, self._what) from exc

    def interrupt(self) -> None:
        self._interrupted.set()
        quit_now = getattr(self._response, "quit_now", None)
        if quit_now is not None:
            quit_now.set()  # curl aborts at its next write callback

    def close(self) -> None:
        if self._interrupted.is_set():
            # Finishing the stream waits for curl's worker, which may be stuck on a silent
            # socket until its own timeout: let it finish in the background.
            threading.Thread(target=self._response.close, name="curl-close", daemon=True).start()
        else:
            self._response.close()


class CurlCffiTransport:
    """Sends requests with a Chrome TLS/HTTP2 fingerprint (pip install 'chatgpt-browser[impersonate]')."""

    def __init__(
        self,
        *,
        user_agent: str,
        proxy: str | None = None,
        verify: bool | str = True,
        impersonate: str | None = None,
    ) -> None:
        try:
            from curl_cffi import requests as curl_requests
        except ImportError as exc:
            raise ConfigError(
                "the curl_cffi transport needs: pip install 'chatgpt-browser[impersonate]'"
            ) from exc
        #: The profile for `user_agent`; each request uses the one of its own User-Agent.
        self.impersonate = impersonate or impersonate_target(user_agent)
        self._fixed_impersonate = impersonate
        self._targets: dict[str, str] = {user_agent: self.impersonate}
        self._proxy = proxy
        self._options: dict[str, Any] = {
            "impersonate": self.impersonate,
            "verify": verify,
            "trust_env": False,
            "default_headers": False,
            "discard_cookies": True,
            "allow_redirects": False,
        }
        self._factory = curl_requests.Session
        # A curl handle must not be shared between threads: one session per thread.
        self._local = threading.local()
        self._sessions: list[Any] = []
        self._lock = threading.Lock()

    def _session(self) -> Any:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._factory(**self._options)
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

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
        what = f"{method} {url.split('?', 1)[0]}"
        try:
            response = self._session().request(
                method,
                url,
                headers=dict(headers),
                data=body,
                timeout=timeout,
                stream=stream,
                allow_redirects=False,
                proxy=proxy or self._proxy,
                impersonate=self.target_for(headers),
            )
        except Exception as exc:
            raise _network_error(exc, what) from exc
        return _CurlResponse(response, what, stall=timeout[1])

    def target_for(self, headers: Mapping[str, str]) -> str:
        """The Chrome profile matching the request's User-Agent (a renewal may change it)."""
        if self._fixed_impersonate:
            return self._fixed_impersonate
        user_agent = next((v for k, v in headers.items() if k.lower() == "user-agent"), None)
        if user_agent is None:
            return self.impersonate
        target = self._targets.get(user_agent)
        if target is None:
            target = self._targets[user_agent] = impersonate_target(user_agent)
        return target

    def close(self) -> None:
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()


def make_transport(
    transport: Transport | str | None,
    proxy: str | None,
    verify: bool | str,
    user_agent: str,
    credentials: Credentials | None = None,
) -> Transport:
    """The transport a client option names: None/"auto", "requests", "curl_cffi", or an instance.

    "auto" follows the bundle's browser (client/impersonate.py): Chrome's TLS for a bundle
    a browser harvested, plain requests otherwise or without curl_cffi.
    """
    if (transport is None or transport == "auto") and credentials is not None:
        from .impersonate import choose_transport

        choice = choose_transport(credentials)
        log.debug("transport auto: %s (%s)", choice.kind, choice.reason)
        transport = choice.kind
    if transport is None or transport in ("requests", "auto"):
        return RequestsTransport(proxy=proxy, verify=verify)
    if transport in ("curl_cffi", "impersonate"):
        return CurlCffiTransport(user_agent=user_agent, proxy=proxy, verify=verify)
    if isinstance(transport, str):
        raise ConfigError(f"unknown transport {transport!r} (use 'auto', 'requests' or 'curl_cffi')")
    return transport


__all__ = [
    "CurlCffiTransport",
    "RequestsTransport",
    "Timeout",
    "Transport",
    "TransportResponse",
    "impersonate_target",
    "make_transport",
]
