"""Client integration fixtures (helpers in client_helpers.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from client_helpers import FAST_RETRY

from chatgpt_browser.client.api import ChatGPTAPI
from chatgpt_browser.credentials import Credentials


@pytest.fixture(params=["requests", "curl_cffi"])
def transport_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_client() -> Iterator[Callable[..., ChatGPTAPI]]:
    clients: list[ChatGPTAPI] = []

    def build(credentials: Credentials, **options: Any) -> ChatGPTAPI:
        options.setdefault("retry", FAST_RETRY)
        client = ChatGPTAPI.from_credentials(credentials, **options)
        clients.append(client)
        return client

    try:
        yield build
    finally:
        for client in clients:
            client.close()
