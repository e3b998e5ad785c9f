"""Drills of the browser harvest: hostile and broken sites, signals at launch.

Each drill asserts the typed outcome (library) or the exit code and one-line message
(the real CLI), and a generous upper bound on the time (3x the configured deadline):
what is checked is that nothing hangs, not how fast it goes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from browser_drill_servers import Recorder, cli_command
from support.servers import BlackHole
from support.waiting import wait_until

from chatgpt_browser import harvest
from chatgpt_browser.errors import ConfigError, NetworkError, NotTheSiteError, SecurityError

pytestmark = [pytest.mark.browser, pytest.mark.drill]

EMAIL = "drill@example.com"
PASSWORD = "drill-Pa55word-never-sent"
NOISE = ("Future exception was never retrieved", "did not exit", "Traceback", "Task was destroyed")


def _processes_under(root: Path) -> list[int]:
    """Chromium processes whose profile lies under `root` (from /proc cmdlines)."""
    marker = f"--user-data-dir={root}".encode()
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if any(arg.startswith(marker) for arg in (entry / "cmdline").read_bytes().split(b"\0")):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _run_cli(env: dict[str, str], *args: str, timeout: float) -> tuple[int, str, float]:
    started = time.monotonic()
    proc = subprocess.run(
        [*cli_command(), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    return proc.returncode, proc.stderr, time.monotonic() - started


# -- a site that accepts TCP and never answers ------------------------------------------


def test_black_hole_site_fails_within_the_deadline(black_hole: BlackHole, tmp_path: Path) -> None:
    deadline = 5.0
    started = time.monotonic()
    with pytest.raises(NetworkError, match="sent no page in time") as info:
        harvest(
            black_hole.url,
            email=EMAIL,
            password=PASSWORD,
            timeout=deadline,
            profile_dir=tmp_path / "profile",
            artifacts_dir=tmp_path / "artifacts",
        )
    assert time.monotonic() - started < 3 * deadline
    folder = Path(info.value.artifacts_dir)  # type: ignore[attr-defined]
    assert str(folder) in str(info.value)
    assert (folder / "trace.zip").is_file() and (folder / "url.txt").is_file()
    assert not (folder / "screenshot.png").exists(), "no blank about:blank screenshot"
    assert not _processes_under(tmp_path)


def test_black_hole_site_cli_exits_8_in_time(black_hole: BlackHole, cli_env: Any, tmp_path: Path) -> None:
    deadline = 6.0
    env = cli_env(
        black_hole.url, harvest=deadline, CHATGPT_BROWSER_EMAIL=EMAIL, CHATGPT_BROWSER_PASSWORD=PASSWORD
    )
    code, stderr, took = _run_cli(env, "login", timeout=10 * deadline)
    assert code == 8, stderr
    assert took < 3 * deadline + 5  # + the interpreter's and the store's start
    # One error line, last; before it only the progress lines of the stages ("[  0.1s] ...").
    *progress, error = stderr.strip().splitlines()
    assert error.startswith("chatgpt-browser: NetworkError:"), stderr
    assert all(line.startswith("[") for line in progress), stderr
    assert not any(noise in stderr for noise in NOISE)
    assert not _processes_under(tmp_path)


# -- a URL that is not the site ------------------------------------------------------------


def test_static_server_is_not_the_site(static_site: Recorder, tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(NotTheSiteError, match="does not look like the site") as info:
        harvest(static_site.url, email=EMAIL, password=PASSWORD, timeout=60.0, artifacts_dir=tmp_path / "a")
    assert time.monotonic() - started < 30.0, "not the 60 s login timeout"
    assert "password" not in str(info.value).lower()
    assert not any(PASSWORD.encode() in body for _, _, body in static_site.requests)


def test_static_server_cli_exits_15(static_site: Recorder, cli_env: Any) -> None:
    env = cli_env(
        static_site.url, harvest=60.0, CHATGPT_BROWSER_EMAIL=EMAIL, CHATGPT_BROWSER_PASSWORD=PASSWORD
    )
    code, stderr, took = _run_cli(env, "login", timeout=120)
    assert code == 15, stderr
    assert "NotTheSiteError" in stderr and took < 40.0


# -- credentials only to the site ------------------------------------------------------------


@pytest.mark.parametrize("kind", ["navigate", "post", "redirect"])
def test_login_leading_to_another_origin_is_stopped(
    kind: str, hostile_site: Callable[[str], Recorder], foreign: Recorder, tmp_path: Path
) -> None:
    site = hostile_site(kind)
    started = time.monotonic()
    with pytest.raises(SecurityError, match="not one of the site's hosts"):
        harvest(site.url, email=EMAIL, password=PASSWORD, timeout=30.0, artifacts_dir=tmp_path / "a")
    assert time.monotonic() - started < 30.0
    for method, path, body in foreign.requests:
        assert method == "GET" and not body, f"{kind}: the foreign origin got {method} {path}"
        assert EMAIL not in path and PASSWORD not in path
    if kind != "redirect":
        assert foreign.requests == [], "the navigation must be stopped before it leaves the browser"


def test_foreign_login_cli_exits_12(hostile_site: Callable[[str], Recorder], cli_env: Any) -> None:
    site = hostile_site("navigate")
    env = cli_env(site.url, harvest=30.0, CHATGPT_BROWSER_EMAIL=EMAIL, CHATGPT_BROWSER_PASSWORD=PASSWORD)
    code, stderr, _ = _run_cli(env, "login", timeout=120)
    assert code == 12, stderr
    assert "SecurityError" in stderr and PASSWORD not in stderr


def test_login_hosts_allow_a_separate_login_service(
    hostile_site: Callable[[str], Recorder], foreign: Recorder, tmp_path: Path
) -> None:
    """The same site with its login service named as allowed: the guard lets it through
    (the login then fails for other reasons, but not as a SecurityError)."""
    site = hostile_site("navigate")
    with pytest.raises(Exception) as info:
        harvest(
            site.url,
            email=EMAIL,
            password=PASSWORD,
            timeout=8.0,
            login_hosts=[str(foreign.server_address[0])],
            artifacts_dir=tmp_path / "a",
        )
    assert not isinstance(info.value, SecurityError)
    assert any(path == "/login" for _, path, _ in foreign.requests)


def test_auth_host_setting_allows_a_separate_login_service_in_the_cli(
    hostile_site: Callable[[str], Recorder], foreign: Recorder, cli_env: Any
) -> None:
    """`--auth-host` (and CHATGPT_BROWSER_AUTH_HOSTS) reach the harvest's origin guard: the
    login service named there may show the form; the run then fails, but not with exit 12."""
    site = hostile_site("navigate")
    env = cli_env(site.url, harvest=8.0, CHATGPT_BROWSER_EMAIL=EMAIL, CHATGPT_BROWSER_PASSWORD=PASSWORD)
    code, stderr, _ = _run_cli(env, "login", "--auth-host", str(foreign.server_address[0]), timeout=120)
    assert code not in (0, 12) and "SecurityError" not in stderr, stderr
    assert any(path == "/login" for _, path, _ in foreign.requests)
    bad = cli_env(site.url, CHATGPT_BROWSER_EMAIL=EMAIL, CHATGPT_BROWSER_AUTH_HOSTS="https://x.example")
    code, stderr, _ = _run_cli(bad, "login", timeout=60)
    assert code == 2 and "auth_hosts" in stderr, stderr


# -- user:password@ in the URL ---------------------------------------------------------------


def test_url_with_userinfo_is_refused(tmp_path: Path, cli_env: Any) -> None:
    with pytest.raises(ConfigError, match="user name or password"):
        harvest("http://user:s3cret-in-url@127.0.0.1:9", email=EMAIL, password=PASSWORD)
    env = cli_env("http://user:s3cret-in-url@127.0.0.1:9", CHATGPT_BROWSER_EMAIL=EMAIL)
    code, stderr, _ = _run_cli(env, "login", timeout=60)
    assert code == 2 and "s3cret-in-url" not in stderr, stderr
    state = tmp_path / "state"
    names = [p.name for p in state.rglob("*")] if state.exists() else []
    assert not any("s3cret" in name for name in names)


# -- signals during the browser launch -------------------------------------------------------


def _driver_started(pid: int) -> bool:
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
            parent = int(stat[stat.rindex(")") + 2 :].split()[1])
            if parent == pid and b"run-driver" in (entry / "cmdline").read_bytes():
                return True
        except (OSError, ValueError):
            continue
    return False


@pytest.mark.parametrize("moment", ["driver", "chromium"])
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_during_launch_exits_promptly_and_quietly(
    shared_emulator: Any, cli_env: Any, tmp_path: Path, moment: str, signum: int, code: int
) -> None:
    env = cli_env(
        shared_emulator.url,
        harvest=60.0,
        CHATGPT_BROWSER_EMAIL=shared_emulator.account.email,
        CHATGPT_BROWSER_PASSWORD=shared_emulator.account.password,
    )
    proc = _login_process(env)
    started: dict[str, Callable[[], bool]] = {
        "driver": lambda: _driver_started(proc.pid),
        "chromium": lambda: bool(_processes_under(tmp_path)),
    }
    _interrupt_and_check(proc, started[moment], f"the {moment}", signum, code, tmp_path)


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_during_a_hung_harvest_exits_promptly_and_quietly(
    black_hole: BlackHole, cli_env: Any, tmp_path: Path, signum: int, code: int
) -> None:
    """The page waits on a site that never answers; the signal still ends the run at once."""
    env = cli_env(
        black_hole.url, harvest=120.0, CHATGPT_BROWSER_EMAIL=EMAIL, CHATGPT_BROWSER_PASSWORD=PASSWORD
    )
    proc = _login_process(env)
    requested = lambda: bool(black_hole.requests)  # noqa: E731
    _interrupt_and_check(proc, requested, "the page's request", signum, code, tmp_path)


def _login_process(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*cli_command(), "login"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _interrupt_and_check(
    proc: subprocess.Popen[bytes],
    ready: Callable[[], bool],
    what: str,
    signum: int,
    code: int,
    tmp_path: Path,
) -> None:
    """Once `ready()`, send `signum`: the CLI must exit with `code` promptly, quietly and
    with no browser process left under `tmp_path`."""
    try:
        wait_until(lambda: ready() or proc.poll() is not None, 60, what, interval=0.01)
        assert proc.poll() is None, "the login ended before the signal"
        sent = time.monotonic()
        os.kill(proc.pid, signum)
        _, stderr = proc.communicate(timeout=30)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = stderr.decode(errors="replace")
    assert proc.returncode == code, text
    assert took < 3.0, f"took {took:.2f}s"  # the promise is 1 s; 3x for a loaded machine
    assert not any(noise in text for noise in NOISE), text
    assert not _processes_under(tmp_path)
