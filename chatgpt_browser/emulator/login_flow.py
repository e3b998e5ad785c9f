"""Server-side records of logins in progress, shared by the auth0-like origin (which
authenticates) and the site's NextAuth callback (which redeems the one-time code)."""

from __future__ import annotations

import dataclasses
import os

from .clock import Clock

_TRANSACTION_TTL = 30 * 60.0
_CODE_TTL = 10 * 60.0


@dataclasses.dataclass
class Transaction:
    state: str
    client_state: str
    redirect_uri: str
    created_at: float
    email: str | None = None
    password_ok: bool = False
    totp_ok: bool = False
    captcha_required: bool = False
    captcha_passed: bool = False
    captcha_answer: str | None = None


@dataclasses.dataclass
class Code:
    email: str
    client_state: str
    created_at: float


class LoginFlow:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.transactions: dict[str, Transaction] = {}
        self.codes: dict[str, Code] = {}
        self.last_captcha_state: str | None = None

    def start(self, client_state: str, redirect_uri: str) -> Transaction:
        now = self._clock.now()
        self._expire_old(now)
        transaction = Transaction(os.urandom(16).hex(), client_state, redirect_uri, now)
        self.transactions[transaction.state] = transaction
        return transaction

    def get(self, state: str) -> Transaction | None:
        transaction = self.transactions.get(state)
        if transaction is None or self._clock.now() - transaction.created_at > _TRANSACTION_TTL:
            return None
        return transaction

    def issue_code(self, transaction: Transaction) -> str:
        assert transaction.email is not None
        code = os.urandom(12).hex()
        self.codes[code] = Code(transaction.email, transaction.client_state, self._clock.now())
        self.transactions.pop(transaction.state, None)
        return code

    def redeem(self, code: str, client_state: str) -> str | None:
        """The e-mail the one-time `code` was issued for, if it is good for `client_state`."""
        record = self.codes.pop(code, None)
        if record is None or record.client_state != client_state:
            return None
        if self._clock.now() - record.created_at > _CODE_TTL:
            return None
        return record.email

    def _expire_old(self, now: float) -> None:
        stale = [s for s, t in self.transactions.items() if now - t.created_at > _TRANSACTION_TTL]
        for state in stale:
            del self.transactions[state]
