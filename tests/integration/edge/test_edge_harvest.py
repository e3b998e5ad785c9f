"""The whole promise on the realistic edge: a bundle Chromium harvested over --tls (bind)
works from the product's client and not from stock requests; the demo shows both."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from chatgpt_browser.browser.harvest import harvest
from chatgpt_browser.client import ChatGPTAPI
from chatgpt_browser.demo import plain_requests_get
from chatgpt_browser.emulator.fingerprint import binding_of
from chatgpt_browser.emulator.process import Emulator

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM_FAMILY = "13_h2_8daaf6152771"


def test_harvested_bundle_passes_from_the_browser_and_the_client_only(
    make_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    emu = make_emulator(tls=True, pow_difficulty=8)
    bundle = harvest(
        emu.url,
        email=emu.account.email,
        password=emu.account.password,
        ca_file=emu.ca_file,
        artifacts_dir=tmp_path,
        timeout=90.0,
    )
    # The browser's own traffic (challenge, login pages, session check) all passed the edge.
    stats = emu.admin.stats()
    assert stats["challenges"]["passed"] == 1 and stats["logins"]["ok"] == 1
    assert "tls_mismatch" not in stats["challenges"]["clearance_rejections"]
    seen = emu.admin.tls(limit=1000)["recent"]
    assert seen and {binding_of(entry["ja4"]) for entry in seen} <= {CHROMIUM_FAMILY, "13_h1_85036bcba153"}
    assert any(entry["browser_like"] for entry in seen)  # Chromium's connections

    stock = plain_requests_get(emu.url, bundle, emu.ca_file, timeout=10)
    assert stock.status_code == 403 and stock.headers["cf-mitigated"] == "challenge"
    mismatch = emu.admin.stats()["challenges"]["tls_mismatches"][-1]
    assert binding_of(mismatch["earned_ja4"]) == CHROMIUM_FAMILY

    with ChatGPTAPI(credentials=bundle, verify=emu.ca_file) as api:  # the default transport: "auto"
        assert api.send_message("hello from the harvested bundle").response
    assert len(emu.admin.stats()["challenges"]["tls_mismatches"]) == 1  # only the stock call


def test_demo_shows_the_refusal_and_the_success(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATGPT_BROWSER_")}
    env.update(HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / ".c"), XDG_STATE_HOME=str(tmp_path / ".s"))
    done = subprocess.run(
        [sys.executable, "-m", "chatgpt_browser", "demo", "--json", "--dwell", "0"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    refused = report["tls_edge"]
    assert refused["status"] == 403 and refused["reason"] == "tls_mismatch"
    assert binding_of(refused["earned_ja4"]) == CHROMIUM_FAMILY
    assert binding_of(refused["presented_ja4"]) != CHROMIUM_FAMILY
    assert report["answer"] and report["moderation"] == {"flagged": False, "blocked": False}
