"""`AccountPool`: spread work over several accounts and sideline the ones that fail.

Each account has its own `SessionManager` (its own bundle, profile and lock). `use()`
hands out the healthy account that was used least recently; a failure that belongs to
the account (login refused, human needed, challenge not cleared, 401, 429) counts
against it, and after `max_failures` in a row it is quarantined for
`quarantine_seconds` (a 429 with `Retry-After` quarantines it for that long at once).
Site-wide trouble (network errors, 5xx) says nothing about the account and is not
counted. `health()` reports every account's state, for `status` and for logs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence

from ..errors import ChatGPTBrowserError, NetworkError, NoHealthyAccountError, RateLimitError, ServerError
from .manager import SessionManager

log = logging.getLogger(__name__)


@dataclasses.dataclass
class AccountHealth:
    key: str
    account: str | None
    failures: int = 0
    quarantined_until: float = 0.0
    last_error: str | None = None
    last_used: float = 0.0
    uses: int = 0

    def quarantined(self, now: float) -> bool:
        return self.quarantined_until > now


class AccountPool:
    """Least-recently-used rotation over healthy accounts, with quarantine."""

    def __init__(
        self,
        managers: Sequence[SessionManager],
        *,
        max_failures: int = 3,
        quarantine_seconds: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not managers:
            raise ValueError("an account pool needs at least one account")
        keys = [m.key for m in managers]
        if len(set(keys)) != len(keys):
            raise ValueError("an account pool needs distinct accounts")
        self.managers = list(managers)
        self.max_failures = max_failures
        self.quarantine_seconds = quarantine_seconds
        self.clock = clock
        self._health = {m.key: AccountHealth(m.key, m.account) for m in self.managers}
        self._guard = threading.Lock()

    def acquire(self) -> SessionManager:
        """The healthy account used least recently (raises when all are quarantined)."""
        with self._guard:
            now = self.clock()
            healthy = [m for m in self.managers if not self._health[m.key].quarantined(now)]
            if not healthy:
                soonest = min(h.quarantined_until for h in self._health.values()) - now
                details = "; ".join(f"{h.account or h.key}: {h.last_error}" for h in self._health.values())
                raise NoHealthyAccountError(
                    f"all {len(self.managers)} accounts are quarantined "
                    f"(next back in {soonest:.0f}s): {details}"
                )
            chosen = min(healthy, key=lambda m: (self._health[m.key].last_used, self._health[m.key].uses))
            record = self._health[chosen.key]
            record.last_used = now
            record.uses += 1
            return chosen

    @contextlib.contextmanager
    def use(self) -> Iterator[SessionManager]:
        """`with pool.use() as source: ...`; the outcome is recorded against the account."""
        manager = self.acquire()
        try:
            yield manager
        except ChatGPTBrowserError as exc:
            self.report_failure(manager, exc)
            raise
        self.report_success(manager)

    def report_success(self, manager: SessionManager) -> None:
        with self._guard:
            record = self._health[manager.key]
            record.failures = 0
            record.last_error = None

    def report_failure(self, manager: SessionManager, error: BaseException) -> None:
        if isinstance(error, (NetworkError, ServerError)):
            return  # the site's trouble, not this account's
        with self._guard:
            record = self._health[manager.key]
            record.failures += 1
            record.last_error = f"{type(error).__name__}: {error}"
            now = self.clock()
            retry_after = getattr(error, "retry_after", None) if isinstance(error, RateLimitError) else None
            if retry_after:
                record.quarantined_until = max(record.quarantined_until, now + float(retry_after))
            elif record.failures >= self.max_failures:
                record.quarantined_until = now + self.quarantine_seconds
            else:
                return
        log.warning(
            "account %s quarantined for %.0fs after %s",
            record.account or record.key,
            record.quarantined_until - now,
            record.last_error,
        )

    def health(self) -> list[AccountHealth]:
        """A snapshot of every account's state (copies)."""
        with self._guard:
            return [dataclasses.replace(self._health[m.key]) for m in self.managers]


__all__ = ["AccountHealth", "AccountPool", "NoHealthyAccountError"]
