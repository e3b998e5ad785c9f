"""An unexpected failure (a bug) is still one redacted line and exit 1, never a traceback."""

from __future__ import annotations

import argparse
import importlib

import pytest

from chatgpt_browser.cli.exit_codes import ExitStatus

# the module, not the `main` function the package re-exports under the same name
cli_main = importlib.import_module("chatgpt_browser.cli.main")


def _boom(args: argparse.Namespace) -> int:
    raise RuntimeError("token sk-secret-value leaked into a bug\\nsecond line")


@pytest.mark.parametrize("debug", [False, True])
def test_a_bug_is_exit_1_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], debug: bool
) -> None:
    monkeypatch.setitem(cli_main.HANDLERS, "status", _boom)
    monkeypatch.setenv("CHATGPT_BROWSER_PASSWORD", "sk-secret-value")
    argv = ["status", *(["--debug"] if debug else [])]
    assert cli_main.main(argv) == ExitStatus.ERROR == 1
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert lines[-1].startswith("chatgpt-browser: RuntimeError: ")
    assert "unexpected" in lines[-1] and "sk-secret-value" not in err
    assert ("Traceback" in err) is debug
