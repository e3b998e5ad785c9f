"""Running the real `chatgpt-browser` CLI as a process, isolated from the user's config."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from chatgpt_browser.credentials import Credentials
from chatgpt_browser.session.store import FileStore, account_key

EMAIL = "cron@example.com"


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATGPT_BROWSER_")}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_STATE_HOME=str(home / ".state"))
    env.update(extra)
    return env


def run_cli(
    *args: str, home: Path, timeout: float = 120, input: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chatgpt_browser", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=cli_env(home, **env),
        input=input,
    )


def seed(
    state: Path, url: str, *, email: str = EMAIL, access_in: float = 3600, **changes: object
) -> Credentials:
    """Put a bundle in the file store the CLI will read (what an earlier run would leave)."""
    now = time.time()
    credentials = Credentials(
        site=url,
        user_agent="Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0.0.0 Safari/537.36",
        session_token="eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..seeded-session",
        clearance_token="seeded-clearance",
        account=email,
        clearance_expires_at=now + 1800,
        session_expires_at=now + 30 * 86400,
        access_token="seeded-access",
        access_token_expires_at=now + access_in,
        headers={"sec-ch-ua-platform": '"Linux"'},
    ).replace(**changes)
    FileStore(state).save(account_key(url, email), credentials)
    return credentials


def one_line_error(stderr: str, kind: str) -> None:
    """The CLI's failure contract: one line naming the error class, last on stderr.

    Warnings logged on the way (e.g. "retrying headed") and progress lines (`[  0.0s]
    ...`, shown when stderr is not a terminal and -q is not given) may precede it.
    """
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines, "nothing on stderr"
    assert lines[-1].startswith(f"chatgpt-browser: {kind}"), stderr
    assert all(line.startswith(("WARNING: ", "[")) for line in lines[:-1]), stderr
