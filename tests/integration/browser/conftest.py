"""Fixtures of the browser tests (defined in browser_helpers.py)."""

from browser_helpers import browser_emulator, debug_chromium, echo_server, emu, forward_proxy  # noqa: F401
