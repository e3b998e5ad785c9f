"""`ChatGPTAPI`: the original JS client's API over a harvested credential bundle.

How this works: the client holds one immutable `Credentials` bundle (replaced, never
mutated) in a `CredentialKeeper` (`keeper.py`: refresh, rotation, renewals, once for
all threads). This module turns the original's options and methods into payloads
and reads the answers; `requester.py` runs each call's attempts under the retry
policy and sends the requests (through the proxy of the bundle each one carries).
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ..config import DEFAULT_USER_AGENT, SiteProfile, Timeouts
from ..credentials import Credentials, CredentialSource, fingerprint
from ..errors import ChatGPTError
from .conversation import Conversation
from .keeper import CredentialKeeper, as_source
from .models import ChatResponse, ModerationResult
from .refresh import refresh_credentials
from .requester import Requester
from .retry import RetryPolicy
from .stream import ConversationReader, OnEvent
from .trace import TracingTransport
from .transport import Transport, make_transport
from .wire import host_of, is_bound_header, jwt_expiry

log = logging.getLogger(__name__)


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
        """The original's options, plus ours.

        - `session_token`, `clearance_token`: required unless `credentials` or a
          `provider` gives a bundle (a missing one raises `ChatGPTError`, status 401).
        - `markdown=False`: answers (and partial answers) as plain text.
        - `headers`: extra headers for every request; they replace the defaults
          (Origin, Referer, Accept-Language, ...) case-insensitively, but never the
          ones bound to the credentials (User-Agent, client hints, Cookie,
          Authorization) or to the request (Accept, Content-Type, Host, ...): those
          are ignored, with a warning (`wire.is_bound_header`).
        - `debug`: log a trace of every request (`trace.py`; no secrets in it).
        - `provider`: a `CredentialSource` or a callable returning `Credentials`, asked
          for a fresh bundle on a dead session or clearance.
        - `proxy`: the egress for bundles that carry no proxy; a bundle's own proxy
          always wins, since its clearance is bound to that IP.
        - `transport`: "auto" (default: Chrome's TLS via curl_cffi for a bundle a browser
          harvested, else requests), "requests", "curl_cffi", or an instance;
          `timeout`: seconds or `Timeouts`; `retry`: a `RetryPolicy`.
        """
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
        ignored = sorted(name for name in self._headers if is_bound_header(name))
        if ignored:
            log.warning(
                "the headers option cannot set %s (bound to the credentials or the request)",
                ", ".join(ignored),
            )
        self._model = model or self._site.model
        self._timeouts = (
            timeout
            if isinstance(timeout, Timeouts)
            else (
                Timeouts() if timeout is None else Timeouts(read=float(timeout), stream_stall=float(timeout))
            )
        )
        # The transport has no proxy of its own: each request names its bundle's.
        self._owns_transport = transport is None or isinstance(transport, str)
        self._transport = make_transport(transport, None, verify, credentials.user_agent, credentials)
        if debug:
            self._transport = TracingTransport(self._transport)
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
            default_proxy=proxy,
        )
        #: Counters: "refreshes" (session calls), "renewals" (new clearances), "resets".
        self.stats = self._keeper.stats
        self._requester = Requester(
            keeper=self._keeper,
            transport=self._transport,
            site=self._site,
            allowed_hosts=self._allowed_hosts,
            timeouts=self._timeouts,
            headers=self._headers,
            default_proxy=proxy,
            retry=retry or RetryPolicy(),
            sleep=sleep,
        )

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
        return self._requester.call("GET /api/auth/session", lambda state: self._keeper.access_token()[0])

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

    def get_conversation(
        self, conversation_id: str | None = None, parent_message_id: str | None = None
    ) -> Conversation:
        """A conversation that carries its ids from one message to the next (the
        original's `getConversation`); pass the ids of an earlier answer to continue it."""
        return Conversation(self, conversation_id=conversation_id, parent_message_id=parent_message_id)

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
        requester = self._requester

        def opener() -> ConversationReader:
            deadline = None if timeout is None else time.monotonic() + timeout
            response = requester.call(
                what, lambda state: requester.open_stream(state, url, body, abort, what)
            )
            return ConversationReader(
                response,
                what=what,
                markdown=self._markdown,
                deadline=deadline,
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

    def send_moderation(self, input: str) -> ModerationResult:
        """Ask the moderation endpoint about `input`."""
        url = self._backend_api_base_url + "/moderations"
        body = json.dumps({"input": input, "model": "text-moderation-playground"}).encode("utf-8")
        what = "POST /backend-api/moderations"
        requester = self._requester
        document = requester.call(what, lambda state: requester.post_json(state, url, body, what))
        if not isinstance(document, dict) or not isinstance(document.get("flagged"), bool):
            raise ChatGPTError(f"{what}: unexpected answer", status_code=200, detail=document)
        return ModerationResult(
            flagged=document["flagged"],
            blocked=bool(document.get("blocked", False)),
            moderation_id=document.get("moderation_id"),
        )


def _site_url(site: SiteProfile | str | None, api_base_url: str | None) -> str:
    if isinstance(site, SiteProfile):
        return site.base_url
    if site:
        return site
    if api_base_url:
        return api_base_url.rstrip("/").removesuffix("/api")
    return SiteProfile().base_url


__all__ = ["ChatGPTAPI", "ChatResponse", "MessageStream", "ModerationResult", "refresh_credentials"]
