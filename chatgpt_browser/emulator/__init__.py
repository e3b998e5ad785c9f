"""A faithful local copy of the December 2022 chat web stack (see docs/emulator.md).

Two aiohttp servers in one process: the *site* (Cloudflare layer, NextAuth endpoints,
chat page, backend API, admin API under `/__admin`) and an auth0-like login origin on a
second port. `Emulator` (process.py) runs it as a subprocess for tests and demos.

This package imports nothing from the rest of `chatgpt_browser`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .admin_client import AdminClient
    from .options import Account
    from .process import Emulator

_LAZY = {
    "Emulator": "chatgpt_browser.emulator.process",
    "Account": "chatgpt_browser.emulator.options",
    "AdminClient": "chatgpt_browser.emulator.admin_client",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = ["Account", "AdminClient", "Emulator"]
