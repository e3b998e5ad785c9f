"""The public surface is small and pinned; heavy parts load lazily."""

from __future__ import annotations

import subprocess
import sys

import chatgpt_browser
from chatgpt_browser import errors

PUBLIC = {
    "ChatGPTAPI",
    "ChatResponse",
    "Conversation",
    "CredentialSource",
    "Credentials",
    "Emulator",
    "FileStore",
    "ModerationResult",
    "PageKind",
    "RedisStore",
    "SessionManager",
    "__version__",
    "classify_page",
    "fingerprint",
    "harvest",
}


def test_all_is_pinned() -> None:
    assert set(chatgpt_browser.__all__) == PUBLIC | set(errors.__all__)


def test_every_public_name_resolves() -> None:
    for name in chatgpt_browser.__all__:
        assert getattr(chatgpt_browser, name) is not None, name


def test_importing_the_package_and_cli_loads_no_heavy_modules() -> None:
    code = (
        "import sys, chatgpt_browser, chatgpt_browser.cli; "
        "heavy = [m for m in ('playwright', 'aiohttp', 'redis', 'curl_cffi', 'chatgpt_browser.emulator.app') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == ""
