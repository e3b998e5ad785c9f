"""chatgpt-browser: unattended credential harvest, sessions and a resilient client for
the December 2022 ChatGPT web stack, plus a faithful local emulator of that site.

Heavy parts (Playwright, the emulator, Redis) load only when first used, so importing
the package or running CLI commands that need no browser stays fast.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

from .config import SiteProfile, Timeouts
from .credentials import Credentials, CredentialSource
from .errors import *  # noqa: F403 - the exception tree is part of the public surface
from .errors import __all__ as _error_names
from .pages import PageKind, classify_page
from .redact import fingerprint
from .site import RenewReason

if TYPE_CHECKING:  # pragma: no cover
    from .browser.harvest import harvest
    from .client import (
        ChatGPTAPI,
        ChatResponse,
        Conversation,
        MessageStream,
        ModerationResult,
        RetryPolicy,
        refresh_credentials,
    )
    from .emulator.process import Emulator
    from .session.manager import SessionManager
    from .session.redis_store import RedisStore
    from .session.store import FileStore

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

# name -> module that defines it; imported on first attribute access (PEP 562).
_LAZY = {
    "Emulator": "chatgpt_browser.emulator.process",
    "harvest": "chatgpt_browser.browser.harvest",
    "ChatGPTAPI": "chatgpt_browser.client",
    "ChatResponse": "chatgpt_browser.client",
    "ModerationResult": "chatgpt_browser.client",
    "Conversation": "chatgpt_browser.client",
    "MessageStream": "chatgpt_browser.client",
    "RetryPolicy": "chatgpt_browser.client",
    "refresh_credentials": "chatgpt_browser.client",
    "SessionManager": "chatgpt_browser.session.manager",
    "FileStore": "chatgpt_browser.session.store",
    "RedisStore": "chatgpt_browser.session.redis_store",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'chatgpt_browser' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "ChatGPTAPI",
    "ChatResponse",
    "Conversation",
    "CredentialSource",
    "Credentials",
    "Emulator",
    "FileStore",
    "MessageStream",
    "ModerationResult",
    "PageKind",
    "RedisStore",
    "RenewReason",
    "RetryPolicy",
    "SessionManager",
    "SiteProfile",
    "Timeouts",
    "__version__",
    "classify_page",
    "fingerprint",
    "harvest",
    "refresh_credentials",
    *_error_names,
]
