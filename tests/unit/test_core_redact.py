"""redact.py: the one place that keeps secrets out of what is printed or logged."""

from __future__ import annotations

from chatgpt_browser.redact import describe_headers, fingerprint, redact, redact_proxy, redact_urls, safe_url


def test_urls_lose_userinfo_query_and_fragment() -> None:
    assert safe_url("http://u:pw@host:8080/path?token=abc#frag") == "http://host:8080/path"
    text = "connect to ws://127.0.0.1:9222/devtools?token=SECRET failed; proxy http://u:pw@p:3128"
    cleaned = redact_urls(text)
    assert "SECRET" not in cleaned and "pw" not in cleaned and "ws://127.0.0.1:9222/devtools" in cleaned


def test_proxy_keeps_the_user_and_hides_the_password() -> None:
    assert redact_proxy("http://user:secret@host:3128") == "http://user:***@host:3128"
    assert redact_proxy("http://host:3128") == "http://host:3128" and redact_proxy(None) is None


def test_secret_headers_show_fingerprints() -> None:
    shown = describe_headers({"Cookie": "a=SECRET", "Authorization": "Bearer T0K", "Accept": "*/*"})
    assert "SECRET" not in shown and "T0K" not in shown and "Accept: */*" in shown
    assert fingerprint("a=SECRET") in shown and fingerprint(None) == "<none>"


def test_known_secrets_are_replaced() -> None:
    assert redact("pw=hunter22 and hunter22", ["hunter22"]) == "pw=*** and ***"
