"""Client integration fixtures (helpers in client_helpers.py).

Every test that builds its client with `make_client` runs on both transports
(`transport_name`: requests and curl_cffi), as the issue asks.

Most client tests change the emulator's state (faults, expiry, revocation), so each
gets a fresh one; starting one costs ~0.3-0.5 s of interpreter start-up, which the
double run paid about a hundred times. `emulator` here is the same fresh emulator as
the root fixture's, but started in the background while the previous test runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
from client_helpers import FAST_RETRY

from chatgpt_browser.client import ChatGPTAPI
from chatgpt_browser.credentials import Credentials
from chatgpt_browser.emulator.process import Emulator

#: As the root conftest's FAST_EMULATOR_OPTIONS: a challenge that clears in milliseconds.
FAST_OPTIONS: dict[str, Any] = {"dwell": 0.0, "pow_difficulty": 4}


class SpareEmulators:
    """Hands out fresh emulators, always starting the next one in the background."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spare-emulator")
        self._next: Future[Emulator] | None = None

    @staticmethod
    def _start() -> Emulator:
        return Emulator(**FAST_OPTIONS).start()

    def take(self) -> Emulator:
        ready = self._next or self._pool.submit(self._start)
        self._next = self._pool.submit(self._start)
        return ready.result(timeout=60)

    def close(self) -> None:
        if self._next is not None:
            self._next.result(timeout=60).stop()
        self._pool.shutdown(wait=True)


@pytest.fixture(scope="session")
def spare_emulators() -> Iterator[SpareEmulators]:
    spares = SpareEmulators()
    try:
        yield spares
    finally:
        spares.close()


@pytest.fixture
def emulator(spare_emulators: SpareEmulators) -> Iterator[Emulator]:
    emu = spare_emulators.take()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture(params=["requests", "curl_cffi"])
def transport_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_client(transport_name: str) -> Iterator[Callable[..., ChatGPTAPI]]:
    clients: list[ChatGPTAPI] = []

    def build(credentials: Credentials, **options: Any) -> ChatGPTAPI:
        options.setdefault("retry", FAST_RETRY)
        options.setdefault("transport", transport_name)
        client = ChatGPTAPI.from_credentials(credentials, **options)
        clients.append(client)
        return client

    try:
        yield build
    finally:
        for client in clients:
            client.close()
