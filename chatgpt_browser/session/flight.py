"""Machine-local single flight in front of a shared store (Redis).

Twenty cron jobs that start together on one machine would each import the Redis client
(~60 ms of CPU) and ask Redis the same question, on the two cores the one harvest among
them needs. Instead the jobs of a machine go one at a time per account: the first asks
the shared store (and renews, if needed, under the store's own lock); each job that had
to wait takes the answer the job before it got, provided it was confirmed *while it
waited* and is fresh enough for its own needs. Otherwise it asks the shared store itself.

The answer is kept as a record of a `FileStore` under the state folder (``flight/``:
0700 folders, 0600 record, encrypted with the store key when one is set, never followed
through a symlink); its modification time says when it was last confirmed from the
shared store. A job that did not wait never reads it: it asks the shared store, which
stays the truth (a logout or a forced renewal on another machine is seen at once).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from ..credentials import Credentials
from ..errors import StoreError
from .store import FileStore

log = logging.getLogger(__name__)

#: A copy confirmed this long before a job started still counts as "while it waited":
#: file times come from the kernel's coarse clock, a few ms behind `time.time()`.
CLOCK_SLACK = 0.05


class LocalFlight:
    """One job of this machine at a time per account; the ones that waited share its answer."""

    def __init__(self, root: str | os.PathLike[str], *, key: str | None = None) -> None:
        self.copies = FileStore(Path(root), key=key)

    def run(
        self,
        account: str,
        timeout: float,
        fresh: Callable[[Credentials], bool],
        fetch: Callable[[], Credentials],
    ) -> Credentials:
        """`fetch()` from the shared store, unless a job of this machine that went before
        got an answer, while we waited, that is `fresh` for us."""
        since = time.time() - CLOCK_SLACK
        found: list[Credentials] = []

        def landed() -> bool:
            copy = self._confirmed_since(account, since)
            if copy is not None and fresh(copy):
                found.append(copy)
                return True
            return False

        lock = self.copies.lock(account, timeout)
        if not lock.acquire(until=landed):
            log.debug("%s: answered by another job of this machine", account)
            return found[-1]
        try:
            if landed():  # the job before us finished just as we took the lock
                return found[-1]
            answer = fetch()
            self._keep(account, answer)
            return answer
        finally:
            lock.release()

    def forget(self, account: str) -> None:
        """Drop the copy (after a logout: nothing of the account stays behind)."""
        self.copies.delete(account)

    def _confirmed_since(self, account: str, since: float) -> Credentials | None:
        try:
            confirmed = os.lstat(self.copies.path(account)).st_mtime
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.debug("%s: cannot stat the local copy: %s", account, exc)
            return None
        if confirmed < since:
            return None
        try:
            return self.copies.load(account)
        except StoreError as exc:  # a damaged copy is no reason to fail: ask the shared store
            log.warning("%s: ignoring the local copy: %s", account, exc)
            return None

    def _keep(self, account: str, answer: Credentials) -> None:
        """Record the answer for the jobs waiting behind us. An unchanged copy only gets
        a new time (no rewrite, no fsync): most answers are the same bundle again."""
        try:
            same = self.copies.read(account) == answer
        except StoreError:
            same = False  # damaged or unreadable: written afresh below
        try:
            if same:
                os.utime(self.copies.path(account), follow_symlinks=False)
            else:
                self.copies.save(account, answer)
        except (StoreError, OSError) as exc:  # only the waiters lose: they ask the shared store
            log.warning("%s: cannot keep the local copy: %s", account, exc)


__all__ = ["CLOCK_SLACK", "LocalFlight"]
