"""The emulator's counters, and the shape of the admin API's `/stats` answer."""

from __future__ import annotations

import collections
from typing import TypedDict

from .jsontypes import JSONObject

_MAX_FAILURES_KEPT = 500


class ChallengeStats(TypedDict):
    served: int
    passed: int
    failed: int
    failures: list[JSONObject]
    clearance_rejections: dict[str, int]
    tls_mismatches: list[JSONObject]
    client_hint_mismatches: int


class LoginStats(TypedDict):
    ok: int
    failed: int


class StatsSnapshot(TypedDict):
    """`GET /__admin/stats` (docs/emulator-contract.md)."""

    requests: dict[str, int]
    challenges: ChallengeStats
    logins: LoginStats
    active_streams: int
    sessions_issued: int
    access_tokens_issued: int
    conversations: int
    messages: int
    faults_applied: int
    tls: JSONObject
    faults_pending: list[JSONObject]
    clock_offset: float
    now: float


class Stats:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.requests: collections.Counter[str] = collections.Counter()
        self.challenges_served = 0
        self.challenges_passed = 0
        self.challenge_failures: list[JSONObject] = []
        self.challenges_failed = 0
        self.clearance_rejections: collections.Counter[str] = collections.Counter()
        self.logins_ok = 0
        self.logins_failed = 0
        self.sessions_issued = 0
        self.access_tokens_issued = 0
        self.conversations = 0
        self.messages = 0
        self.faults_applied = 0
        self.tls_mismatches: list[JSONObject] = []
        self.client_hint_mismatches = 0

    def tls_mismatch(self, entry: JSONObject) -> None:
        self.tls_mismatches.append(entry)
        del self.tls_mismatches[:-_MAX_FAILURES_KEPT]

    def challenge_failed(self, reasons: list[str], ip: str, user_agent: str) -> None:
        self.challenges_failed += 1
        entry: JSONObject = {"reason": reasons[0], "reasons": reasons, "ip": ip, "user_agent": user_agent}
        self.challenge_failures.append(entry)
        del self.challenge_failures[:-_MAX_FAILURES_KEPT]
