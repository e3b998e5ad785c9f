"""CLI and store drills: bad inputs, a damaged or hostile state folder, and storms.

Each drill runs the real `python -m chatgpt_browser` and asserts the exit code, the one
error line and a generous upper bound on the time (never a tight timing).
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatgpt_browser.cli.exit_codes import ExitStatus
from chatgpt_browser.credentials import Credentials
from chatgpt_browser.emulator.process import Emulator
from chatgpt_browser.session.store import FileStore, account_key

pytestmark = [pytest.mark.drill]

URL = "http://127.0.0.1:9"  # nothing listens there
EMAIL = "drill@example.com"


def env_for(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATGPT_BROWSER_")}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_STATE_HOME=str(home / ".state"))
    return {**env, **extra}


def cli(
    *args: str, home: Path, timeout: float = 120, **extra: str
) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "chatgpt_browser", *args],
        capture_output=True, text=True, timeout=timeout, env=env_for(home, **extra),
    )  # fmt: skip
    return result, time.monotonic() - started


def last_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines, "nothing on stderr"
    assert "Traceback" not in stderr, stderr
    return lines[-1]


def seeded(state: Path) -> Path:
    now = time.time()
    bundle = Credentials(
        site=URL, user_agent="Mozilla/5.0 Chrome/120.0.0.0", session_token="drill-session",
        clearance_token="drill-clearance", account=EMAIL, clearance_expires_at=now + 1800,
        session_expires_at=now + 86400, access_token="drill-access", access_token_expires_at=now + 3600,
    )  # fmt: skip
    store = FileStore(state)
    store.save(account_key(URL, EMAIL), bundle)
    return store.path(account_key(URL, EMAIL))


def args(state: Path) -> list[str]:
    return ["--url", URL, "--email", EMAIL, "--state-dir", str(state)]


# -- bad inputs ---------------------------------------------------------------------
def test_toml_that_is_not_utf8(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_bytes(b'email = "caf\xe9@example.com"\n')
    result, took = cli("session", "--config", str(config), "--url", URL, home=tmp_path)
    assert result.returncode == ExitStatus.BAD_CONFIG
    assert last_line(result.stderr).startswith("chatgpt-browser: ConfigError: config file")
    assert "not valid UTF-8" in result.stderr and took < 30


# -- a hostile state folder -----------------------------------------------------------
def test_symlinked_record_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    state = tmp_path / "state"
    record = seeded(state)
    outside = tmp_path / "elsewhere.json"
    outside.write_bytes(record.read_bytes())
    outside.chmod(0o644)
    record.unlink()
    record.symlink_to(outside)
    result, took = cli("session", *args(state), home=tmp_path)
    assert result.returncode == ExitStatus.STORE, result.stderr
    assert last_line(result.stderr).startswith("chatgpt-browser: StoreError:") and "symlink" in result.stderr
    assert stat.S_IMODE(outside.stat().st_mode) == 0o644  # never chmodded through the link
    assert record.is_symlink() and took < 30


def test_folder_at_the_record_path_is_an_error_not_chmodded(tmp_path: Path) -> None:
    state = tmp_path / "state"
    record = seeded(state)
    record.unlink()
    record.mkdir(mode=0o755)
    record.chmod(0o755)
    result, took = cli("session", *args(state), home=tmp_path)
    assert result.returncode == ExitStatus.STORE, result.stderr
    assert last_line(result.stderr).startswith("chatgpt-browser: StoreError:")
    assert stat.S_IMODE(record.stat().st_mode) == 0o755 and took < 30


def test_read_only_state_folder_is_exit_10_and_stays_read_only(tmp_path: Path) -> None:
    state = tmp_path / "state"
    (state / "credentials").mkdir(parents=True, mode=0o700)
    (state / "credentials").chmod(0o500)  # made read-only on purpose
    try:
        result, took = cli("session", *args(state), home=tmp_path, PW="x")
        assert result.returncode == ExitStatus.STORE, result.stderr
        assert "read-only" in last_line(result.stderr) and took < 30
        assert stat.S_IMODE((state / "credentials").stat().st_mode) == 0o500
    finally:
        (state / "credentials").chmod(0o700)


# -- storms -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = shutil.which("redis-server")
    assert server, "redis-server is not installed (scripts/setup installs it)"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [server, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path_factory.mktemp("redis"))],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "redis-server did not start"
                time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


class Launches:
    """A Chromium wrapper that logs every browser launch (not `--version` probes)."""

    def __init__(self, folder: Path) -> None:
        real = shutil.which("chromium") or "/usr/bin/chromium"
        self.log, self.path = folder / "launches.log", folder / "chromium-counting"
        self.path.write_text(
            "#!/bin/sh\n"
            f'case " $* " in *" --version "*) ;; *) echo "$$" >> "{self.log}" ;; esac\nexec "{real}" "$@"\n'
        )
        self.path.chmod(0o755)

    @property
    def count(self) -> int:
        return len(self.log.read_text().splitlines()) if self.log.exists() else 0


def storm(emu: Emulator, home: Path, store_args: list[str], jobs: int = 20) -> tuple[list[int], float, int]:
    chromium = Launches(home)
    argv = [
        sys.executable, "-m", "chatgpt_browser", "session", "-q", "--url", emu.url,
        "--email", emu.account.email, "--state-dir", str(home / "state"), "--executable", str(chromium.path),
        "--password-env", "PW", *store_args,
    ]  # fmt: skip
    env = env_for(home, PW=emu.account.password)
    started = time.monotonic()
    procs = [
        subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        for _ in range(jobs)
    ]
    codes = [proc.wait(timeout=600) for proc in procs]
    for proc in procs:
        assert proc.stderr is not None
        proc.stderr.close()
    return codes, time.monotonic() - started, chromium.count


@pytest.mark.browser
@pytest.mark.slow
def test_storm_of_20_cold_jobs_on_the_file_store(tmp_path: Path) -> None:
    with Emulator(dwell=0.5) as emu:
        codes, took, launches = storm(emu, tmp_path, [])
    assert codes == [0] * 20 and launches == 1
    assert took < 3 * 180  # 3x the harvest deadline: generous on a shared machine


@pytest.mark.browser
@pytest.mark.redis
@pytest.mark.slow
def test_storm_of_20_cold_jobs_on_redis(tmp_path: Path, redis_url: str) -> None:
    with Emulator(dwell=0.5) as emu:
        codes, took, launches = storm(emu, tmp_path, ["--store", "redis", "--redis-url", redis_url])
    assert codes == [0] * 20 and launches == 1
    assert took < 3 * 180
