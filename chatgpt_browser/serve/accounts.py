"""The accounts the service hands out credentials for, each with its `SessionManager`.

The fast path (`get` of a fresh bundle) runs on the event loop: a store read, cached
for `cache_seconds`, and no thread. Renewals run in a worker thread (the manager and
the harvest are synchronous) behind an in-process lock per account, so 20 callers of
one replica wait for one renewal; across replicas the store's lock (Redis) does the
same. A browser renewal takes a slot of the pool first. An account failing
`max_failures` renewals in a row is quarantined for `quarantine_seconds`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import dataclasses
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..app import build_harvester, build_manager, logout
from ..config import Settings, Timeouts
from ..credentials import Credentials, fingerprint
from ..errors import ChatGPTBrowserError, ConfigError
from ..session.manager import Harvester, SessionManager
from ..session.store import CredentialStore, account_key
from .metrics import Metrics
from .options import AccountSpec
from .pool import BrowserPool, PoolBusyError

log = logging.getLogger(__name__)

#: The deadline (time.monotonic()) of the request a worker thread works for.
_GRACE = 2.0
REQUEST_DEADLINE: contextvars.ContextVar[float] = contextvars.ContextVar("request_deadline")


class UnknownAccountError(ConfigError):
    """The request named an account the service does not serve."""


class QuarantinedError(ChatGPTBrowserError):
    """The account failed too often; renewals pause until the quarantine ends."""


@dataclasses.dataclass
class Account:
    spec: AccountSpec
    settings: Settings
    manager: SessionManager
    lock: asyncio.Lock
    failures: int = 0
    quarantined_until: float = 0.0
    last_renewal: dict[str, object] | None = None
    cached: tuple[float, Credentials] | None = None
    #: The last bundle's formatted bodies: (the bundle, {format: body}); hot path only.
    rendered: tuple[Credentials | None, dict[str, str]] = (None, {})


class AccountBook:
    def __init__(
        self,
        settings: Settings,
        specs: tuple[AccountSpec, ...],
        *,
        store: CredentialStore,
        pool: BrowserPool,
        metrics: Metrics,
        executor: ThreadPoolExecutor,
        cache_seconds: float = 1.0,
        max_failures: int = 3,
        quarantine_seconds: float = 900.0,
    ) -> None:
        self.store = store
        self.pool = pool
        self.metrics = metrics
        self.executor = executor
        self.cache_seconds = cache_seconds
        self.max_failures = max_failures
        self.quarantine_seconds = quarantine_seconds
        self.loop = asyncio.get_running_loop()
        self.accounts: dict[str, Account] = {}
        self._holders: set[asyncio.Task[None]] = set()  # slot holders (kept referenced)
        for spec in specs:
            # CHATGPT_BROWSER_PASSWORD belongs to the --email account only, never to the others.
            main = spec.email.lower() == (settings.email or "").lower()
            own = dataclasses.replace(
                settings,
                email=spec.email,
                password=settings.password if main else None,
                password_env=spec.password_env,
                proxy=spec.proxy,
            )
            manager = build_manager(own, store=store)
            manager.harvester = self._pooled_harvester(own)
            account = Account(spec, own, manager, asyncio.Lock())
            self.accounts[spec.email.lower()] = account
            self.accounts[account_key(own.url, spec.email)] = account

    def _pooled_harvester(self, settings: Settings) -> Harvester:
        """The account's harvest, run inside a pool slot and bounded by the request deadline."""

        def harvester(*, profile_dir: Path | None, reason: str, stale: Credentials | None) -> Credentials:
            deadline = REQUEST_DEADLINE.get(time.monotonic() + settings.timeouts.harvest)
            future = asyncio.run_coroutine_threadsafe(self._hold_slot(deadline), self.loop)
            try:
                release: asyncio.Event = future.result(timeout=max(deadline - time.monotonic(), 0.001) + 1)
            except concurrent.futures.TimeoutError:
                future.cancel()
                future.add_done_callback(self._give_back)  # it may have got the slot meanwhile
                raise PoolBusyError("no browser slot came free before the deadline") from None
            try:
                remaining = max(deadline - time.monotonic(), 1.0)
                bounded = dataclasses.replace(settings, timeouts=_capped(settings.timeouts, remaining))
                self.metrics.launches.labels("harvest").inc()
                with self.metrics.harvest_seconds.labels("harvest").time():
                    return build_harvester(bounded)(profile_dir=profile_dir, reason=reason, stale=stale)
            finally:
                self.loop.call_soon_threadsafe(release.set)

        return harvester

    def _give_back(self, future: concurrent.futures.Future[asyncio.Event]) -> None:
        if not future.cancelled() and future.exception() is None:
            self.loop.call_soon_threadsafe(future.result().set)

    async def _hold_slot(self, deadline: float) -> asyncio.Event:
        """Take a harvest slot and keep it (in a task) until the returned event is set."""
        taken: asyncio.Future[asyncio.Event] = self.loop.create_future()

        async def holder() -> None:
            try:
                async with self.pool.harvest_slot(deadline):
                    done = asyncio.Event()
                    taken.set_result(done)
                    await done.wait()
            except BaseException as exc:
                if not taken.done():
                    taken.set_exception(exc)

        task = self.loop.create_task(holder())
        self._holders.add(task)
        task.add_done_callback(self._holders.discard)
        return await taken

    # -- lookups -------------------------------------------------------------------

    def find(self, name: str | None) -> Account:
        if not name:
            unique = {id(a): a for a in self.accounts.values()}
            if len(unique) == 1:
                return next(iter(unique.values()))
            raise UnknownAccountError("several accounts are served: name one with ?account=EMAIL")
        account = self.accounts.get(name.lower()) or self.accounts.get(name)
        if account is None:
            raise UnknownAccountError("no such account is served here")
        return account

    def unique(self) -> list[Account]:
        return list({id(a): a for a in self.accounts.values()}.values())

    # -- operations ------------------------------------------------------------------

    def fresh_from_cache(self, account: Account, min_ttl: float) -> Credentials | None:
        """The stored bundle if it serves `min_ttl` more seconds (no thread, no lock)."""
        now = time.monotonic()
        if account.cached is None or now - account.cached[0] > self.cache_seconds:
            account.cached = None
            current = account.manager.peek()
            if current is None:
                return None
            account.cached = (now, current)
        current = account.cached[1]
        need = max(min_ttl, account.manager.renew_margin)
        return current if account.manager.why_renew(current, need) is None else None

    async def get(self, account: Account, min_ttl: float, deadline: float) -> Credentials:
        fresh = self.fresh_from_cache(account, min_ttl)
        if fresh is not None:
            return fresh
        return await self._renewing(account, deadline, lambda m: m.get(min_ttl))

    async def renew(self, account: Account, reason: str, stale: str | None, deadline: float) -> Credentials:
        """Renew because a caller's bundle (`stale`: its session-token fingerprint) failed.
        A bundle renewed meanwhile (another fingerprint, still valid) is handed out instead."""

        def work(manager: SessionManager) -> Credentials:
            current = manager.peek()
            renewed_meanwhile = stale is not None and current is not None and not _matches(current, stale)
            if renewed_meanwhile and manager.why_renew(current, 0.0) is None:
                assert current is not None
                return current  # someone renewed it after the caller's copy failed
            # Passing the stored bundle as `stale`: a replica that renews it while we wait
            # for the lock makes the manager hand that renewal out instead of a second one.
            return manager.renew(reason, current)

        return await self._renewing(account, deadline, work)

    async def _renewing(
        self, account: Account, deadline: float, work: Callable[[SessionManager], Credentials]
    ) -> Credentials:
        if account.quarantined_until > time.monotonic():
            raise QuarantinedError(
                f"the account failed {account.failures} renewals in a row; quarantined for "
                f"{account.quarantined_until - time.monotonic():.0f}s more"
            )
        async with account.lock:
            account.cached = None
            before = account.manager.last_renewal
            context = contextvars.copy_context()
            context.run(REQUEST_DEADLINE.set, deadline)
            try:
                result = await asyncio.wait_for(
                    self.loop.run_in_executor(self.executor, context.run, work, account.manager),
                    # A little past the deadline: the work's own typed error (it is bounded
                    # by the same deadline) says more than a bare timeout.
                    timeout=max(deadline - time.monotonic(), 0.001) + _GRACE,
                )
            except (ChatGPTBrowserError, asyncio.TimeoutError) as exc:
                self._failed(account, exc)
                raise
            account.failures = 0
            renewal = account.manager.last_renewal
            if renewal is not None and renewal is not before:
                self.metrics.renewals.labels(renewal.path, "ok").inc()
                account.last_renewal = {**dataclasses.asdict(renewal), "at": time.time()}
            return result

    def _failed(self, account: Account, exc: BaseException) -> None:
        account.failures += 1
        self.metrics.renewals.labels("any", type(exc).__name__).inc()
        if account.failures >= self.max_failures:
            account.quarantined_until = time.monotonic() + self.quarantine_seconds
            log.warning(
                "account %s quarantined after %d failures", fingerprint(account.spec.email), account.failures
            )

    async def update(self, account: Account, credentials: Credentials) -> None:
        """Store a bundle a worker refreshed (the manager keeps a newer clearance)."""
        account.cached = None
        await self.loop.run_in_executor(self.executor, account.manager.update, credentials)

    async def forget(self, account: Account) -> list[str]:
        account.cached = None
        async with account.lock:
            return await self.loop.run_in_executor(
                self.executor, lambda: logout(account.settings, store=self.store)
            )

    def status(self) -> list[dict[str, object]]:
        rows: list[dict[str, object]] = []
        for account in self.unique():
            current = account.manager.peek()
            quarantine = max(0.0, account.quarantined_until - time.monotonic())
            rows.append(
                {
                    "account": account.spec.email,
                    "key": account.manager.key,
                    "credentials": current.describe() if current is not None else None,
                    "last_renewal": account.last_renewal,
                    "failures": account.failures,
                    "quarantined_for": round(quarantine, 1) if quarantine else None,
                }
            )
        return rows


def _matches(current: Credentials | None, stale_fingerprint: str) -> bool:
    return current is not None and stale_fingerprint in (
        fingerprint(current.session_token),
        fingerprint(current.access_token),
        fingerprint(current.clearance_token),
    )


def _capped(timeouts: Timeouts, seconds: float) -> Timeouts:
    return dataclasses.replace(timeouts, harvest=min(timeouts.harvest, seconds))


__all__ = ["AccountBook", "QuarantinedError", "UnknownAccountError"]
