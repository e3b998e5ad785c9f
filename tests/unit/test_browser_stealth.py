"""The stealth User-Agent and the launch switches."""

from __future__ import annotations

from typing import Any

import pytest

from chatgpt_browser.browser.launch import launch_args, proxy_settings
from chatgpt_browser.browser.stealth import desktop_user_agent, looks_automated, unheadless
from chatgpt_browser.errors import ConfigError


def test_desktop_user_agent_per_os() -> None:
    linux = desktop_user_agent("156.0.8078.108", system="linux", machine="x86_64")
    assert linux == (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/156.0.0.0 Safari/537.36"
    )
    assert "Macintosh; Intel Mac OS X 10_15_7" in desktop_user_agent("120.1.2.3", system="darwin")
    assert "Windows NT 10.0; Win64; x64" in desktop_user_agent("120.1.2.3", system="win32")
    assert "Linux aarch64" in desktop_user_agent("120.1.2.3", system="linux", machine="arm64")
    with pytest.raises(ValueError):
        desktop_user_agent("HeadlessChrome")


def test_unheadless_keeps_everything_else() -> None:
    ua = (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/156.0.0.0 Safari/537.36"
    )
    assert unheadless(ua) == ua.replace("HeadlessChrome/", "Chrome/")


def test_looks_automated_names_each_give_away() -> None:
    clean = {"userAgent": "Mozilla/5.0 Chrome/156", "webdriver": False, "brands": ["Chromium"]}
    assert looks_automated(clean) == []
    bad = {"userAgent": "HeadlessChrome/156", "webdriver": True, "brands": ["HeadlessChrome"]}
    assert len(looks_automated(bad)) == 3


def test_launch_args() -> None:
    args = launch_args(as_root=True)
    for required in (
        "--no-sandbox",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-blink-features=AutomationControlled",
    ):
        assert required in args
    assert "--no-sandbox" not in launch_args(as_root=False)


def test_proxy_settings_split_credentials() -> None:
    assert proxy_settings(None) is None
    assert proxy_settings("http://127.0.0.1:3128") == {"server": "http://127.0.0.1:3128"}
    assert proxy_settings("http://us%40r:p%3Ass@127.0.0.1:3128") == {
        "server": "http://127.0.0.1:3128",
        "username": "us@r",
        "password": "p:ss",
    }
    with pytest.raises(ConfigError) as info:
        proxy_settings("ftp://user:hunter2@host:21")
    assert "hunter2" not in str(info.value)


def test_clean_ua_metadata_drops_only_the_headless_brand() -> None:
    from chatgpt_browser.browser.stealth import clean_ua_metadata

    seen: dict[str, Any] = {
        "architecture": "x86",
        "bitness": "64",
        "brands": [
            {"brand": "Not:A-Brand", "version": "8"},
            {"brand": "Chromium", "version": "156"},
            {"brand": "HeadlessChrome", "version": "156"},
        ],
        "fullVersionList": [
            {"brand": "Not:A-Brand", "version": "8.0.0.0"},
            {"brand": "Chromium", "version": "156.0.8078.108"},
            {"brand": "HeadlessChrome", "version": "156.0.8078.108"},
        ],
        "mobile": False,
        "model": "",
        "platform": "Linux",
        "platformVersion": "",
        "uaFullVersion": "156.0.8078.108",
    }
    cleaned = clean_ua_metadata(seen)
    assert [b["brand"] for b in cleaned["brands"]] == ["Not:A-Brand", "Chromium"]
    assert [b["version"] for b in cleaned["fullVersionList"]] == ["8.0.0.0", "156.0.8078.108"]
    assert cleaned["platform"] == "Linux" and cleaned["mobile"] is False
    assert "uaFullVersion" not in cleaned  # deprecated; CDP does not take it
    assert seen["brands"][2]["brand"] == "HeadlessChrome", "the input is left alone"
