"""The CLI's progress display and log verbosity (pure logic; no terminal needed)."""

from __future__ import annotations

import argparse
import io
import logging

from chatgpt_browser.cli.output import Progress, verbosity_level


def test_plain_progress_lines_when_not_a_terminal() -> None:
    out = io.StringIO()
    progress = Progress(True, out, live=False)
    progress.stage("launch")
    progress.stage("challenge")
    progress("renewed by browser (harvest) in 1.0s")
    lines = out.getvalue().splitlines()
    assert [line.split("] ", 1)[1] for line in lines] == [
        "starting the browser",
        "clearing the challenge",
        "renewed by browser (harvest) in 1.0s",
    ]
    assert all(line.startswith("[") and "s]" in line for line in lines)


def test_disabled_progress_prints_nothing() -> None:
    out = io.StringIO()
    progress = Progress(False, out, live=False)
    progress.stage("launch")
    progress("anything")
    progress.close()
    assert out.getvalue() == ""


def test_live_progress_renders_with_rich() -> None:
    out = io.StringIO()
    progress = Progress(True, out, live=True)
    progress.stage("launch")
    progress.stage("verify")
    progress("renewed by browser (harvest) in 2.0s")
    progress.close()
    text = out.getvalue()
    assert "starting the browser" in text and "renewed by browser" in text


def test_live_progress_prints_finished_lines_as_written() -> None:
    # A finished line is neither rich markup nor highlighted: "[...]" stays, no colour codes.
    out = io.StringIO()
    progress = Progress(True, out, live=True)
    progress("opening the browser (empty) [profile a]")
    progress.stage("launch")
    progress.close()
    assert "  opening the browser (empty) [profile a]" in out.getvalue()


def test_verbosity_levels() -> None:
    def level(verbose: int) -> int:
        return verbosity_level(argparse.Namespace(verbose=verbose))

    assert (level(0), level(1), level(2), level(3)) == (
        logging.WARNING,
        logging.INFO,
        logging.DEBUG,
        logging.DEBUG,
    )
