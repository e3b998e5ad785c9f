"""SIGTERM/SIGINT while a harvest runs: stop within a second, quietly, nothing left behind.

How this works: raising from a signal handler while Playwright's event loop runs (it runs
inside every sync call) breaks the loop mid-callback and leaves futures nobody awaits
("Future exception was never retrieved"). So while the browser is up the handler only
records the signal and SIGKILLs our Playwright driver and the profile's Chromium: every
pending Playwright call then fails at once with a closed connection, our code unwinds
through its normal `finally` blocks, and `check()` turns the failure into the exit the
signal asks for (SystemExit(143) for SIGTERM, KeyboardInterrupt for SIGINT). Outside the
browser phase the handler raises at once, as Python's default would.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType

from .processes import browser_processes

_SIGNALS = (signal.SIGTERM, signal.SIGINT)
#: Seconds after a signal before the driver is killed too, if the run has not ended.
ESCALATE_AFTER = 2.0


@contextlib.contextmanager
def kill_after(seconds: float, kill: Callable[[], None]) -> Iterator[None]:
    """Call `kill` from a timer thread if the block still runs `seconds` from now: the
    one way to end a Playwright wait that nothing else bounds."""
    timer = threading.Timer(max(seconds, 0.0), kill)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


class Interrupts:
    """The signal state of one harvest (main thread only; elsewhere a no-op)."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._browser_phase = False
        self.profile_dir: Path | None = None
        #: Set when the deadline backstop had to kill the browser.
        self.expired = False
        self._escalation: threading.Timer | None = None

    @contextlib.contextmanager
    def backstop(self, seconds: float) -> Iterator[None]:
        """If the block is still running `seconds` from now (a wait Playwright cannot bound
        hung), kill the driver and browser so that every pending call ends; the caller
        sees `expired` and reports the deadline."""

        def fire() -> None:
            self.expired = True
            kill_driver_and_browser(self.profile_dir)

        with kill_after(seconds, fire):
            yield

    def exception(self) -> BaseException:
        if self.signum == signal.SIGINT:
            return KeyboardInterrupt()
        return SystemExit(128 + (self.signum or signal.SIGTERM))

    def check(self) -> None:
        """Raise the exit a signal asked for, if one came."""
        if self.signum is not None:
            raise self.exception()

    @contextlib.contextmanager
    def browser_phase(self) -> Iterator[None]:
        """While Playwright runs: signals kill the driver and browser instead of raising."""
        self._browser_phase = True
        try:
            yield
        finally:
            self._browser_phase = False
            if self._escalation is not None:
                self._escalation.cancel()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        first = self.signum is None
        if first:
            self.signum = signum
        if not self._browser_phase:
            raise self.exception()
        if first:
            kill_driver_and_browser(self.profile_dir)
            # Should a call still hang once the browser is gone, ending the driver ends it.
            self._escalation = threading.Timer(ESCALATE_AFTER, _kill_driver)
            self._escalation.daemon = True
            self._escalation.start()


def kill_driver_and_browser(profile_dir: Path | None) -> None:
    """SIGKILL the profile's Chromium (its groups: renderers and helpers too), or, while no
    browser runs yet, our Playwright driver (a child running `run-driver`). Either way
    every pending Playwright call fails at once; killing the driver under a live browser
    would leave a rejected future nobody awaits (asyncio's noise), so it is the fallback."""
    browser = browser_processes(profile_dir) if profile_dir is not None else []
    if browser:
        groups = {os.getpgid(pid) for pid in browser if _exists(pid)} - {os.getpgrp()}
        for group in groups:
            with contextlib.suppress(OSError):
                os.killpg(group, signal.SIGKILL)
        victims = browser
    else:
        victims = _driver_processes()
    for pid in victims:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _kill_driver() -> None:
    for pid in _driver_processes():
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _exists(pid: int) -> bool:
    try:
        os.getpgid(pid)
    except OSError:
        return False
    return True


def _driver_processes() -> list[int]:
    found = []
    for entry in Path("/proc").glob("[0-9]*") if Path("/proc").is_dir() else ():
        try:
            stat = (entry / "stat").read_text()
            if int(stat[stat.rindex(")") + 2 :].split()[1]) != os.getpid():
                continue
            if b"run-driver" in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except (OSError, ValueError):
            continue
    return found


@contextlib.contextmanager
def handling_signals() -> Iterator[Interrupts]:
    """Install the harvest's SIGTERM/SIGINT handlers for the block (main thread only)."""
    state = Interrupts()
    if threading.current_thread() is not threading.main_thread():
        yield state
        return
    previous = {sig: signal.signal(sig, state._on_signal) for sig in _SIGNALS}
    try:
        yield state
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    state.check()  # a signal during the last steps still ends the run


__all__ = ["Interrupts", "handling_signals", "kill_after", "kill_driver_and_browser"]
