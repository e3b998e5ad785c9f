"""site.py: the wire rules shared by the harvest and the client, in one place."""

from __future__ import annotations

import base64
import json

import pytest

from chatgpt_browser.errors import (
    ChatGPTError,
    ClearanceRejectedError,
    InvalidRequestError,
    MessageTooLongError,
    UnauthorizedError,
)
from chatgpt_browser.site import (
    RenewReason,
    access_token_expiry,
    client_hints,
    error_for_response,
    parse_session_answer,
    session_document,
    session_has_user,
)


def jwt(exp: float) -> str:
    body = base64.urlsafe_b64encode(json.dumps({"exp": exp}).encode()).decode().rstrip("=")
    return f"e30.{body}.sig"


def test_access_token_expiry_is_the_jwt_exp_capped_at_the_ttl() -> None:
    assert access_token_expiry(jwt(1_500.0), now=1_000.0, ttl=3_600.0) == 1_500.0
    assert access_token_expiry(jwt(99_999.0), now=1_000.0, ttl=3_600.0) == 4_600.0
    assert access_token_expiry("opaque-token", now=1_000.0, ttl=60.0) == 1_060.0
    assert access_token_expiry(None, now=1_000.0, ttl=60.0) is None


def test_renew_reasons_say_which_need_a_browser() -> None:
    assert RenewReason.CHALLENGE.needs_browser and RenewReason.FORCED.needs_browser
    assert not RenewReason.UNAUTHORIZED.needs_browser
    assert not RenewReason.ACCESS_TOKEN_EXPIRING.needs_browser
    assert RenewReason.of("403-challenge") is RenewReason.CHALLENGE and RenewReason.of("odd") is None
    assert RenewReason.UNAUTHORIZED == "401" and str(RenewReason.FORCED) == "forced"


def test_session_answers() -> None:
    live = b'{"user": {"email": "a@b"}, "accessToken": "tok", "expires": "2030-01-01T00:00:00.000Z"}'
    answer = parse_session_answer(live, what="GET s")
    assert answer.access_token == "tok" and answer.user == {"email": "a@b"} and answer.session_expires_at
    assert session_has_user(session_document(live)) and not session_has_user(session_document(b"{}"))
    assert session_document(b"<html>") == {} and session_document(b"[1]") == {}
    with pytest.raises(UnauthorizedError) as dead:
        parse_session_answer(b"{}", what="GET s")
    assert dead.value.code == "session_expired"
    with pytest.raises(ChatGPTError):
        parse_session_answer(b"<html>", what="GET s")


def test_client_hints_are_picked_case_insensitively() -> None:
    sent = {"Sec-CH-UA": '"C";v="1"', "User-Agent": "UA", "Accept-Language": "en"}
    assert client_hints(sent) == {"sec-ch-ua": '"C";v="1"', "accept-language": "en"}


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, InvalidRequestError),
        (422, InvalidRequestError),
        (413, MessageTooLongError),
        (401, UnauthorizedError),
    ],
)
def test_statuses_map_to_typed_errors(status: int, cls: type[ChatGPTError]) -> None:
    error = error_for_response(
        status, {"content-type": "application/json"}, b'{"detail": "no"}', what="POST x"
    )
    assert type(error) is cls and isinstance(error, ChatGPTError) and error.status_code == status
    challenge = b"<title>Just a moment...</title><div id='challenge-running'></div>"
    assert isinstance(
        error_for_response(403, {"content-type": "text/html"}, challenge, what="x"), ClearanceRejectedError
    )
