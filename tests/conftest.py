"""Shared fixtures: real emulator processes and the Chromium to drive.

- `emulator`: a fresh emulator per test with fast settings (no dwell, easy proof of work).
- `shared_emulator`: one emulator for the whole session; for tests that change no state
  (no faults, no configure, no clock moves, no expire/revoke).
- `make_emulator(**options)`: start emulators with other options; all stopped at teardown.
- `chromium_executable`: path of the system Chromium (CHATGPT_BROWSER_CHROMIUM overrides).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from chatgpt_browser.emulator.process import Emulator

#: Options for tests: a challenge that clears in a few milliseconds.
FAST_EMULATOR_OPTIONS: dict[str, Any] = {"dwell": 0.0, "pow_difficulty": 4}

_CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


@pytest.fixture
def make_emulator() -> Iterator[Callable[..., Emulator]]:
    started: list[Emulator] = []

    def start(**options: Any) -> Emulator:
        emulator = Emulator(**{**FAST_EMULATOR_OPTIONS, **options})
        started.append(emulator)
        return emulator.start()

    try:
        yield start
    finally:
        for emulator in started:
            emulator.stop()


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(**FAST_EMULATOR_OPTIONS) as emu:
        yield emu


@pytest.fixture(scope="session")
def shared_emulator() -> Iterator[Emulator]:
    with Emulator(**FAST_EMULATOR_OPTIONS) as emu:
        yield emu


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    override = os.environ.get("CHATGPT_BROWSER_CHROMIUM")
    if override:
        return override
    for name in _CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    if os.path.exists("/usr/bin/chromium"):
        return "/usr/bin/chromium"
    pytest.fail("no Chromium found: run scripts/setup (installs Debian's chromium)")
