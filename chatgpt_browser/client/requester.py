"""One call of the client: its attempts under the retry policy, and each request sent.

How this works: a call (`Requester.call`) runs `attempt(state)` under the tenacity
policy (`retry.py`). An attempt takes the current bundle from the keeper, makes sure
there is a valid access token (one refresh at a time across threads), builds the
headers, and sends one request through the bundle's own proxy. Typed errors decide
what happens next: a 401 refreshes the token or resets the session, a challenge asks
the provider for a new clearance, transient failures back off. `api.py` builds the
payloads and reads the answers; the bundle's lifecycle lives in `keeper.py`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ..config import SiteProfile, Timeouts
from ..credentials import Credentials, fingerprint
from ..errors import AbortedError, ChallengeRequiredError, ChatGPTError, TLSFingerprintError
from .impersonate import MISMATCH_MESSAGE, impersonating, likely_tls_mismatch
from .keeper import CredentialKeeper
from .retry import CallState, ChallengeBreaker, Reason, RetryPolicy, build_retrying
from .status import error_for_response
from .transport import Transport, TransportResponse
from .wire import credential_headers

T = TypeVar("T")

_MAX_ERROR_BODY = 256 * 1024


class Requester:
    """Sends the requests of one client (see the module docstring)."""

    def __init__(
        self,
        *,
        keeper: CredentialKeeper,
        transport: Transport,
        site: SiteProfile,
        allowed_hosts: frozenset[str],
        timeouts: Timeouts,
        headers: Mapping[str, str],
        default_proxy: str | None,
        retry: RetryPolicy,
        sleep: Callable[[float], None],
    ) -> None:
        self._keeper = keeper
        self._transport = transport
        self._site = site
        self._allowed_hosts = allowed_hosts
        self._timeouts = timeouts
        self._headers = headers
        self._default_proxy = default_proxy
        self._retry = retry
        self.breaker = ChallengeBreaker(retry.breaker_threshold, retry.breaker_cooldown)
        self._retrying = build_retrying(retry, recover=self._recover, breaker=self.breaker, sleep=sleep)
        # Headers of every backend-api request, as the site's own page sent them; the
        # `headers` option may replace them (wire.credential_headers has the rules).
        self._defaults = {
            "Content-Type": "application/json",
            "X-OpenAI-Assistant-App-Id": "",
            "Origin": site.base_url,
            "Referer": site.url(site.chat_path),
        }

    def proxy_for(self, credentials: Credentials) -> str | None:
        """The bundle's own proxy (its clearance is bound to that egress IP), else the option."""
        return credentials.proxy or self._default_proxy

    def call(self, what: str, attempt: Callable[[CallState], T]) -> T:
        """`attempt(state)` until it succeeds or the policy gives up (then its error)."""

        def guarded(state: CallState) -> T:
            self.breaker.check()
            self._keeper.renew_if_expired()
            state.used_credentials = self._keeper.credentials
            started_at = time.monotonic()
            try:
                result = attempt(state)
            except ChallengeRequiredError as exc:
                used = state.used_credentials or self._keeper.credentials
                self.breaker.record_challenge(fingerprint(used.clearance_token), started_at)
                if likely_tls_mismatch(used, impersonating(self._transport)):
                    raise TLSFingerprintError(MISMATCH_MESSAGE, status_code=403, detail="challenge") from exc
                raise
            self.breaker.record_success()
            return result

        state = CallState(self._retry, time.monotonic, what)
        # The happy path skips tenacity's bookkeeping (~20 us a call). A failed first
        # attempt is handed to tenacity, which re-raises it as its own first attempt and
        # takes every decision from there: what to retry, how long to wait, when to stop.
        try:
            return guarded(state)
        except ChatGPTError as exc:
            first_failure: ChatGPTError | None = exc

        def attempt_after_first(state: CallState) -> T:
            nonlocal first_failure
            if first_failure is not None:
                error, first_failure = first_failure, None
                raise error
            return guarded(state)

        return self._retrying(attempt_after_first, state)

    def send(
        self, state: CallState, url: str, body: bytes, *, accept: str, stream: bool
    ) -> TransportResponse:
        """POST `body` with a valid access token; `state` remembers the bundle used."""
        token, creds = self._keeper.access_token()
        state.used_credentials = creds
        headers = credential_headers(
            url,
            creds,
            self._site,
            self._allowed_hosts,
            bearer=token,
            extra=self._headers,
            defaults={"Accept": accept, **self._defaults},
        )
        read_timeout = self._timeouts.stream_stall if stream else self._timeouts.read
        return self._transport.request(
            "POST",
            url,
            headers=headers,
            body=body,
            timeout=(self._timeouts.connect, read_timeout),
            stream=stream,
            proxy=self.proxy_for(creds),
        )

    def open_stream(
        self, state: CallState, url: str, body: bytes, abort: threading.Event | None, what: str
    ) -> TransportResponse:
        """An open event stream (status 200, text/event-stream), else the typed error."""
        if abort is not None and abort.is_set():
            raise AbortedError(f"{what}: aborted by the caller before sending")
        response = self.send(state, url, body, accept="text/event-stream", stream=True)
        content_type = response.headers.get("content-type", "")
        if response.status_code != 200 or "text/event-stream" not in content_type:
            raise_for(response, what)
        # From here on the server has the message: a failure is never replayed blindly.
        state.streamed = True
        return response

    def post_json(self, state: CallState, url: str, body: bytes, what: str) -> Any:
        """The JSON answer to a POST, else the typed error."""
        response = self.send(state, url, body, accept="*/*", stream=False)
        if response.status_code != 200:
            raise_for(response, what)
        data = response.read()
        response.close()
        try:
            return json.loads(data)
        except ValueError:
            raise error_for_response(200, response.headers, data, what=what) from None

    def _recover(self, reason: Reason, error: ChatGPTError, state: CallState) -> None:
        """Runs between attempts (tenacity's before_sleep), once for all threads."""
        self._keeper.recover(reason, error, state.used_credentials or self._keeper.credentials)


def raise_for(response: TransportResponse, what: str) -> None:
    """Read (a bounded part of) an error answer and raise its typed error."""
    try:
        body = b""
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > _MAX_ERROR_BODY:
                break
    finally:
        response.close()
    raise error_for_response(response.status_code, response.headers, body, what=what)


__all__ = ["Requester", "raise_for"]
