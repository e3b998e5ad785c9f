"""Browser discovery: explicit path, environment, Playwright's browsers, system installs."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from chatgpt_browser.browser.executable import browser_version, find_browser
from chatgpt_browser.errors import BrowserNotFoundError


def _fake_browser(path: Path, version: str = "120.0.6099.71") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho 'Chromium {version} built on Test'\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_explicit_path_wins(tmp_path: Path) -> None:
    browser = _fake_browser(tmp_path / "my-chrome")
    env = {"CHATGPT_BROWSER_EXECUTABLE": str(_fake_browser(tmp_path / "other")), "PATH": ""}
    assert find_browser(str(browser), environ=env) == str(browser)


def test_environment_variable_is_used(tmp_path: Path) -> None:
    browser = _fake_browser(tmp_path / "env-chrome")
    assert find_browser(environ={"CHATGPT_BROWSER_EXECUTABLE": str(browser), "PATH": ""}) == str(browser)


def test_explicit_path_that_is_not_executable_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(BrowserNotFoundError, match="not an executable file") as info:
        find_browser(str(missing), environ={"PATH": ""})
    assert "playwright install chromium" in str(info.value)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux layout of Playwright's cache")
def test_playwright_browsers_come_before_system_ones(tmp_path: Path) -> None:
    older = _fake_browser(tmp_path / "ms-playwright" / "chromium-1000" / "chrome-linux" / "chrome")
    newer = _fake_browser(tmp_path / "ms-playwright" / "chromium-1100" / "chrome-linux" / "chrome")
    env = {"PLAYWRIGHT_BROWSERS_PATH": str(tmp_path / "ms-playwright"), "PATH": ""}
    assert find_browser(environ=env) == str(newer)
    os.remove(newer)
    assert find_browser(environ=env) == str(older)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux PATH search")
def test_system_browser_on_path(tmp_path: Path) -> None:
    browser = _fake_browser(tmp_path / "bin" / "chromium")
    env = {"PLAYWRIGHT_BROWSERS_PATH": str(tmp_path / "none"), "PATH": str(tmp_path / "bin")}
    assert find_browser(environ=env) == str(browser)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux candidate list")
def test_nothing_found_lists_what_was_tried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Point every well-known location at nothing: the fixed system paths are replaced.
    monkeypatch.setattr(
        "chatgpt_browser.browser.executable._LINUX_PATHS", (str(tmp_path / "usr-bin-chromium"),)
    )
    env = {"PLAYWRIGHT_BROWSERS_PATH": str(tmp_path / "none"), "PATH": str(tmp_path)}
    with pytest.raises(BrowserNotFoundError) as info:
        find_browser(environ=env)
    message = str(info.value)
    assert str(tmp_path / "usr-bin-chromium") in message
    assert "Playwright" in message and "apt install chromium" in message


def test_browser_version_reads_the_binary(tmp_path: Path) -> None:
    assert browser_version(str(_fake_browser(tmp_path / "c", "131.0.6778.85"))) == "131.0.6778.85"
    assert browser_version(str(tmp_path / "missing")) is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux layouts")
def test_headless_shell_flavour_prefers_the_shell(tmp_path: Path) -> None:
    from chatgpt_browser.browser.executable import is_headless_shell

    _fake_browser(tmp_path / "bin" / "chromium")
    shell = _fake_browser(
        tmp_path / "ms-playwright" / "chromium_headless_shell-1200" / "chrome-linux" / "headless_shell"
    )
    env = {"PLAYWRIGHT_BROWSERS_PATH": str(tmp_path / "ms-playwright"), "PATH": str(tmp_path / "bin")}
    assert find_browser(environ=env, flavour="headless-shell") == str(shell)
    assert is_headless_shell(str(shell))
    # The default flavour never picks a shell.
    assert find_browser(environ=env) == str(tmp_path / "bin" / "chromium")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux layouts")
def test_headless_shell_flavour_falls_back_to_the_full_browser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("chatgpt_browser.browser.executable._HEADLESS_SHELL_PATHS", ())
    browser = _fake_browser(tmp_path / "bin" / "chromium")
    env = {"PLAYWRIGHT_BROWSERS_PATH": str(tmp_path / "none"), "PATH": str(tmp_path / "bin")}
    assert find_browser(environ=env, flavour="headless-shell") == str(browser)
    on_path = _fake_browser(tmp_path / "bin" / "chromium-headless-shell")
    assert find_browser(environ=env, flavour="headless-shell") == str(on_path)


def test_flavour_comes_from_the_argument_or_the_environment() -> None:
    from chatgpt_browser.browser.executable import resolve_flavour
    from chatgpt_browser.errors import ConfigError

    assert resolve_flavour(environ={}) == "chromium"
    assert resolve_flavour(environ={"CHATGPT_BROWSER_FLAVOUR": "headless-shell"}) == "headless-shell"
    assert resolve_flavour("chromium", environ={"CHATGPT_BROWSER_FLAVOUR": "headless-shell"}) == "chromium"
    with pytest.raises(ConfigError, match="headless-shell"):
        resolve_flavour("firefox", environ={})
