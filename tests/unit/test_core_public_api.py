"""The public surface is small, pinned, and each name works as a user would use it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.bundles import UA

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
}


def test_all_is_pinned() -> None:
    assert set(chatgpt_browser.__all__) == PUBLIC | set(errors.__all__)


def test_errors_are_the_tree_of_errors_py() -> None:
    for name in errors.__all__:
        assert getattr(chatgpt_browser, name) is getattr(errors, name)


def _bundle(**changes: object) -> chatgpt_browser.Credentials:
    creds = chatgpt_browser.Credentials(
        site="http://127.0.0.1:9", user_agent=UA, session_token="s" * 40, clearance_token="c" * 40
    )
    return creds.replace(**changes)


def test_a_client_is_built_from_a_bundle_with_public_names_only() -> None:
    site = chatgpt_browser.SiteProfile(base_url="http://127.0.0.1:9")
    policy = chatgpt_browser.RetryPolicy.no_retries()
    timeouts = chatgpt_browser.Timeouts(connect=1.0, read=1.0)
    with chatgpt_browser.ChatGPTAPI.from_credentials(
        _bundle(), site=site, retry=policy, timeout=timeouts
    ) as api:
        assert api.site is site and api.user_agent == UA
        assert "s" * 40 not in repr(api) and chatgpt_browser.fingerprint("s" * 40) in repr(api)
        conversation = api.get_conversation(timeout=5.0)
        assert isinstance(conversation, chatgpt_browser.Conversation) and conversation.timeout == 5.0
        # Invalid text is refused before anything is sent (nothing listens on port 9).
        with pytest.raises(chatgpt_browser.InputError):
            api.send_moderation("lone \udc80 surrogate")


def test_stores_and_the_manager_hand_out_saved_bundles(tmp_path: Path) -> None:
    store = chatgpt_browser.FileStore(tmp_path)
    fresh = _bundle(clearance_expires_at=time.time() + 3600, session_expires_at=time.time() + 7200)
    store.save("me", fresh)
    harvests: list[str] = []

    def harvester(**kwargs: object) -> chatgpt_browser.Credentials:
        harvests.append(str(kwargs["reason"]))
        return fresh

    manager = chatgpt_browser.SessionManager(store, harvester, key="me")
    assert isinstance(manager, chatgpt_browser.CredentialSource)
    assert manager.get(min_ttl=60).session_token == fresh.session_token and harvests == []
    manager.renew(chatgpt_browser.RenewReason.FORCED)
    assert harvests == ["forced"]


def test_json_round_trip_and_page_classifier() -> None:
    creds = _bundle(proxy="http://user:secret@127.0.0.1:3128")
    assert chatgpt_browser.Credentials.from_json(creds.to_json()) == creds
    assert "secret" not in repr(creds)
    kind = chatgpt_browser.classify_page(
        403, {"content-type": "text/html"}, b"<title>Just a moment...</title>"
    )
    assert kind.is_challenge


def test_lazy_names_resolve_to_callables() -> None:
    assert callable(chatgpt_browser.harvest) and callable(chatgpt_browser.refresh_credentials)
    assert isinstance(chatgpt_browser.Emulator, type) and isinstance(chatgpt_browser.RedisStore, type)
    assert chatgpt_browser.MessageStream.__name__ == "MessageStream"


def test_importing_the_package_and_cli_loads_no_heavy_modules() -> None:
    code = (
        "import sys, chatgpt_browser, chatgpt_browser.cli; "
        "heavy = [m for m in ('playwright', 'aiohttp', 'redis', 'curl_cffi', 'chatgpt_browser.emulator.app') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == ""
