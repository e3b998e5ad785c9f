"""`ChatGPTAPI`: the original JS client's API over a harvested credential bundle.

This module turns the original's options and methods into calls; `_backend.py` builds
each request and reads its answer, and the client's `CredentialFlow` (`_flow.py`) sends
it within the call's one deadline, fixing the bundle on 401 / 403.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from ..config import SiteProfile, Timeouts
from ..credentials import Credentials, CredentialSource
from ..errors import ChatGPTError
from ..redact import fingerprint
from ..site import RenewReason
from ._backend import Backend, resolve_site
from ._conversation import Conversation, MessageOptions
from ._flow import CredentialFlow
from ._models import ChatResponse, ModerationResult
from ._options import (
    ClientOptions,
    checked_headers,
    checked_text,
    conversation_body,
    initial_bundle,
    site_url_of,
    timeouts_of,
)
from ._retry import Deadline, RetryPolicy
from ._source import as_source
from ._stream import MessageStream
from ._trace import TracingTransport
from ._transport import Transport, make_transport

if TYPE_CHECKING:  # only annotations use it (typing.Unpack is Python 3.11+)
    from typing_extensions import Unpack

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
        self._site, api_url, backend_url, allowed_hosts = resolve_site(
            site, site_url_of(site or credentials.site, api_base_url), api_base_url, backend_api_base_url
        )
        self._model = model or self._site.model
        self._owns_transport = transport is None or isinstance(transport, str)
        self._transport = _transport_for(transport, verify, credentials, debug)
        self._flow = CredentialFlow(
            credentials,
            transport=self._transport,
            site=self._site,
            allowed_hosts=allowed_hosts,
            provider=source,
            timeouts=timeouts_of(timeout),
            policy=retry or RetryPolicy(),
            headers=checked_headers(headers),
            access_token_ttl=access_token_ttl,
            min_ttl=min_ttl,
            session_url=api_url + "/auth/session",
            default_proxy=proxy,
            sleep=sleep,
        )
        #: Counters: "refreshes" (session calls), "renewals" (new clearances), "resets".
        self.stats = self._flow.stats
        self._backend = Backend(self._flow, backend_url, markdown=markdown)

    @classmethod
    def from_credentials(
        cls,
        credentials: Credentials,
        *,
        provider: CredentialSource | Callable[[], Credentials] | None = None,
        **options: Unpack[ClientOptions],
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
        self._flow.send(None, Deadline.after(timeout))
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
        self._flow.reset(RenewReason.RESET, Deadline.after(None))
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

    def stream_message(self, message: str, **options: Unpack[MessageOptions]) -> MessageStream:
        """Like `send_message`, as an iterable of updates (`response` so far and `delta`)."""
        message_id = options.get("message_id") or str(uuid.uuid4())
        parent_message_id = options.get("parent_message_id") or str(uuid.uuid4())
        conversation_id = options.get("conversation_id")
        body = conversation_body(
            checked_text(message, "the prompt"),
            message_id=message_id,
            parent_message_id=parent_message_id,
            conversation_id=conversation_id,
            action=options.get("action", "next"),
            model=options.get("model") or self._model,
        )
        return self._backend.conversation(
            body,
            message_id=message_id,
            conversation_id=conversation_id,
            parent_message_id=parent_message_id,
            timeout=options.get("timeout"),
            abort=options.get("abort"),
            on_event=options.get("on_conversation_response"),
        )

    def send_message(
        self,
        message: str,
        *,
        on_progress: Callable[[ChatResponse], None] | None = None,
        **options: Unpack[MessageOptions],
    ) -> ChatResponse:
        """Send a prompt and return the whole answer.

        Options (all keyword, all optional): `conversation_id`, `parent_message_id`,
        `message_id`, `action` ("next"), `model`, `timeout`, `abort`,
        `on_conversation_response` (`MessageOptions`).
        `on_progress` sees each partial answer (`ChatResponse`, text so far and delta);
        `on_conversation_response` sees each raw event of the stream (its JSON object,
        read-only: message, conversation_id, error), as the original's callback did.
        `timeout` bounds the whole answer; `abort` (a `threading.Event`) stops it."""
        stream = self.stream_message(message, **options)
        if on_progress is None:
            return stream.read()  # nobody watches the progress: only the last events are decoded
        updates = iter(stream)
        with contextlib.closing(updates):  # type: ignore[type-var]
            for update in updates:
                on_progress(update)
        assert stream.result is not None
        return stream.result

    def send_moderation(self, input: str, *, timeout: float | None = None) -> ModerationResult:
        """Ask the moderation endpoint about `input`; `timeout` bounds the whole call."""
        return self._backend.moderation(input, timeout)


def _transport_for(
    transport: Transport | str | None, verify: bool | str, creds: Credentials, debug: bool
) -> Transport:
    # The transport has no proxy of its own: each request names its bundle's.
    made = make_transport(transport, None, verify, creds.user_agent, creds)
    return TracingTransport(made) if debug else made


__all__ = ["ChatGPTAPI", "ChatResponse", "MessageStream", "ModerationResult"]
