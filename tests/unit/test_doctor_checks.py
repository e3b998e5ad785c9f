"""doctor's verdicts on probe results (pure: no browser, no sockets)."""

from __future__ import annotations

import email.utils
import json
import time
from pathlib import Path

from chatgpt_browser.config import Settings
from chatgpt_browser.doctor import (
    CheckResult,
    Probe,
    check_clock,
    check_egress,
    check_headless_leaks,
    check_store,
    check_tls,
    parse_trace,
    render_json,
    render_text,
)

CHROME = "t13i1516h2_8daaf6152771_cb7bf5808d99"
REQUESTS = "t13i1811h1_85036bcba153_b26ce05bbdd6"


def test_tls_compares_version_alpn_and_cipher_hash_only() -> None:
    same_family = Probe(
        browser_ja4=CHROME, client_ja4="t13d1517h2_8daaf6152771_02713d6af862", transport="auto"
    )
    assert check_tls(same_family).ok
    bad = check_tls(Probe(browser_ja4=CHROME, client_ja4=REQUESTS, transport="requests"))
    assert not bad.ok and REQUESTS in bad.verdict and "auto" in bad.hint
    assert not check_tls(Probe(error="BrowserError: no display")).ok


def test_clock_and_egress() -> None:
    now = time.time()
    date = email.utils.formatdate(now - 300, usegmt=True)
    assert not check_clock(Probe(site_date=date, date_seen_at=now)).ok
    assert check_clock(Probe(site_date=email.utils.formatdate(now, usegmt=True), date_seen_at=now)).ok
    assert not check_clock(Probe()).ok
    assert check_egress(Probe(browser_trace={"ip": "1.2.3.4"}, client_trace={"ip": "1.2.3.4"})).ok
    split = check_egress(Probe(browser_trace={"ip": "1.2.3.4"}, client_trace={"ip": "5.6.7.8"}))
    assert not split.ok and "--proxy" in split.hint


def test_headless_leaks() -> None:
    clean = {
        "ua": "Mozilla/5.0 Chrome/156",
        "brands": ["Chromium/156"],
        "webdriver": False,
        "vendor": "Google",
    }
    assert check_headless_leaks(Probe(browser=clean)).ok
    leaky = {**clean, "ua": "HeadlessChrome/156", "webdriver": True, "vendor": None}
    result = check_headless_leaks(Probe(browser=leaky))
    assert not result.ok and "webdriver" in result.verdict and "no WebGL" in result.verdict


def test_store_modes(tmp_path: Path) -> None:
    settings = Settings(store="file", state_dir=tmp_path / "state")
    assert check_store(settings).ok
    (tmp_path / "state").chmod(0o755)
    assert not check_store(settings).ok


def test_renderers_and_trace_parsing() -> None:
    results = [CheckResult("a", True, "fine"), CheckResult("b", False, "broken", "fix it")]
    text = render_text(results)
    assert "FAIL b" in text and "hint: fix it" in text and text.endswith("1 failed: b")
    assert json.loads(render_json(results))["ok"] is False
    assert parse_trace("ip=1.2.3.4\nuag=a=b\n\n") == {"ip": "1.2.3.4", "uag": "a=b"}
