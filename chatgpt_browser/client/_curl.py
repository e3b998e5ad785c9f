"""The curl_cffi transport: the same requests with Chrome's TLS / HTTP2 fingerprint.

In stream mode curl runs in a worker thread that fills a queue; reading that queue
with a short timeout lets `interrupt()` take effect even while the network is silent.
The Chrome profile is picked from each request's User-Agent (a renewal may change it).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Protocol, cast

from ..errors import ChatGPTTimeoutError, ConfigError, NetworkError
from ._transport import Request, Response, _network_error, send_options

if TYPE_CHECKING:
    from curl_cffi.requests import Response as CurlResponse


class _CurlSession(Protocol):
    """What this transport uses of a curl_cffi `Session` (whose own types are stricter:
    literal method and profile names)."""

    curl_options: dict[object, int]

    def request(self, method: str, url: str, **options: object) -> CurlResponse: ...

    def close(self) -> None: ...


#: How often a curl_cffi stream read looks for an interrupt.
_CURL_POLL = 0.05


def _total_timeout(total: float | None) -> dict[object, int]:
    """A hard cap on a curl transfer: curl bounds a stream's wait for its headers only by
    its low-speed check, which takes whole seconds and overshoots a short deadline."""
    if total is None:
        return {}
    from curl_cffi import CurlOpt

    return {CurlOpt.TIMEOUT_MS: max(1, int(total * 1000))}


def impersonate_target(user_agent: str) -> str:
    """The curl_cffi Chrome profile of the UA's Chrome version: exact, else the nearest
    lower one (`impersonate.pick_chrome_target`); the newest for a UA naming no Chrome."""
    from .impersonate import chrome_major, pick_chrome_target, supported_chrome_targets

    return pick_chrome_target(chrome_major(user_agent), supported_chrome_targets()) or "chrome"


class _CurlResponse:
    """A curl_cffi response. In stream mode curl runs in a worker thread that fills a
    queue; reading that queue with a short timeout lets `interrupt()` take effect even
    while the network is silent."""

    def __init__(self, response: CurlResponse, what: str, stall: float) -> None:
        self._response = response
        self._what = what
        self._stall = stall
        self._interrupted = threading.Event()
        self.status_code = int(response.status_code)
        # curl_cffi's Headers: case-insensitive, and no value is None in an answer.
        self.headers = cast("Mapping[str, str]", response.headers)

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
    """Sends requests with a Chrome TLS/HTTP2 fingerprint (curl_cffi, a dependency)."""

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
                "the curl_cffi transport needs curl_cffi: pip install 'curl_cffi>=0.7'"
            ) from exc
        #: The profile for `user_agent`; each request uses the one of its own User-Agent.
        self.impersonate = impersonate or impersonate_target(user_agent)
        self._fixed_impersonate = impersonate
        self._targets: dict[str, str] = {user_agent: self.impersonate}
        self._proxy = proxy
        self._options: dict[str, object] = {
            "impersonate": self.impersonate,
            "verify": verify,
            "trust_env": False,
            "default_headers": False,
            "discard_cookies": True,
            "allow_redirects": False,
        }
        self._factory = cast("Callable[..., _CurlSession]", curl_requests.Session)
        # A curl handle must not be shared between threads: one session per thread.
        self._local = threading.local()
        self._sessions: list[_CurlSession] = []
        self._lock = threading.Lock()

    def _session(self) -> _CurlSession:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._factory(**self._options)
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def send(self, request: Request) -> Response:
        what = request.label
        session = self._session()
        # curl_cffi takes extra curl options per session only; sessions are per thread here.
        session.curl_options = _total_timeout(request.total)
        try:
            response = session.request(
                request.method,
                request.url,
                **send_options(request),
                proxy=request.proxy or self._proxy,
                impersonate=self.target_for(request.headers),
            )
        except Exception as exc:
            raise _network_error(exc, what) from exc
        return _CurlResponse(response, what, stall=request.timeout[1])

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


__all__ = ["CurlCffiTransport", "impersonate_target"]
