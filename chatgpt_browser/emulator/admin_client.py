"""A small client for the emulator's admin API (docs/emulator-contract.md)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

import requests

from .jsontypes import JSONObject, to_float, to_int
from .stats import StatsSnapshot


class AdminError(RuntimeError):
    """The admin API refused a call (bad arguments, bad token, nothing to return)."""


class AdminClient:
    def __init__(
        self, admin_url: str, token: str, *, timeout: float = 10.0, verify: bool | str = True
    ) -> None:
        self.admin_url = admin_url.rstrip("/")
        self._token = token
        self.timeout = timeout
        self.verify = verify

    def __repr__(self) -> str:
        return f"AdminClient({self.admin_url!r})"

    def _call(
        self, method: str, path: str, body: JSONObject | None = None, params: dict[str, str] | None = None
    ) -> JSONObject:
        response = requests.request(
            method,
            self.admin_url + path,
            json=body,
            params=params,
            headers={"Authorization": f"Bearer {self._token}"},
            timeout=self.timeout,
            verify=self.verify,
        )
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.status_code >= 400:
            message = data.get("error") if isinstance(data, dict) else response.text[:200]
            raise AdminError(f"admin {path} failed with {response.status_code}: {message}")
        # Every admin answer is a JSON object (docs/emulator-contract.md); say so if not.
        if not isinstance(data, dict):
            raise AdminError(f"admin {path} answered {response.status_code} without a JSON object")
        return data

    def stats(self) -> StatsSnapshot:
        # The server builds it from the same TypedDict (state.py snapshot).
        return cast(StatsSnapshot, self._call("GET", "/stats"))

    def reset_stats(self) -> None:
        self._call("POST", "/reset_stats")

    def fault(
        self,
        route: str,
        kind: str,
        *,
        count: int = 1,
        status: int | None = None,
        body: object = None,
        after_events: int | None = None,
        stall_seconds: float | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Queue a fault for the next `count` requests whose path starts with `route`."""
        self._call(
            "POST",
            "/fault",
            {
                "route": route,
                "kind": kind,
                "count": count,
                "status": status,
                "body": body,
                "after_events": after_events,
                "stall_seconds": stall_seconds,
                "headers": headers,
            },
        )

    def clear_faults(self) -> None:
        self._call("POST", "/clear_faults")

    def expire(self, what: str, email: str | None = None) -> int:
        """Expire every clearance / session / access_token issued so far; returns how many."""
        return to_int(self._call("POST", "/expire", {"what": what, "email": email})["count"])

    def revoke(self, what: str, email: str | None = None) -> int:
        """Like expire, but the server forgets them."""
        return to_int(self._call("POST", "/revoke", {"what": what, "email": email})["count"])

    def advance_clock(self, seconds: float) -> float:
        """Move the emulator's clock forward; returns its new time (epoch seconds)."""
        return to_float(self._call("POST", "/advance_clock", {"seconds": seconds})["now"])

    def configure(self, **options: object) -> JSONObject:
        """Change runtime options; returns all current options."""
        for key in ("checks", "blocked_ips", "flagged_words"):
            value = options.get(key)
            if isinstance(value, Iterable):  # sets are not JSON: send them sorted
                options[key] = sorted(map(str, value))
        return self._call("POST", "/configure", options)

    def options(self) -> JSONObject:
        return self._call("GET", "/options")

    def captcha_answer(self, state: str | None = None) -> str:
        """The answer of the captcha last served (or the one served for that auth state)."""
        return str(self._call("GET", "/captcha_answer", params={"state": state} if state else None)["answer"])

    def issue_clearance(self, user_agent: str, ip: str = "127.0.0.1", **binding: str | None) -> str:
        """A `cf_clearance` value for this UA and client IP, without solving the challenge.

        With `--tls` it is bound like one Chromium earned; `ja4="t13d..."` binds it to
        another TLS client, `ja4=None` to none.
        """
        body: JSONObject = {"user_agent": user_agent, "ip": ip}
        if "ja4" in binding:
            body["ja4"] = binding["ja4"]
        elif binding:
            raise TypeError(f"unexpected arguments: {sorted(binding)}")
        return str(self._call("POST", "/issue_clearance", body)["value"])

    def tls(self, limit: int = 100) -> JSONObject:
        """The TLS fingerprints connections presented: {mode, connections, dropped, recent}."""
        return self._call("GET", "/tls", params={"limit": str(limit)})

    def issue_session(self, email: str | None = None) -> dict[str, str]:
        """A logged-in session without the login flow: {session_token, access_token, email}."""
        result = self._call("POST", "/issue_session", {"email": email})
        return {key: str(value) for key, value in result.items()}
