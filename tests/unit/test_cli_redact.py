"""The CLI's list of secrets to cut from its output: serve's API key and store URL too."""

from __future__ import annotations

import argparse

import pytest

from chatgpt_browser import redact as core_redact
from chatgpt_browser.cli import redact as cli_redact


def test_serve_key_and_store_url_password_are_known_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATGPT_BROWSER_API_KEY", "serve-key-123")
    args = argparse.Namespace(store="https://worker:store-pw-456@serve.internal:8191", password_env=None)
    secrets = cli_redact.known_secrets(args)
    assert {"serve-key-123", "store-pw-456"} <= set(secrets)
    line = cli_redact.redact("refused key serve-key-123 at store-pw-456@serve", secrets)
    assert "serve-key-123" not in line and "store-pw-456" not in line


def test_the_cli_uses_the_one_redaction_function() -> None:
    assert cli_redact.redact is core_redact.redact
