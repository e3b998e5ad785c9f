"""The credential bundle: secrets hidden, JSON round trip, lifetimes."""

from __future__ import annotations

import base64
import json

import pytest

from chatgpt_browser.credentials import Credentials, fingerprint, jwt_expiry, parse_iso8601
from chatgpt_browser.errors import StoreError

SECRETS = {
    "clearance_token": "clear-SECRET-1",
    "session_token": "sess-SECRET-2",
    "access_token": "acc-SECRET-3",
}


def bundle(**changes: object) -> Credentials:
    values: dict[str, object] = {
        "site": "http://127.0.0.1:1",
        "user_agent": "Mozilla/5.0 Test",
        "account": "demo@example.com",
        "proxy": "http://user:proxy-SECRET-4@127.0.0.1:3128",
        "clearance_expires_at": 1_000.0,
        "session_expires_at": 5_000.0,
        "access_token_expires_at": 2_000.0,
        "headers": {"sec-ch-ua": '"Chromium";v="156"'},
        "timings": {"launch": 0.5},
        **SECRETS,
    }
    values.update(changes)
    return Credentials(**values)  # type: ignore[arg-type]


def test_repr_and_str_show_fingerprints_not_secrets() -> None:
    creds = bundle()
    for text in (repr(creds), str(creds), f"{creds}", json.dumps(creds.describe())):
        for secret in [*SECRETS.values(), "proxy-SECRET-4"]:
            assert secret not in text
    assert fingerprint("sess-SECRET-2") in repr(creds)
    assert "user:***@127.0.0.1:3128" in repr(creds)


def test_fingerprint_is_stable_short_and_distinct() -> None:
    assert fingerprint("a") == fingerprint("a")
    assert fingerprint("a") != fingerprint("b")
    assert len(fingerprint("a")) == len("sha256:") + 10
    assert fingerprint(None) == fingerprint("") == "<none>"


def test_json_round_trip_keeps_every_field() -> None:
    creds = bundle()
    again = Credentials.from_json(creds.to_json())
    assert again.to_dict() == creds.to_dict()
    assert json.loads(creds.to_json())["version"] == 1


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[]",
        '{"version": 1}',
        '{"version": 99, "credentials": {}}',
        '{"version": 1, "credentials": {"site": "x"}}',
        (
            '{"version": 1, "credentials": {"site": "x", "user_agent": "u", "session_token": "s", '
            '"timings": 5}}'
        ),
        (
            '{"version": 1, "credentials": {"site": "x", "user_agent": "u", "session_token": "s", '
            '"clearance_expires_at": [1, 2]}}'
        ),
    ],
)
def test_bad_records_raise_store_error(text: str) -> None:
    with pytest.raises(StoreError):
        Credentials.from_json(text)


def test_unknown_keys_are_ignored_for_forward_compatibility() -> None:
    data = bundle().to_dict() | {"added_in_v2": True}
    assert Credentials.from_dict(data).session_token == SECRETS["session_token"]


def test_lifetimes_use_the_earliest_expiry() -> None:
    creds = bundle()
    assert creds.expires_at() == 1_000.0
    assert creds.ttl(now=400.0) == 600.0
    assert creds.expires_within(600.0, now=400.0)
    assert not creds.expires_within(599.0, now=400.0)
    assert creds.access_token_valid_for(999.0, now=1_000.0)
    assert not creds.access_token_valid_for(1_000.0, now=1_000.0)
    unknown = bundle(clearance_expires_at=None, session_expires_at=None)
    assert unknown.ttl() is None and not unknown.expires_within(10**9)
    assert not bundle(access_token=None).access_token_valid_for()


def test_bundle_is_immutable_and_replace_makes_a_copy() -> None:
    creds = bundle()
    with pytest.raises(AttributeError):
        creds.session_token = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        creds.headers["sec-ch-ua"] = "changed"  # type: ignore[index]
    rotated = creds.replace(session_token="sess-NEW")
    assert rotated.session_token == "sess-NEW" and creds.session_token == SECRETS["session_token"]


def _jwt(claims: dict[str, object]) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256'})}.{part(claims)}.c2ln"


def test_jwt_expiry_reads_exp_and_tolerates_garbage() -> None:
    assert jwt_expiry(_jwt({"exp": 1700000000})) == 1700000000.0
    assert jwt_expiry(_jwt({"exp": 12.5, "sub": "user-1"})) == 12.5
    for token in (
        _jwt({"sub": "x"}),
        _jwt({"exp": "soon"}),
        _jwt({"exp": True}),
        "not-a-jwt",
        "a.!!!.c",
        "",
        None,
    ):
        assert jwt_expiry(token) is None


def test_parse_iso8601_reads_the_session_expiry() -> None:
    assert parse_iso8601("1970-01-02T00:00:00.000Z") == 86400.0
    assert parse_iso8601("1970-01-02T00:00:00") == 86400.0  # no zone: UTC
    for text in ("garbage", "", None, 5):
        assert parse_iso8601(text) is None


def test_from_json_takes_the_flat_forms_too() -> None:
    creds = bundle()
    assert Credentials.from_json(json.dumps(creds.to_dict())) == creds
    printed = {  # the shape of `chatgpt-browser session --format json`
        "site": creds.site,
        "account": creds.account,
        "clearance_token": creds.clearance_token,
        "session_token": creds.session_token,
        "access_token": creds.access_token,
        "user_agent": creds.user_agent,
        "headers": dict(creds.headers),
        "clearance_expires_at": creds.clearance_expires_at,
        "session_expires_at": creds.session_expires_at,
        "access_token_expires_at": creds.access_token_expires_at,
    }
    parsed = Credentials.from_json(json.dumps(printed))
    assert (parsed.session_token, parsed.clearance_token, parsed.access_token) == (
        creds.session_token,
        creds.clearance_token,
        creds.access_token,
    )
    with pytest.raises(StoreError):
        Credentials.from_json(json.dumps({"session_token": "x"}))  # no site / user agent
