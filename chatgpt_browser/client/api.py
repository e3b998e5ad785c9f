"""`ChatGPTAPI`: the original JS client's API over a harvested credential bundle.

How this works: the client holds one immutable `Credentials` bundle (replaced, never
mutated). Each public call runs its attempts under a tenacity policy (`retry.py`):
an attempt takes the current bundle, makes sure there is a valid access token (one
refresh at a time across threads, others wait and reuse it), and sends one request.
Typed errors decide what happens next: a 401 refreshes the token or resets the
session, a challenge asks the provider for a new clearance, transient failures back
off. The bundle's lifecycle (refresh, rotation, renewals, once for all threads) lives
in `keeper.py`; this module builds requests and reads answers.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from ..config import DEFAULT_USER_AGENT, SiteProfile, Timeouts
from ..credentials import Credentials, CredentialSource, fingerprint
from ..errors import (
    AbortedError,
    ChallengeRequiredError,
    ChatGPTError,
)
from .keeper import CredentialKeeper, as_source
from .models import ChatResponse, ModerationResult
from .refresh import refresh_credentials
from .retry import CallState, ChallengeBreaker, Reason, RetryPolicy, build_retrying
from .status import error_for_response
from .stream import ConversationReader
from .transport import Transport, TransportResponse, make_transport
from .wire import credential_headers, host_of, jwt_expiry

log = logging.getLogger(__name__)
T = TypeVar("T")

_MAX_ERROR_BODY = 256 * 1024


class MessageStream:
    """Iterable of `ChatResponse` updates of one answer; `result` is the final answer."""

    def __init__(self, opener: Callable[[], ConversationReader]) -> None:
        self._opener = opener
        self.result: ChatResponse | None = None

    def __iter__(self) -> Iterator[ChatResponse]:
        reader = self._opener()
        yield from reader
        self.result = reader.final


class ChatGPTAPI:
    """Client of the chat site's backend API (see the module docstring)."""

    def __init__(
        self,
        session_token: str | None = None,
        clearance_token: str | None = None,
        *,
        markdown: bool = True,
        api_base_url: str | None = None,
        backend_api_base_url: str | None = None,
        user_agent: str | None = None,
        access_token: str | None = None,
        access_token_ttl: float = 3600.0,
        debug: bool = False,
        headers: Mapping[str, str] | None = None,
        provider: CredentialSource | Callable[[], Credentials] | None = None,
        credentials: Credentials | None = None,
        site: SiteProfile | str | None = None,
        proxy: str | None = None,
        timeout: float | Timeouts | None = None,
        transport: Transport | str | None = None,
        verify: bool | str = True,
        retry: RetryPolicy | None = None,
        model: str | None = None,
        min_ttl: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        source = as_source(provider)
        if credentials is None and session_token and clearance_token:
            credentials = Credentials(
                site=_site_url(site, api_base_url),
                user_agent=user_agent or DEFAULT_USER_AGENT,
                session_token=session_token,
                clearance_token=clearance_token,
                source="manual",
            )
        if credentials is None and source is not None:
            credentials = source.get(min_ttl)
        if credentials is None:
            missing = "session_token" if not session_token else "clearance_token"
            raise ChatGPTError(f"ChatGPT invalid {missing}", status_code=401, status_text="Unauthorized")
        if access_token:
            expiry = jwt_expiry(access_token)
            ttl_expiry = time.time() + access_token_ttl
            credentials = credentials.replace(
                access_token=access_token,
                access_token_expires_at=ttl_expiry if expiry is None else min(expiry, ttl_expiry),
            )
        self._site = (
            site
            if isinstance(site, SiteProfile)
            else SiteProfile(base_url=_site_url(site or credentials.site, api_base_url))
        )
        self._api_base_url = (api_base_url or self._site.api_base_url).rstrip("/")
        self._backend_api_base_url = (backend_api_base_url or self._site.backend_api_base_url).rstrip("/")
        # Explicitly configured API URLs are configured hosts too; nothing else is.
        self._allowed_hosts = self._site.allowed_hosts | {
            host_of(self._api_base_url),
            host_of(self._backend_api_base_url),
        }
        self._markdown = markdown
        self._headers = dict(headers or {})
        self._model = model or self._site.model
        self._timeouts = (
            timeout
            if isinstance(timeout, Timeouts)
            else (
                Timeouts() if timeout is None else Timeouts(read=float(timeout), stream_stall=float(timeout))
            )
        )
        self._owns_transport = transport is None or isinstance(transport, str)
        self._transport = make_transport(
            transport, proxy or credentials.proxy, verify, credentials.user_agent
        )
        self._keeper = CredentialKeeper(
            credentials,
            provider=source,
            site=self._site,
            session_url=self._api_base_url + "/auth/session",
            allowed_hosts=self._allowed_hosts,
            transport=self._transport,
            timeouts=self._timeouts,
            access_token_ttl=access_token_ttl,
            headers=self._headers,
            min_ttl=min_ttl,
        )
        #: Counters: "refreshes" (session calls), "renewals" (new clearances), "resets".
        self.stats = self._keeper.stats
        self._retry = retry or RetryPolicy()
        self._breaker = ChallengeBreaker(self._retry.breaker_threshold, self._retry.breaker_cooldown)
        self._retrying = build_retrying(
            self._retry, recover=self._recover, breaker=self._breaker, sleep=sleep
        )
        if debug:
            logging.getLogger("chatgpt_browser.client").setLevel(logging.DEBUG)

    @classmethod
    def from_credentials(
        cls,
        credentials: Credentials,
        *,
        provider: CredentialSource | Callable[[], Credentials] | None = None,
        **options: Any,
    ) -> ChatGPTAPI:
        """A client using a harvested bundle (UA, client hints, proxy and tokens together)."""
        return cls(credentials=credentials, provider=provider, **options)

    # -- properties (as in the original) ------------------------------------------------

    @property
    def clearance_token(self) -> str | None:
        return self._keeper.credentials.clearance_token

    @property
    def session_token(self) -> str:
        return self._keeper.credentials.session_token

    @property
    def user_agent(self) -> str:
        return self._keeper.credentials.user_agent

    @property
    def user(self) -> Mapping[str, Any] | None:
        """The signed-in user after a successful session call, else None."""
        return self._keeper.user

    @property
    def credentials(self) -> Credentials:
        """The current bundle (with the rotated session token and latest access token)."""
        return self._keeper.credentials

    @property
    def site(self) -> SiteProfile:
        return self._site

    def __repr__(self) -> str:
        creds = self._keeper.credentials
        return (
            f"ChatGPTAPI(site={self._site.base_url!r}, session={fingerprint(creds.session_token)}, "
            f"clearance={fingerprint(creds.clearance_token)}, access_token={fingerprint(creds.access_token)})"
        )

    # -- lifetime ------------------------------------------------------------------------

    def close(self) -> None:
        """Release the connection pool (when the client created its transport)."""
        if self._owns_transport:
            self._transport.close()

    def __enter__(self) -> ChatGPTAPI:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- session -------------------------------------------------------------------------

    def init_session(self) -> None:
        """Get an access token (and the user); succeeds only if the session is valid."""
        self.refresh_session()

    def refresh_session(self) -> str:
        """A valid access token: cached until the TTL or the JWT's `exp`, whichever is first."""
        return self._call("GET /api/auth/session", lambda state: self._keeper.access_token()[0])

    def get_is_authenticated(self) -> bool:
        """True if a valid access token can be had, False if refreshing it fails."""
        try:
            self.refresh_session()
        except ChatGPTError as exc:
            log.info("not authenticated: %s", type(exc).__name__)
            return False
        return True

    def close_session(self) -> None:
        """Forget the access token and the user (the next call refreshes)."""
        self._keeper.close_session()

    def reset_session(self) -> Credentials:
        """A fresh session: from the provider (e.g. a new harvest), else close + init.

        Returns the new bundle."""
        return self._keeper.reset("reset")

    # -- messages ------------------------------------------------------------------------

    def stream_message(
        self,
        message: str,
        *,
        conversation_id: str | None = None,
        parent_message_id: str | None = None,
        message_id: str | None = None,
        action: str = "next",
        model: str | None = None,
        timeout: float | None = None,
        abort: threading.Event | None = None,
    ) -> MessageStream:
        """Like `send_message`, as an iterable of updates (`text` so far and `delta`)."""
        payload: dict[str, Any] = {
            "action": action,
            "messages": [
                {
                    "id": message_id or str(uuid.uuid4()),
                    "role": "user",
                    "content": {"content_type": "text", "parts": [message]},
                }
            ],
            "parent_message_id": parent_message_id or str(uuid.uuid4()),
            "model": model or self._model,
        }
        if conversation_id:
            payload["conversation_id"] = conversation_id
        body = json.dumps(payload).encode("utf-8")
        url = self._backend_api_base_url + "/conversation"
        what = "POST /backend-api/conversation"

        def opener() -> ConversationReader:
            deadline = None if timeout is None else time.monotonic() + timeout
            response = self._call(what, lambda state: self._open_stream(state, url, body, abort))
            return ConversationReader(
                response, what=what, markdown=self._markdown, deadline=deadline, abort=abort
            )

        return MessageStream(opener)

    def send_message(
        self,
        message: str,
        *,
        conversation_id: str | None = None,
        parent_message_id: str | None = None,
        message_id: str | None = None,
        action: str = "next",
        model: str | None = None,
        timeout: float | None = None,
        on_progress: Callable[[ChatResponse], None] | None = None,
        abort: threading.Event | None = None,
    ) -> ChatResponse:
        """Send a prompt and return the whole answer; `on_progress` sees each partial one."""
        stream = self.stream_message(
            message,
            conversation_id=conversation_id,
            parent_message_id=parent_message_id,
            message_id=message_id,
            action=action,
            model=model,
            timeout=timeout,
            abort=abort,
        )
        updates = iter(stream)
        with contextlib.closing(updates):  # type: ignore[type-var]
            for update in updates:
                if on_progress is not None:
                    on_progress(update)
        assert stream.result is not None
        return stream.result

    def send_moderation(self, input: str) -> ModerationResult:
        """Ask the moderation endpoint about `input`."""
        url = self._backend_api_base_url + "/moderations"
        body = json.dumps({"input": input, "model": "text-moderation-playground"}).encode("utf-8")
        document = self._call(
            "POST /backend-api/moderations", lambda state: self._post_json(state, url, body)
        )
        if not isinstance(document, dict) or not isinstance(document.get("flagged"), bool):
            raise ChatGPTError(
                "POST /backend-api/moderations: unexpected answer", status_code=200, detail=document
            )
        return ModerationResult(
            flagged=document["flagged"],
            blocked=bool(document.get("blocked", False)),
            moderation_id=document.get("moderation_id"),
        )

    # -- attempts --------------------------------------------------------------------------

    def _call(self, what: str, attempt: Callable[[CallState], T]) -> T:
        def guarded(state: CallState) -> T:
            self._breaker.check()
            self._keeper.renew_if_expired()
            state.used_credentials = self._keeper.credentials
            started_at = time.monotonic()
            try:
                result = attempt(state)
            except ChallengeRequiredError:
                used = state.used_credentials or self._keeper.credentials
                self._breaker.record_challenge(fingerprint(used.clearance_token), started_at)
                raise
            self._breaker.record_success()
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

    def _headers_for(self, url: str, creds: Credentials, token: str, accept: str) -> dict[str, str]:
        headers = credential_headers(
            url, creds, self._site, self._allowed_hosts, bearer=token, extra=self._headers
        )
        headers.update(
            {
                "Accept": accept,
                "Content-Type": "application/json",
                "X-OpenAI-Assistant-App-Id": "",
                "Origin": self._site.base_url,
                "Referer": self._site.url(self._site.chat_path),
            }
        )
        return headers

    def _send(
        self, state: CallState, url: str, body: bytes, *, accept: str, stream: bool
    ) -> TransportResponse:
        token, creds = self._keeper.access_token()
        state.used_credentials = creds
        headers = self._headers_for(url, creds, token, accept)
        read_timeout = self._timeouts.stream_stall if stream else self._timeouts.read
        return self._transport.request(
            "POST",
            url,
            headers=headers,
            body=body,
            timeout=(self._timeouts.connect, read_timeout),
            stream=stream,
        )

    def _raise_for(self, response: TransportResponse, what: str) -> None:
        try:
            body = b""
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > _MAX_ERROR_BODY:
                    break
        finally:
            response.close()
        raise error_for_response(response.status_code, response.headers, body, what=what)

    def _open_stream(
        self, state: CallState, url: str, body: bytes, abort: threading.Event | None
    ) -> TransportResponse:
        what = "POST /backend-api/conversation"
        if abort is not None and abort.is_set():
            raise AbortedError(f"{what}: aborted by the caller before sending")
        response = self._send(state, url, body, accept="text/event-stream", stream=True)
        content_type = response.headers.get("content-type", "")
        if response.status_code != 200 or "text/event-stream" not in content_type:
            self._raise_for(response, what)
        # From here on the server has the message: a failure is never replayed blindly.
        state.streamed = True
        return response

    def _post_json(self, state: CallState, url: str, body: bytes) -> Any:
        what = "POST /backend-api/moderations"
        response = self._send(state, url, body, accept="*/*", stream=False)
        if response.status_code != 200:
            self._raise_for(response, what)
        data = response.read()
        response.close()
        try:
            return json.loads(data)
        except ValueError:
            raise error_for_response(200, response.headers, data, what=what) from None

    def _recover(self, reason: Reason, error: ChatGPTError, state: CallState) -> None:
        """Runs between attempts (tenacity's before_sleep), once for all threads."""
        self._keeper.recover(reason, error, state.used_credentials or self._keeper.credentials)


def _site_url(site: SiteProfile | str | None, api_base_url: str | None) -> str:
    if isinstance(site, SiteProfile):
        return site.base_url
    if site:
        return site
    if api_base_url:
        return api_base_url.rstrip("/").removesuffix("/api")
    return SiteProfile().base_url


__all__ = ["ChatGPTAPI", "ChatResponse", "MessageStream", "ModerationResult", "refresh_credentials"]
