"""The CLI's progress display and log verbosity (pure logic; no terminal needed)."""

from __future__ import annotations

import argparse
import io
import logging

from chatgpt_browser.cli.output import Progress, verbosity_level


def _shown(*steps: str, enabled: bool = True, live: bool = False) -> str:
    """What a Progress prints for `steps`: stage names ("@launch") or messages."""
    out = io.StringIO()
    progress = Progress(enabled, out, live=live)
    for step in steps:
        if step.startswith("@"):
            progress.stage(step[1:])
        else:
            progress(step)
    progress.close()
    return out.getvalue()


def test_plain_progress_lines_when_not_a_terminal() -> None:
    lines = _shown("@launch", "@challenge", "renewed by browser (harvest) in 1.0s").splitlines()
    assert [line.split("] ", 1)[1] for line in lines] == [
        "starting the browser",
        "clearing the challenge",
        "renewed by browser (harvest) in 1.0s",
    ]
    assert all(line.startswith("[") and "s]" in line for line in lines)


def test_disabled_progress_prints_nothing() -> None:
    assert _shown("@launch", "anything", enabled=False) == ""


def test_live_progress_renders_with_rich() -> None:
    text = _shown("@launch", "@verify", "renewed by browser (harvest) in 2.0s", live=True)
    assert "starting the browser" in text and "renewed by browser" in text


def test_live_progress_prints_finished_lines_as_written() -> None:
    # A finished line is neither rich markup nor highlighted: "[...]" stays, no colour codes.
    text = _shown("opening the browser (empty) [profile a]", "@launch", live=True)
    assert "  opening the browser (empty) [profile a]" in text


def test_verbosity_levels() -> None:
    def level(verbose: int) -> int:
        return verbosity_level(argparse.Namespace(verbose=verbose))

    assert (level(0), level(1), level(2), level(3)) == (
        logging.WARNING,
        logging.INFO,
        logging.DEBUG,
        logging.DEBUG,
    )
