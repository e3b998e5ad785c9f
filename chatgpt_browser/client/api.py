"""Deprecated import path: use `chatgpt_browser.ChatGPTAPI` (or `chatgpt_browser.client`)."""

from ._api import ChatGPTAPI, ChatResponse, MessageStream, ModerationResult
from ._refresh import refresh_credentials

__all__ = ["ChatGPTAPI", "ChatResponse", "MessageStream", "ModerationResult", "refresh_credentials"]
