"""The requests-based client of the chat site (`ChatGPTAPI`) and its parts.

Public: `ChatGPTAPI`, `Conversation`, `ChatResponse`, `ModerationResult`,
`MessageStream`, `RetryPolicy`, `refresh_credentials`, the transports (`Request`,
`RequestsTransport`, `CurlCffiTransport`) and `TRACE_LOGGER`. Everything in the
`_`-prefixed modules is private: _api (ChatGPTAPI: options, payloads, answers), _flow
(the recovery flow: send, fix 401 / 403, send again), _retry (transient failures,
deadline), _transport and _curl (requests / curl_cffi), _trace (`debug=True`), _wire
(headers, cookies, the session request), _options (checked options), _stream / _sse
(reading an answer; sans-IO parser), _conversation, _models, _text, _source, _refresh.
`impersonate` (public, pure functions) decides which transport a bundle needs ("auto")
and when a 403 can only be a TLS fingerprint mismatch.
Depends only on the core (errors, credentials, config, site, redact, pages).
"""

from ._api import ChatGPTAPI, MessageStream
from ._conversation import Conversation
from ._curl import CurlCffiTransport
from ._models import ChatResponse, ModerationResult
from ._refresh import refresh_credentials
from ._retry import RetryPolicy
from ._trace import TRACE_LOGGER
from ._transport import Request, RequestsTransport, Response, Transport

__all__ = [
    "TRACE_LOGGER",
    "ChatGPTAPI",
    "ChatResponse",
    "Conversation",
    "CurlCffiTransport",
    "MessageStream",
    "ModerationResult",
    "Request",
    "RequestsTransport",
    "Response",
    "RetryPolicy",
    "Transport",
    "refresh_credentials",
]
