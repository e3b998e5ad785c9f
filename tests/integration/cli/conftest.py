"""Fixtures of the CLI tests: a fresh emulator per test (see ../conftest.py for the rest)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chatgpt_browser.emulator.process import Emulator


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(dwell=0.3) as emulator:
        yield emulator
