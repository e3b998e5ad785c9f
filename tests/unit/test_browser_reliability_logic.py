"""Pure parts of the harvest's safety rules: allowed origins, secret scrubbing, child
environments, the profile's session check and the stage reporter."""

from __future__ import annotations

import logging
import sqlite3
import time
import zipfile
from pathlib import Path

import pytest

from chatgpt_browser.browser.artifacts import scrub, scrub_zip
from chatgpt_browser.browser.environment import child_environment
from chatgpt_browser.browser.guard import OriginGuard
from chatgpt_browser.browser.profile_state import profile_may_hold_session
from chatgpt_browser.browser.steps import Stages
from chatgpt_browser.config import SiteProfile
from chatgpt_browser.errors import SecurityError


def test_guard_allows_the_site_and_its_auth_hosts_only() -> None:
    guard = OriginGuard(SiteProfile("https://chat.openai.com"), ["login.example"])
    assert guard.allows("https://chat.openai.com/auth/login")
    assert guard.allows("https://auth0.openai.com/u/login?state=x")
    assert guard.allows("https://login.example/")
    assert not guard.allows("http://chat.openai.com/auth/login"), "no downgrade to http"
    assert not guard.allows("https://chat.openai.com.evil.example/")
    assert not guard.allows("https://evil.example/?next=chat.openai.com")
    assert not guard.allows("javascript:alert(1)")
    assert not guard.allows("about:blank")


def test_guard_ignores_ports_of_an_allowed_host() -> None:
    """The emulator serves its auth0 on the site's host, another port."""
    guard = OriginGuard(SiteProfile("http://127.0.0.1:8000"))
    assert guard.allows("http://127.0.0.1:9000/u/login")
    assert not guard.allows("http://127.0.0.2:8000/u/login")


@pytest.mark.parametrize(
    ("site", "extra"),
    [
        ("https://chat.openai.com", ["login.example"]),
        ("http://127.0.0.1:8000", []),
        ("http://[::1]:8000", []),
    ],
)
def test_guard_routes_every_url_it_does_not_plainly_allow(site: str, extra: list[str]) -> None:
    """The pattern handed to Playwright is only a pre-filter: each URL the guard would
    refuse must match it (else the browser would not even ask), and the site's own plain
    URLs must not (else every request pays a round trip to Python)."""
    guard = OriginGuard(SiteProfile(site), extra)
    pattern = guard.maybe_foreign()
    hosts = ["chat.openai.com", "auth0.openai.com", "login.example", "127.0.0.1", "[::1]", "evil.example"]
    tails = [
        "",
        "/",
        ":9000/u/login",
        "/a?b=c",
        "?x",
        "#f",
        ".evil.example/",
        "@evil.example/",
        "%2e/",
        "evil/",
    ]
    for scheme in ("http", "https", "HTTPS", "ws", "data"):
        for host in hosts:
            for tail in tails:
                url = f"{scheme}://{host}{tail}"
                if url.lower().startswith(("http:", "https:")) and not guard.allows(url):
                    assert pattern.search(url), url
                elif not url.lower().startswith(("http:", "https:")):
                    assert not pattern.search(url), url
    plain = site + "/auth/login?next=%2Fchat"
    assert guard.allows(plain) and not pattern.search(plain)


def test_guard_reports_a_violation_without_the_query() -> None:
    guard = OriginGuard(SiteProfile("http://127.0.0.1:8000"))
    guard.violation = "http://127.0.0.2:9/collect"
    with pytest.raises(SecurityError, match=r"127\.0\.0\.2:9/collect"):
        guard.check()


def test_scrub_replaces_secrets_and_cookie_values() -> None:
    text = "pw=hunter2-secret; cookie __Secure-next-auth.session-token=eyJabc.def; cf_clearance=zz9_1"
    out = scrub(text, ["hunter2-secret", "", "ab"])
    assert "hunter2-secret" not in out and "eyJabc" not in out and "zz9_1" not in out
    assert "__Secure-next-auth.session-token=<redacted>" in out and "cf_clearance=<redacted>" in out


def test_scrub_zip_rewrites_text_entries_and_keeps_binary_ones(tmp_path: Path) -> None:
    path = tmp_path / "trace.zip"
    image = bytes(range(256))
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("trace.trace", '{"value":"hunter2-secret"}\n')
        archive.writestr("resources/x.png", image)
    scrub_zip(path, ["hunter2-secret"])
    with zipfile.ZipFile(path) as archive:
        assert archive.read("trace.trace") == b'{"value":"<redacted>"}\n'
        assert archive.read("resources/x.png") == image


def test_child_environment_drops_our_variables_and_secret_values() -> None:
    environ = {"PATH": "/bin", "CHATGPT_BROWSER_PASSWORD": "pw1", "MY_PW": "pw1", "HOME": "/root", "X": "pw2"}
    assert child_environment(["pw1"], environ) == {"PATH": "/bin", "HOME": "/root", "X": "pw2"}


def _cookie_db(profile: Path, rows: list[tuple[str, str, int]]) -> None:
    folder = profile / "Default" / "Network"
    folder.mkdir(parents=True)
    with sqlite3.connect(folder / "Cookies") as db:
        db.execute("CREATE TABLE cookies (host_key TEXT, name TEXT, expires_utc INTEGER)")
        db.executemany("INSERT INTO cookies VALUES (?, ?, ?)", rows)


def _chrome_time(unix: float) -> int:
    return int((unix + 11_644_473_600) * 1_000_000)


def test_profile_session_check_reads_the_cookie_file(tmp_path: Path) -> None:
    site = SiteProfile("http://127.0.0.1:8000")
    assert not profile_may_hold_session(tmp_path / "none", site)
    live = tmp_path / "live"
    _cookie_db(live, [("127.0.0.1", site.session_cookie, _chrome_time(time.time() + 3600))])
    assert profile_may_hold_session(live, site)
    expired = tmp_path / "expired"
    _cookie_db(expired, [("127.0.0.1", site.session_cookie, _chrome_time(time.time() - 60))])
    assert not profile_may_hold_session(expired, site)
    other = tmp_path / "other"
    _cookie_db(other, [("evil.example", site.session_cookie, 0), ("127.0.0.1", "cf_clearance", 0)])
    assert not profile_may_hold_session(other, site)


def test_an_unreadable_cookie_file_lets_the_browser_decide(tmp_path: Path) -> None:
    folder = tmp_path / "Default" / "Network"
    folder.mkdir(parents=True)
    (folder / "Cookies").write_bytes(b"not a database at all" * 100)
    assert profile_may_hold_session(tmp_path, SiteProfile("http://127.0.0.1:8000"))


def test_stages_call_back_and_survive_a_failing_callback(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[str] = []
    Stages(seen.append).start("challenge")
    assert seen == ["challenge"]

    def broken(stage: str) -> None:
        raise ValueError("boom")

    with caplog.at_level(logging.WARNING):
        Stages(broken).start("verify")
    assert "on_stage callback failed" in caplog.text


def test_site_url_with_userinfo_is_a_config_error() -> None:
    from chatgpt_browser.errors import ConfigError

    with pytest.raises(ConfigError, match="user name or password") as info:
        SiteProfile("https://me:hunter22@chat.example")
    assert "hunter22" not in str(info.value)
