"""The harvest's input checks (TOTP secret, proxy URL) and URL redaction: one rule each,
shared by harvest() and the composition root."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time

import pytest

from chatgpt_browser import app
from chatgpt_browser.browser.inputs import (
    checked_proxy,
    proxy_settings,
    redact_urls,
    totp_now,
    usable_totp_secret,
)
from chatgpt_browser.errors import ConfigError


def _rfc6238(secret: str, at: float) -> str:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(at // 30)), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def test_totp_secret_is_normalised_as_sites_display_it() -> None:
    assert usable_totp_secret("jbsw y3dp-ehpk 3pxp==") == "JBSWY3DPEHPK3PXP"
    assert usable_totp_secret(None) is None and usable_totp_secret("") is None


def test_an_80_bit_secret_gives_the_rfc_6238_code() -> None:
    before = _rfc6238("JBSWY3DPEHPK3PXP", time.time())
    code = totp_now("jbsw y3dp ehpk 3pxp")
    assert code in (before, _rfc6238("JBSWY3DPEHPK3PXP", time.time()))


@pytest.mark.parametrize(("secret", "why"), [("not base32!", "base32"), ("JBSW Y3DP", "40 bits")])
def test_unusable_secret_is_a_config_error_that_hides_it(secret: str, why: str) -> None:
    for check in (usable_totp_secret, app.usable_totp_secret, totp_now):
        with pytest.raises(ConfigError) as info:
            check(secret)
        assert why in str(info.value) and secret not in str(info.value)


@pytest.mark.parametrize(
    "proxy",
    [
        "http://user:pw-s3cret@proxy.local:notaport",
        "http://user:pw-s3cret@proxy.local:70000",
        "ftp://user:pw-s3cret@proxy.local:21",
        "http://user:pw-s3cret@:8080",
    ],
)
def test_bad_proxy_is_a_config_error_that_hides_the_password(proxy: str) -> None:
    for check in (checked_proxy, proxy_settings, app.checked_proxy):
        with pytest.raises(ConfigError) as info:
            check(proxy)
        assert "pw-s3cret" not in str(info.value) and "proxy must be" in str(info.value)


def test_good_proxy_becomes_playwright_settings() -> None:
    assert proxy_settings("http://u%40x:p%3Aw@127.0.0.1:3128") == {
        "server": "http://127.0.0.1:3128",
        "username": "u@x",
        "password": "p:w",
    }
    assert proxy_settings("127.0.0.1:3128") == {"server": "http://127.0.0.1:3128"}
    assert checked_proxy("socks5://[::1]:1080") == "socks5://[::1]:1080"
    assert proxy_settings("socks5://[::1]:1080") == {"server": "socks5://[::1]:1080"}


def test_redact_urls_keeps_scheme_host_port_and_path_only() -> None:
    text = (
        "connect ECONNREFUSED at http://admin:cdp-pass@127.0.0.1:9222/devtools?token=tok-s3cret#x "
        "and (ws://bob:pw@[::1]:9223/devtools/browser/abc?token=t2)"
    )
    redacted = redact_urls(text)
    assert redacted == (
        "connect ECONNREFUSED at http://127.0.0.1:9222/devtools and (ws://[::1]:9223/devtools/browser/abc)"
    )
