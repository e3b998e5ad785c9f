"""Pure rules of `serve`: the URL allow-list, the rate limit, the options and accounts."""

from __future__ import annotations

import pytest

from chatgpt_browser.config import Settings, SiteProfile
from chatgpt_browser.errors import ConfigError
from chatgpt_browser.serve.options import ServeOptions, accounts_from, serve_table
from chatgpt_browser.serve.security import (
    HostRule,
    RateLimiter,
    RefusedTargetError,
    check_target,
    key_matches,
)

SITE = SiteProfile(base_url="https://chat.example.com")


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://chat.example.com/auth/login", True),
        ("https://CHAT.example.com:443/x", True),
        ("http://chat.example.com/x", False),  # port 80, not the site's 443
        ("https://chat.example.com:8443/x", False),
        ("https://other.example.com/", False),
        ("https://chat.example.com.evil.net/", False),
        ("https://chat.example.com@evil.net/", False),
        ("file:///etc/passwd", False),
        ("javascript:alert(1)", False),
        ("https://cdn.example.org/app.js", True),  # --allow-host without a port: any port
        ("http://127.0.0.1:9000/", True),
        ("http://127.0.0.1:9001/", False),
        ("http://169.254.169.254/latest/meta-data/", False),
        ("https://chat.example.com:99999/", False),
    ],
)
def test_host_rule(url: str, allowed: bool) -> None:
    rule = HostRule.build(SITE, ("cdn.example.org", "127.0.0.1:9000", "169.254.169.254"))
    assert rule.host_allowed(url) is allowed


def test_check_target_explains_refusals() -> None:
    rule = HostRule.build(SITE, ())
    assert check_target(rule, "https://chat.example.com/") == "https://chat.example.com/"
    with pytest.raises(RefusedTargetError, match="only http"):
        check_target(rule, "file:///etc/passwd")
    with pytest.raises(RefusedTargetError, match="not an allowed host"):
        check_target(rule, "http://127.0.0.1:6379/")
    with pytest.raises(RefusedTargetError, match="required"):
        check_target(rule, None)
    with pytest.raises(ConfigError, match="HOST or HOST:PORT"):
        HostRule.build(SITE, ("host:port",))


def test_key_matches() -> None:
    assert key_matches(None, None)
    assert key_matches("k", "k")
    assert not key_matches("k", None)
    assert not key_matches("k", "K")


def test_rate_limiter_is_a_token_bucket_per_client() -> None:
    now = [0.0]
    limiter = RateLimiter(rate=2.0, burst=3, clock=lambda: now[0])
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b")  # another client has its own bucket
    now[0] += 0.5  # one token back
    assert limiter.allow("a") and not limiter.allow("a")
    assert RateLimiter(rate=0, burst=1).allow("a")


def test_public_host_needs_a_key() -> None:
    with pytest.raises(ConfigError, match="without an API key"):
        ServeOptions(host="0.0.0.0")
    assert ServeOptions(host="0.0.0.0", api_key="k").api_key == "k"
    assert ServeOptions(host="::1").api_key is None
    with pytest.raises(ConfigError, match="at least 1"):
        ServeOptions(max_browsers=0)
    assert "k" not in repr(ServeOptions(api_key="k"))


def test_accounts_from_settings_and_toml() -> None:
    settings = Settings(email="a@example.com", password_env="A_PW")
    document = {"accounts": [{"email": "b@example.com", "password_env": "B_PW", "proxy": "http://p:3128"},
                             {"email": "A@example.com", "password_env": "A2"}]}  # fmt: skip
    specs = accounts_from(settings, document)
    assert [(s.email, s.password_env) for s in specs] == [("A@example.com", "A2"), ("b@example.com", "B_PW")]
    assert specs[1].proxy == "http://p:3128"
    with pytest.raises(ConfigError, match="password_env"):
        accounts_from(settings, {"accounts": [{"email": "c@example.com", "password": "x"}]})
    with pytest.raises(ConfigError, match="needs an 'email'"):
        accounts_from(settings, {"accounts": [{"password_env": "X"}]})
    with pytest.raises(ConfigError, match="no account"):
        accounts_from(Settings(), {})
    with pytest.raises(ConfigError, match="api_key_env"):
        serve_table({"serve": {"api_key": "inline"}})
    assert serve_table({"serve": {"port": 1, "api_key_env": "K"}}) == {"port": 1, "api_key_env": "K"}
