"""Defects an acceptance tester found in harvest(): bad inputs, verification answers that
are not a login failure, secrets in CDP errors, the configured timeouts, and what a
"human needed" error tells a CLI user. Real emulator, real Chromium."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import (
    CAPTCHA_ACCOUNT,
    TOTP80_ACCOUNT,
    TOTP_ACCOUNT,
    login_harvest,
)
from support.servers import serving
from support.waiting import wait_until

from chatgpt_browser import (
    BrowserError,
    ChallengeNotClearedError,
    ChatGPTError,
    ConfigError,
    Credentials,
    HumanNeededError,
    LoginFailedError,
)
from chatgpt_browser.config import Timeouts
from chatgpt_browser.errors import ServerError

pytestmark = pytest.mark.browser


def _login(emu: Any, tmp_path: Path, **kwargs: Any) -> Credentials:
    kwargs.setdefault("headed_fallback", False)
    creds: Credentials = login_harvest(emu, tmp_path, **kwargs)
    return creds


# -- B1: TOTP secrets ------------------------------------------------------------------


def test_80_bit_totp_secret_typed_as_displayed_logs_in(emu: Any, tmp_path: Path) -> None:
    shown = "jbsw y3dp ehpk 3pxp"  # how sites display the key: groups, any case
    creds = _login(
        emu, tmp_path, email=TOTP80_ACCOUNT["email"], password=TOTP80_ACCOUNT["password"], totp_secret=shown
    )
    assert creds.account == TOTP80_ACCOUNT["email"]


@pytest.mark.parametrize(("secret", "why"), [("not base32!", "base32"), ("JBSW Y3DP", "bits")])
def test_unusable_totp_secret_fails_before_any_browser(
    emu: Any, tmp_path: Path, counting_chromium: Any, secret: str, why: str
) -> None:
    with pytest.raises(ConfigError) as info:
        _login(
            emu,
            tmp_path,
            email=TOTP_ACCOUNT["email"],
            password=TOTP_ACCOUNT["password"],
            totp_secret=secret,
            executable=str(counting_chromium.path),
        )
    assert why in str(info.value) and "TOTP" in str(info.value)
    assert secret not in str(info.value)
    assert counting_chromium.launches == 0


# -- B2: proxy URLs --------------------------------------------------------------------


@pytest.mark.parametrize("port", ["notaport", "70000"])
def test_bad_proxy_port_fails_before_any_browser_hiding_the_password(
    emu: Any, tmp_path: Path, counting_chromium: Any, port: str
) -> None:
    with pytest.raises(ConfigError) as info:
        _login(
            emu,
            tmp_path,
            proxy=f"http://user:pw-s3cret@127.0.0.1:{port}",
            executable=str(counting_chromium.path),
        )
    assert "proxy" in str(info.value) and "pw-s3cret" not in str(info.value)
    assert counting_chromium.launches == 0


# -- B3: what the verification call answered ---------------------------------------------


def test_verification_5xx_is_a_server_error_after_bounded_retries(emu: Any, tmp_path: Path) -> None:
    emu.admin.fault("/api/auth/session", "status", status=500, count=5)
    emu.admin.reset_stats()
    with pytest.raises(ServerError) as info:
        _login(emu, tmp_path)
    assert not isinstance(info.value, LoginFailedError) and info.value.status_code == 500
    assert emu.admin.stats()["requests"].get("GET /api/auth/session 500") == 3


def test_verification_5xx_once_is_retried_and_succeeds(emu: Any, tmp_path: Path) -> None:
    emu.admin.fault("/api/auth/session", "status", status=502, count=1)
    assert _login(emu, tmp_path).account == emu.account.email


def test_verification_challenge_is_a_challenge_error(emu: Any, tmp_path: Path) -> None:
    emu.admin.fault("/api/auth/session", "status", status=403, count=5)
    with pytest.raises(ChallengeNotClearedError) as info:
        _login(emu, tmp_path)
    assert "challenge" in str(info.value) and not isinstance(info.value, LoginFailedError)


@pytest.mark.parametrize(
    ("kind", "body"), [("html", None), ("status", '{"user": {"name": "Demo", "email": "de')]
)
def test_verification_answer_that_is_not_json_says_so(
    emu: Any, tmp_path: Path, kind: str, body: str | None
) -> None:
    options = {"status": 200, "body": body} if body else {}
    emu.admin.fault("/api/auth/session", kind, count=5, **options)
    with pytest.raises(ChatGPTError) as info:
        _login(emu, tmp_path)
    assert "expected JSON" in str(info.value)


def test_verification_clean_empty_session_is_an_auth_error(emu: Any, tmp_path: Path) -> None:
    emu.admin.fault("/api/auth/session", "status", status=200, body="{}", count=5)
    with pytest.raises(LoginFailedError, match="did not take"):
        _login(emu, tmp_path)


# -- B4: secrets in CDP errors ---------------------------------------------------------


class _RejectingFleet(BaseHTTPRequestHandler):
    """A browser fleet's endpoint that rejects the token (as Browserless does: 401)."""

    def do_GET(self) -> None:
        self.send_response(401)
        self.send_header("Content-Length", "12")
        self.end_headers()
        self.wfile.write(b"unauthorized")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def rejecting_fleet() -> Iterator[int]:
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), _RejectingFleet)) as server:
        yield server.server_port


