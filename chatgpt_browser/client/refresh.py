"""Deprecated import path: use `chatgpt_browser.client.refresh_credentials`."""

from ._refresh import refresh_credentials

__all__ = ["refresh_credentials"]
