"""`ChatGPTAPI`: the original JS client's API over a harvested credential bundle.

How this works: this module turns the original's options and methods into requests
and reads the answers. Each call has one deadline (its `timeout`, else the retry
policy's `max_total`) and hands a request builder to the client's `CredentialFlow`
(`_flow.py`), which holds the immutable `Credentials` bundle, sends the request
through the transient retry policy, and on 401 / 403 fixes the bundle and sends again.
A conversation POST is never replayed once it may have reached the server: that
failure is a `MessageMaybeSentError` carrying the message id.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from ..config import SiteProfile, Timeouts
from ..credentials import Credentials, CredentialSource
from ..errors import (
    AbortedError,
    ChatGPTBrowserError,
    ChatGPTError,
    MessageMaybeSentError,
)
from ..redact import fingerprint
from ..site import RenewReason, error_for_response
from ._conversation import Conversation
from ._flow import CredentialFlow
from ._models import ChatResponse, ModerationResult
from ._options import (
    checked_headers,
    checked_text,
    conversation_body,
    initial_bundle,
    site_url_of,
    timeouts_of,
)
from ._retry import Deadline, RetryPolicy
from ._source import as_source
from ._stream import ConversationReader, MessageStream, OnEvent
from ._trace import TracingTransport
from ._transport import Request, Response, Transport, make_transport
from ._wire import credential_headers, host_of, json_body, read_body

log = logging.getLogger(__name__)


class ChatGPTAPI:
    """Client of the chat site's backend API (see the module docstring).

    The original's options, plus ours:

    - `session_token`, `clearance_token`: required unless `credentials` or a
      `provider` gives a bundle (a missing one raises `ChatGPTError`, status 401).
    - `markdown=False`: answers (and partial answers) as plain text.
    - `headers`: extra headers for every request; they replace the defaults
      (Origin, Referer, Accept-Language, ...) case-insensitively. A header bound
      to the credentials (User-Agent, client hints, Cookie, Authorization) or to
      the request (Accept, Content-Type, Host, ...) cannot be set: naming one
      raises `ConfigError` (`_wire.is_bound_header`).
    - `debug`: log a trace of every request (`trace.py`; no secrets in it).
    - `provider`: a `CredentialSource` or a callable returning `Credentials`, asked
      for a fresh bundle on a dead session or clearance.
    - `proxy`: the egress for bundles that carry no proxy; a bundle's own proxy
      always wins, since its clearance is bound to that IP.
    - `transport`: "auto" (default: Chrome's TLS via curl_cffi for a bundle a browser
      harvested, else requests; `impersonate.py`), "requests", "curl_cffi", or an
      instance; `timeout`: seconds or `Timeouts`; `retry`: a `RetryPolicy`.
    """

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
        credentials = initial_bundle(
            credentials,
            source,
            session_token=session_token,
            clearance_token=clearance_token,
            site_url=site_url_of(site, api_base_url),
            user_agent=user_agent,
            access_token=access_token,
            access_token_ttl=access_token_ttl,
            min_ttl=min_ttl,
        )
        self._site = (
            site
            if isinstance(site, SiteProfile)
            else SiteProfile(base_url=site_url_of(site or credentials.site, api_base_url))
        )
        self._api_base_url = (api_base_url or self._site.api_base_url).rstrip("/")
        self._backend_api_base_url = (backend_api_base_url or self._site.backend_api_base_url).rstrip("/")
        # Explicitly configured API URLs are configured hosts too; nothing else is.
        self._allowed_hosts = self._site.allowed_hosts | {
            host_of(self._api_base_url),
            host_of(self._backend_api_base_url),
        }
        self._markdown = markdown
        self._headers = checked_headers(headers)
        self._model = model or self._site.model
        self._timeouts = timeouts_of(timeout)
        # The transport has no proxy of its own: each request names its bundle's.
        self._owns_transport = transport is None or isinstance(transport, str)
        self._transport = make_transport(transport, None, verify, credentials.user_agent, credentials)
        if debug:
            self._transport = TracingTransport(self._transport)
        self._retry = retry or RetryPolicy()
        self._flow = CredentialFlow(
            credentials,
            transport=self._transport,
            site=self._site,
            allowed_hosts=self._allowed_hosts,
            provider=source,
            timeouts=self._timeouts,
            policy=self._retry,
            headers=self._headers,
            access_token_ttl=access_token_ttl,
            min_ttl=min_ttl,
            session_url=self._api_base_url + "/auth/session",
            default_proxy=proxy,
            sleep=sleep,
        )
        #: Counters: "refreshes" (session calls), "renewals" (new clearances), "resets".
        self.stats = self._flow.stats
        # Headers of every backend-api request, as the site's own page sent them; the
        # `headers` option may replace them (`_wire.credential_headers` has the rules).
        self._defaults = {
            "Content-Type": "application/json",
            "X-OpenAI-Assistant-App-Id": "",
            "Origin": self._site.base_url,
            "Referer": self._site.url(self._site.chat_path),
        }

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
        return self._flow.credentials.clearance_token

    @property
    def session_token(self) -> str:
        return self._flow.credentials.session_token

    @property
    def user_agent(self) -> str:
        return self._flow.credentials.user_agent

    @property
    def user(self) -> Mapping[str, object] | None:
        """The signed-in user after a successful session call, else None."""
        return self._flow.user

    @property
    def credentials(self) -> Credentials:
        """The current bundle (with the rotated session token and latest access token)."""
        return self._flow.credentials

    @property
    def site(self) -> SiteProfile:
        return self._site

    def __repr__(self) -> str:
        creds = self._flow.credentials
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

    def refresh_session(self, *, timeout: float | None = None) -> str:
        """A valid access token: cached until the TTL or the JWT's `exp`, whichever is first."""
        self._flow.send(None, self._deadline(timeout))
        token = self._flow.credentials.access_token
        assert token is not None
        return token

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
        self._flow.close_session()

    def reset_session(self) -> Credentials:
        """A fresh session: from the provider (e.g. a new harvest), else close + init.

        Returns the new bundle."""
        self._flow.reset(RenewReason.RESET, self._deadline(None))
        return self._flow.credentials

    # -- messages ------------------------------------------------------------------------

    def get_conversation(
        self,
        conversation_id: str | None = None,
        parent_message_id: str | None = None,
        *,
        timeout: float | None = None,
    ) -> Conversation:
        """A conversation that carries its ids from one message to the next (the
        original's `getConversation`); pass the ids of an earlier answer to continue it.
        `timeout` is the default whole-call timeout of each of its messages."""
        return Conversation(
            self, conversation_id=conversation_id, parent_message_id=parent_message_id, timeout=timeout
        )

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
        on_conversation_response: OnEvent | None = None,
    ) -> MessageStream:
        """Like `send_message`, as an iterable of updates (`response` so far and `delta`)."""
        message_id = message_id or str(uuid.uuid4())
        parent_message_id = parent_message_id or str(uuid.uuid4())
        body = conversation_body(
            checked_text(message, "the prompt"),
            message_id=message_id,
            parent_message_id=parent_message_id,
            conversation_id=conversation_id,
            action=action,
            model=model or self._model,
        )
        url = self._backend_api_base_url + "/conversation"
        what = "POST /backend-api/conversation"

        def maybe_sent(error: ChatGPTError) -> ChatGPTError:
            return MessageMaybeSentError(
                f"{what}: {error}; the message may have been posted, so it is not sent again "
                f"(message_id={message_id})",
                message_id=message_id,
                conversation_id=conversation_id,
                parent_message_id=parent_message_id,
                status_code=error.status_code,
                original_error=error,
            )

        def opener() -> ConversationReader:
            deadline = self._deadline(timeout)

            def build(creds: Credentials, token: str | None, deadline: Deadline) -> Request:
                if abort is not None and abort.is_set():
                    raise AbortedError(f"{what}: aborted by the caller before sending")
                return self._request(
                    creds, token, url, body, deadline, accept="text/event-stream", stream=True
                )

            response = self._flow.send(build, deadline, maybe_sent=maybe_sent)
            assert response is not None
            if "text/event-stream" not in response.headers.get("content-type", ""):
                raise _unexpected(response, what)
            return ConversationReader(
                response,
                what=what,
                markdown=self._markdown,
                deadline=deadline.at,
                abort=abort,
                on_event=on_conversation_response,
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
        on_conversation_response: OnEvent | None = None,
        abort: threading.Event | None = None,
    ) -> ChatResponse:
        """Send a prompt and return the whole answer.

        `on_progress` sees each partial answer (`ChatResponse`, text so far and delta);
        `on_conversation_response` sees each raw event of the stream (its JSON object,
        read-only: message, conversation_id, error), as the original's callback did.
        `timeout` bounds the whole answer; `abort` (a `threading.Event`) stops it."""
        stream = self.stream_message(
            message,
            conversation_id=conversation_id,
            parent_message_id=parent_message_id,
            message_id=message_id,
            action=action,
            model=model,
            timeout=timeout,
            abort=abort,
            on_conversation_response=on_conversation_response,
        )
        updates = iter(stream)
        with contextlib.closing(updates):  # type: ignore[type-var]
            for update in updates:
                if on_progress is not None:
                    on_progress(update)
        assert stream.result is not None
        return stream.result

    def send_moderation(self, input: str, *, timeout: float | None = None) -> ModerationResult:
        """Ask the moderation endpoint about `input`; `timeout` bounds the whole call."""
        url = self._backend_api_base_url + "/moderations"
        text = checked_text(input, "the moderation input")
        body = json.dumps({"input": text, "model": "text-moderation-playground"}).encode("utf-8")
        what = "POST /backend-api/moderations"

        def build(creds: Credentials, token: str | None, deadline: Deadline) -> Request:
            return self._request(creds, token, url, body, deadline, accept="*/*", stream=False)

        response = self._flow.send(build, self._deadline(timeout))
        assert response is not None
        document = json_body(response, what)
        if not isinstance(document, dict) or not isinstance(document.get("flagged"), bool):
            raise ChatGPTError(f"{what}: unexpected answer", status_code=200, detail=document)
        return ModerationResult(
            flagged=document["flagged"],
            blocked=bool(document.get("blocked", False)),
            moderation_id=document.get("moderation_id"),
        )

    # -- requests ------------------------------------------------------------------------

    def _deadline(self, timeout: float | None) -> Deadline:
        """The call's one deadline: `timeout` when given (the whole call: retries,
        recovery, the answer), else the retry budget bounds the retries only."""
        return Deadline.after(timeout)

    def _request(
        self,
        creds: Credentials,
        token: str | None,
        url: str,
        body: bytes,
        deadline: Deadline,
        *,
        accept: str,
        stream: bool,
    ) -> Request:
        """A POST to backend-api with the bundle's headers, through the bundle's proxy."""
        headers = credential_headers(
            url,
            creds,
            self._site,
            self._allowed_hosts,
            bearer=token,
            extra=self._headers,
            defaults={"Accept": accept, **self._defaults},
        )
        what = f"POST {url}"
        read = self._timeouts.stream_stall if stream else self._timeouts.read
        timeout = (deadline.cap(self._timeouts.connect, what), deadline.cap(read, what))
        proxy = self._flow.proxy_for(creds)
        return Request("POST", url, headers, body, timeout, proxy, stream, total=deadline.remaining())


def _unexpected(response: Response, what: str) -> ChatGPTBrowserError:
    """The typed error of a 2xx answer that is not the event stream asked for."""
    return error_for_response(response.status_code, response.headers, read_body(response), what=what)


__all__ = ["ChatGPTAPI", "ChatResponse", "MessageStream", "ModerationResult"]
