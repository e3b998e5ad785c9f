"""Fixtures for the emulator's own integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from emu_helpers import Client, make_client

from chatgpt_browser.emulator.process import Emulator


@pytest.fixture
def client(emulator: Emulator) -> Iterator[Client]:
    api = make_client(emulator)
    yield api
    api.close()
