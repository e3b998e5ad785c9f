"""The `chatgpt-browser` command line: wires config, browser, session and client.

Only this package (and the demo it runs) prints. Every failure maps to one line on
stderr and a distinct exit code (`exit_codes.py`); `--debug` adds the traceback.
Heavy modules are imported inside the commands that need them, so `session` and
`status` start fast and never load Playwright when the stored bundle is fresh.

Configuration precedence, highest first: flags > `CHATGPT_BROWSER_*` environment
variables > the TOML file (`--config`) > defaults (docs/settings.md lists them all).
Passwords never come from argv: `--password-env NAME`, `--password-file FILE`,
`--password-stdin`, `CHATGPT_BROWSER_PASSWORD`, or a prompt.

    parser.py      flags per command, help with env names and defaults
    wiring.py      arguments -> settings, password provider, session manager
    commands.py    login, session, status, logout     chat.py   ask, moderate
    output.py      logging, progress, the error line  formats.py bundle formats
    exit_codes.py  ExitStatus and the error -> code mapping
"""

from __future__ import annotations

from .exit_codes import ExitStatus, exit_status_for
from .main import main, parser

build_parser = parser

__all__ = ["ExitStatus", "build_parser", "exit_status_for", "main", "parser"]
