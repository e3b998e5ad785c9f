"""Fault injection: the next N requests to a route prefix get a queued fault.

Kinds (docs/emulator-contract.md): "status" (a status with a body and headers; a 403
without a body serves the challenge page), "reset" (connection closed before headers),
"html" (200 with an HTML page where JSON was expected), and stream faults applied by
the conversation endpoint: "cut", "stall", "malformed", "no_done".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from .jsontypes import JSONMapping, JSONObject, to_float, to_int

KINDS = frozenset({"status", "reset", "cut", "stall", "malformed", "no_done", "html"})
STREAM_KINDS = frozenset({"cut", "stall", "malformed", "no_done"})


@dataclasses.dataclass
class Fault:
    route: str
    kind: str
    count: int = 1
    status: int | None = None
    body: object = None
    after_events: int | None = None
    stall_seconds: float | None = None
    headers: dict[str, str] | None = None

    @classmethod
    def from_dict(cls, data: JSONMapping) -> Fault:
        route, kind = str(data.get("route", "")), str(data.get("kind", ""))
        if not route.startswith("/"):
            raise ValueError("route must be a path prefix starting with '/'")
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {sorted(KINDS)}")
        fault = cls(
            route=route,
            kind=kind,
            count=to_int(data.get("count", 1)),
            status=None if data.get("status") is None else to_int(data["status"]),
            body=data.get("body"),
            after_events=None if data.get("after_events") is None else to_int(data["after_events"]),
            stall_seconds=None if data.get("stall_seconds") is None else to_float(data["stall_seconds"]),
            headers=_headers(data.get("headers")),
        )
        if fault.count < 1:
            raise ValueError("count must be >= 1")
        if kind == "status" and fault.status is None:
            raise ValueError("a 'status' fault needs a status")
        return fault

    def to_dict(self) -> JSONObject:
        return dataclasses.asdict(self)


def _headers(value: object) -> dict[str, str]:
    if not value:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError("headers must be a JSON object")
    return {str(k): str(v) for k, v in value.items()}


class FaultQueue:
    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        self._faults.append(fault)

    def clear(self) -> None:
        self._faults.clear()

    def pending(self) -> list[JSONObject]:
        return [fault.to_dict() for fault in self._faults]

    def take(self, path: str, kinds: frozenset[str] | set[str]) -> Fault | None:
        """The first queued fault of one of `kinds` whose route prefixes `path`, counted down."""
        for fault in self._faults:
            if fault.kind in kinds and path.startswith(fault.route):
                fault.count -= 1
                if fault.count <= 0:
                    self._faults.remove(fault)
                return fault
        return None
