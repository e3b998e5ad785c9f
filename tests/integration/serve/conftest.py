"""Fixtures of the serve tests: a started service on a fresh emulator."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from serve_helpers import Recorder, Serve, serve_args, serve_env

from chatgpt_browser.emulator.process import Emulator


@pytest.fixture
def start_serve(tmp_path: Path) -> Iterator[Callable[..., Serve]]:
    """start_serve(emu, executable, *flags, env=..., state=...) -> a ready Serve."""
    started: list[Serve] = []

    def start(emu: Emulator, executable: str, *flags: str, env: dict[str, str] | None = None,
              state: Path | None = None, ready: bool = True, **extra_env: Any) -> Serve:  # fmt: skip
        index = len(started)
        state = state or tmp_path / f"state{index}"
        environment = env if env is not None else serve_env(emu, tmp_path, **extra_env)
        proc = Serve(
            serve_args(emu, state, executable, *flags), env=environment, log=tmp_path / f"serve{index}.log"
        )
        started.append(proc)
        return proc.wait_ready() if ready else proc

    try:
        yield start
    finally:
        for proc in started:
            proc.terminate()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    try:
        yield server
    finally:
        server.close()
