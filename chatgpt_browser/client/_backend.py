"""The backend-api calls of `ChatGPTAPI`: building each POST and reading its answer.

Every call goes through the client's `CredentialFlow` (`_flow.py`), which sends it
within the call's one deadline and fixes the bundle on 401 / 403. A conversation POST
is never replayed once it may have reached the server (`MessageMaybeSentError`).
"""

from __future__ import annotations

import json
import threading

from ..config import SiteProfile
from ..credentials import Credentials
from ..errors import AbortedError, ChatGPTBrowserError, ChatGPTError, MessageMaybeSentError
from ..site import error_for_response
from ._flow import CredentialFlow
from ._models import ModerationResult
from ._options import checked_text
from ._retry import Deadline
from ._stream import ConversationReader, MessageStream, OnEvent
from ._transport import Request, Response
from ._wire import credential_headers, host_of, json_body, read_body


def resolve_site(
    site: SiteProfile | str | None, site_url: str, api_base_url: str | None, backend_api_base_url: str | None
) -> tuple[SiteProfile, str, str, frozenset[str]]:
    """The site profile, the two API base URLs (explicit options win) and the hosts
    that may receive credentials."""
    profile = site if isinstance(site, SiteProfile) else SiteProfile(base_url=site_url)
    api = (api_base_url or profile.api_base_url).rstrip("/")
    backend = (backend_api_base_url or profile.backend_api_base_url).rstrip("/")
    # Explicitly configured API URLs are configured hosts too; nothing else is.
    return profile, api, backend, profile.allowed_hosts | {host_of(api), host_of(backend)}


class Backend:
    """POSTs to backend-api with the bundle's headers, through the bundle's proxy."""

    def __init__(self, flow: CredentialFlow, backend_api_base_url: str, *, markdown: bool) -> None:
        self._flow = flow
        # The flow's site, hosts, headers and timeouts: one source for every request.
        site = self._site = flow.site
        self._allowed_hosts = flow.allowed_hosts
        self._headers = flow.headers
        self._timeouts = flow.timeouts
        self._base = backend_api_base_url
        self._markdown = markdown
        # Headers of every backend-api request, as the site's own page sent them; the
        # `headers` option may replace them (`_wire.credential_headers` has the rules).
        self._defaults = {
            "Content-Type": "application/json",
            "X-OpenAI-Assistant-App-Id": "",
            "Origin": site.base_url,
            "Referer": site.url(site.chat_path),
        }

    def conversation(
        self,
        body: bytes,
        *,
        message_id: str,
        conversation_id: str | None,
        parent_message_id: str | None,
        timeout: float | None,
        abort: threading.Event | None,
        on_event: OnEvent | None,
    ) -> MessageStream:
        """The answer stream of one conversation POST (sent when first iterated)."""
        url = self._base + "/conversation"
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

        def build(creds: Credentials, token: str | None, deadline: Deadline) -> Request:
            if abort is not None and abort.is_set():
                raise AbortedError(f"{what}: aborted by the caller before sending")
            return self.request(creds, token, url, body, deadline, accept="text/event-stream", stream=True)

        def opener() -> ConversationReader:
            deadline = Deadline.after(timeout)
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
                on_event=on_event,
            )

        return MessageStream(opener)

    def moderation(self, input: str, timeout: float | None) -> ModerationResult:
        """Ask the moderation endpoint about `input`; `timeout` bounds the whole call."""
        url = self._base + "/moderations"
        text = checked_text(input, "the moderation input")
        body = json.dumps({"input": text, "model": "text-moderation-playground"}).encode("utf-8")
        what = "POST /backend-api/moderations"

        def build(creds: Credentials, token: str | None, deadline: Deadline) -> Request:
            return self.request(creds, token, url, body, deadline, accept="*/*", stream=False)

        response = self._flow.send(build, Deadline.after(timeout))
        assert response is not None
        document = json_body(response, what)
        if not isinstance(document, dict) or not isinstance(document.get("flagged"), bool):
            raise ChatGPTError(f"{what}: unexpected answer", status_code=200, detail=document)
        return ModerationResult(
            flagged=document["flagged"],
            blocked=bool(document.get("blocked", False)),
            moderation_id=document.get("moderation_id"),
        )

    def request(
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


__all__ = ["Backend", "resolve_site"]