@pytest.mark.parametrize(("scheme", "path"), [("http", "/"), ("ws", "/devtools/browser")])
def test_cdp_error_hides_credentials_and_token(
    emu: Any, tmp_path: Path, rejecting_fleet: int, scheme: str, path: str
) -> None:
    url = f"{scheme}://fleet:cdp-pa55@127.0.0.1:{rejecting_fleet}{path}?token=tok-s3cret"
    with pytest.raises(BrowserError) as info:
        _login(emu, tmp_path, cdp_url=url, timeout=20.0)
    text = str(info.value)
    assert "401" in text and f"127.0.0.1:{rejecting_fleet}" in text
    # Neither the message nor the chained cause (printed in tracebacks, logs) names a secret.
    for shown in (text, str(info.value.__cause__ or ""), str(info.value.__context__ or "")):
        assert "cdp-pa55" not in shown and "tok-s3cret" not in shown and "fleet:" not in shown


# -- B5: the configured timeouts -------------------------------------------------------


def _hanging_chromium(folder: Path) -> tuple[Path, Path]:
    """A "chromium" that answers --version but never starts: it just sleeps."""
    real = shutil.which("chromium") or "/usr/bin/chromium"
    pid_file = folder / "pid"
    script = folder / "chromium-hangs"
    script.write_text(
        "#!/bin/sh\n"
        f'case " $* " in *" --version "*) exec "{real}" --version ;; esac\n'
        f'echo "$$" > "{pid_file}"\n'
        "exec sleep 300\n"
    )
    script.chmod(0o755)
    return script, pid_file


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def test_launch_timeout_is_honoured_and_leaves_no_process(emu: Any, tmp_path: Path) -> None:
    script, pid_file = _hanging_chromium(tmp_path)
    started = time.monotonic()
    with pytest.raises(BrowserError):
        _login(emu, tmp_path, executable=str(script), timeout=120.0, timeouts=Timeouts(launch=2.0))
    elapsed = time.monotonic() - started
    assert elapsed < 20, f"the 2 s launch timeout was ignored ({elapsed:.1f} s)"  # the default is 30 s
    pid = int(pid_file.read_text())
    wait_until(lambda: not _alive(pid), 5, "the hanging browser to be gone")


# -- B6: what a "human needed" error tells the user ------------------------------------


def test_captcha_without_solver_says_what_to_do(emu: Any, tmp_path: Path) -> None:
    with pytest.raises(HumanNeededError) as info:
        _login(emu, tmp_path, email=CAPTCHA_ACCOUNT["email"], password=CAPTCHA_ACCOUNT["password"])
    assert "chatgpt-browser login --headed" in str(info.value) and "captcha solver" in str(info.value)


def test_missing_totp_secret_says_what_to_do(emu: Any, tmp_path: Path) -> None:
    with pytest.raises(HumanNeededError) as info:
        _login(emu, tmp_path, email=TOTP_ACCOUNT["email"], password=TOTP_ACCOUNT["password"])
    assert "CHATGPT_BROWSER_TOTP_SECRET" in str(info.value)
    assert "chatgpt-browser login --headed" in str(info.value)


def test_missing_password_only_is_named_as_such(emu: Any, tmp_path: Path) -> None:
    with pytest.raises(HumanNeededError) as info:
        _login(emu, tmp_path, password=None, profile_dir=tmp_path / "fresh-profile")
    text = str(info.value)
    assert f"no password is configured for {emu.account.email}" in text
    assert "e-mail/password" not in text and "chatgpt-browser login --headed" in text
    assert "CHATGPT_BROWSER_PASSWORD" in text
    # The profile's cookie file shows no session: no browser was launched to find that out.
    assert not (tmp_path / "fresh-profile").exists()


def test_app_harvester_passes_the_configured_timeouts(emu: Any, tmp_path: Path) -> None:
    from chatgpt_browser.app import build_harvester
    from chatgpt_browser.config import Settings

    script, pid_file = _hanging_chromium(tmp_path)
    settings = Settings(
        url=emu.url,
        email=emu.account.email,
        password=emu.account.password,
        state_dir=tmp_path / "state",
        executable=str(script),
        timeouts=Timeouts(launch=2.0, harvest=120.0),
    )
    started = time.monotonic()
    with pytest.raises(BrowserError):
        build_harvester(settings)(profile_dir=tmp_path / "profile", reason="test", stale=None)
    elapsed = time.monotonic() - started
    assert elapsed < 20, f"the configured 2 s launch timeout was ignored ({elapsed:.1f} s)"
    wait_until(lambda: not _alive(int(pid_file.read_text())), 5, "the hanging browser to be gone")
