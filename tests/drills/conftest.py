"""Drills: hostile conditions run from outside against the real CLI and library.

Hostile and broken sites for the browser drills, each a real server on loopback (the CLI
drills in test_cli_drills.py start their own emulator, store and Redis):

- `black_hole`: accepts TCP connections and never answers a byte (tests/support).
- `static_site`: a plain static HTTP server (no challenge, no login, no session API).
- `foreign`: a second origin (127.0.0.2, another host) that records every request.
- `hostile_site(kind)`: a site whose login leads to `foreign`: "navigate" (the Log in
  button opens a page there), "post" (the site's own form posts there), "redirect" (the
  login page redirects there).
- `cli_env`: environment for running the real `chatgpt-browser` against a URL.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_drill_servers import FOREIGN_HOST, FORM_PAGE, LOGIN_BUTTON_PAGE, Recorder
from support.servers import BlackHole, serving


@pytest.fixture
def black_hole() -> Iterator[BlackHole]:
    with BlackHole() as hole:
        yield hole


@pytest.fixture
def static_site() -> Iterator[Recorder]:
    with serving(Recorder("127.0.0.1")) as server:
        yield server  # type: ignore[misc]


@pytest.fixture
def foreign() -> Iterator[Recorder]:
    server = Recorder(FOREIGN_HOST)
    server.routes["/login"] = (200, {}, FORM_PAGE.format(action="/collect"))
    with serving(server):
        yield server


@pytest.fixture
def hostile_site(foreign: Recorder) -> Iterator[Callable[[str], Recorder]]:
    started: list[contextlib.ExitStack] = []

    def make(kind: str) -> Recorder:
        site = Recorder("127.0.0.1")
        if kind == "navigate":
            site.routes["/auth/login"] = (200, {}, LOGIN_BUTTON_PAGE.format(target=foreign.url + "/login"))
        elif kind == "post":
            site.routes["/auth/login"] = (200, {}, LOGIN_BUTTON_PAGE.format(target="/u/login"))
            site.routes["/u/login"] = (200, {}, FORM_PAGE.format(action=foreign.url + "/collect"))
        elif kind == "redirect":
            site.routes["/auth/login"] = (302, {"Location": foreign.url + "/auth/login"}, "")
            foreign.routes["/auth/login"] = (200, {}, LOGIN_BUTTON_PAGE.format(target="/login"))
        else:
            raise ValueError(kind)
        stack = contextlib.ExitStack()
        stack.enter_context(serving(site))
        started.append(stack)
        return site

    try:
        yield make
    finally:
        for stack in started:
            stack.close()


@pytest.fixture
def cli_env(tmp_path: Path) -> Callable[..., dict[str, str]]:
    """Environment for the real CLI: a private state dir and a TOML file with short timeouts."""

    def make(url: str, *, harvest: float = 6.0, **extra: str) -> dict[str, str]:
        config = tmp_path / "config.toml"
        config.write_text(f"[timeouts]\nharvest = {harvest}\nchallenge = {harvest / 2}\nlogin = {harvest}\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHATGPT_BROWSER_")}
        env.update(
            CHATGPT_BROWSER_URL=url,
            CHATGPT_BROWSER_STATE_DIR=str(tmp_path / "state"),
            CHATGPT_BROWSER_CONFIG=str(config),
            **extra,
        )
        return env

    return make


def pytest_collection_modifyitems(items: list[Any]) -> None:
    for item in items:
        if "tests/drills" in str(item.fspath):
            item.add_marker(pytest.mark.drill)
