"""Turning `ChatGPTAPI`'s options into checked values, before anything is sent."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import TypedDict

from ..config import DEFAULT_USER_AGENT, SiteProfile, Timeouts
from ..credentials import Credentials, CredentialSource
from ..errors import ChatGPTError, ConfigError, InputError
from ..site import access_token_expiry
from ._retry import RetryPolicy
from ._transport import Transport
from ._wire import is_bound_header


class ClientOptions(TypedDict, total=False):
    """`ChatGPTAPI`'s keyword options besides the bundle and its provider."""

    markdown: bool
    api_base_url: str | None
    backend_api_base_url: str | None
    user_agent: str | None
    access_token: str | None
    access_token_ttl: float
    debug: bool
    headers: Mapping[str, str] | None
    site: SiteProfile | str | None
    proxy: str | None
    timeout: float | Timeouts | None
    transport: Transport | str | None
    verify: bool | str
    retry: RetryPolicy | None
    model: str | None
    min_ttl: float
    sleep: Callable[[float], None]


def initial_bundle(
    credentials: Credentials | None,
    source: CredentialSource | None,
    *,
    session_token: str | None,
    clearance_token: str | None,
    site_url: str,
    user_agent: str | None,
    access_token: str | None,
    access_token_ttl: float,
    min_ttl: float,
) -> Credentials:
    """The first bundle: given, built from the original's two tokens, or the provider's."""
    if credentials is None and session_token and clearance_token:
        credentials = Credentials(
            site=site_url,
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
        expiry = access_token_expiry(access_token, now=time.time(), ttl=access_token_ttl)
        credentials = credentials.replace(access_token=access_token, access_token_expires_at=expiry)
    return credentials


def checked_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    """The `headers` option; naming a header the client cannot set is a `ConfigError`."""
    checked = dict(headers or {})
    bound = sorted(name for name in checked if is_bound_header(name))
    if bound:
        raise ConfigError(
            f"the headers option cannot set {', '.join(bound)}: bound to the credentials or the request"
        )
    return checked


def conversation_body(
    text: str,
    *,
    message_id: str,
    parent_message_id: str,
    conversation_id: str | None,
    action: str,
    model: str,
) -> bytes:
    """The JSON body of a conversation POST, as the site's own page sent it."""
    payload: dict[str, object] = {
        "action": action,
        "messages": [
            {"id": message_id, "role": "user", "content": {"content_type": "text", "parts": [text]}}
        ],
        "parent_message_id": parent_message_id,
        "model": model,
    }
    if conversation_id:
        payload["conversation_id"] = conversation_id
    return json.dumps(payload).encode("utf-8")


def timeouts_of(timeout: float | Timeouts | None) -> Timeouts:
    """`Timeouts` from the `timeout` option (seconds: the read and stall timeouts)."""
    if isinstance(timeout, Timeouts):
        return timeout
    return Timeouts() if timeout is None else Timeouts(read=float(timeout), stream_stall=float(timeout))


def checked_text(value: str, name: str) -> str:
    """`value` if it can be sent as UTF-8 text, else `InputError` (before anything is sent)."""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"{name} is not valid UTF-8 (byte {exc.start})") from None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InputError(f"{name} is not valid text (a lone surrogate at character {exc.start})") from None
    return value


def site_url_of(site: SiteProfile | str | None, api_base_url: str | None) -> str:
    if isinstance(site, SiteProfile):
        return site.base_url
    if site:
        return site
    if api_base_url:
        return api_base_url.rstrip("/").removesuffix("/api")
    return SiteProfile().base_url


__all__ = [
    "checked_headers",
    "checked_text",
    "conversation_body",
    "initial_bundle",
    "site_url_of",
    "timeouts_of",
]
