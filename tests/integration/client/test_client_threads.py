"""One client shared by many threads: refresh and recovery happen once, others wait."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from client_helpers import MintingProvider, mint, requests_count

from chatgpt_browser.client import ChatGPTAPI
from chatgpt_browser.emulator.process import Emulator

Make = Callable[..., ChatGPTAPI]


def _run(api: ChatGPTAPI, threads: int, per_thread: int) -> list[str]:
    def worker(n: int) -> list[str]:
        return [api.send_message(f"thread {n} message {i}").response for i in range(per_thread)]

    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(worker, range(threads), timeout=120))
    return [text for batch in results for text in batch]


def test_fifty_threads_one_refresh(make_emulator: Callable[..., Emulator], make_client: Make) -> None:
    emu = make_emulator(one_stream_per_account=False)
    api = make_client(mint(emu))
    answers = _run(api, threads=50, per_thread=2)
    assert len(answers) == 100 and all(a.startswith("You said") for a in answers)
    assert requests_count(emu, "GET /api/auth/session 200") == 1
    assert api.stats["refreshes"] == 1
    assert requests_count(emu, "POST /backend-api/conversation 200") == 100


def test_expired_token_is_refreshed_once_for_all_threads(
    make_emulator: Callable[..., Emulator], make_client: Make
) -> None:
    emu = make_emulator(one_stream_per_account=False)
    api = make_client(mint(emu))
    api.init_session()
    emu.admin.expire("access_token")
    answers = _run(api, threads=20, per_thread=1)
    assert len(answers) == 20
    assert requests_count(emu, "GET /api/auth/session 200") == 2  # init + exactly one refresh
    assert api.stats["refreshes"] == 2


def test_expired_clearance_is_renewed_once_for_all_threads(
    make_emulator: Callable[..., Emulator], make_client: Make
) -> None:
    emu = make_emulator(one_stream_per_account=False)
    provider = MintingProvider(emu)
    api = make_client(provider.current, provider=provider)
    api.init_session()
    emu.admin.expire("clearance")
    answers = _run(api, threads=20, per_thread=1)
    assert len(answers) == 20
    assert provider.renewals == ["403-challenge"]
