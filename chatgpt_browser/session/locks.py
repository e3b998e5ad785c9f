"""Single-flight locks: one renewal at a time per account, across threads, processes
and machines.

How this works: `FileLock` takes an exclusive `flock()` on a lock file next to the
store. The kernel drops a `flock` when its holder dies (even by SIGKILL), so a crashed
job never blocks the others; waiters poll with a non-blocking attempt until their
deadline (a tenacity composition, `poll()`), then raise `LockTimeoutError` naming the
holder (pid, host, since when). A `threading.Lock` per lock file in front of it keeps
threads of one process from flocking against each other. A waiter may pass `until`
(e.g. "the store now holds a fresh bundle"): it then stops waiting as soon as another
job's renewal landed, instead of queueing for a lock it no longer needs.

`RedisLock` serves many machines sharing one Redis: a key set with NX and an expiry
(redis-py's `Lock`). While held, a watchdog thread pushes the expiry forward, so a long
browser harvest keeps its lock; a crashed holder stops pushing and the key expires
within `ttl` seconds.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import tenacity

from ..errors import LockTimeoutError, StoreError
from ..retrying import stop_before_deadline

if TYPE_CHECKING:
    import redis
    import redis.lock

log = logging.getLogger(__name__)

# A waiter retries often: one non-blocking flock() (or Redis SET NX) is cheap, and a
# short interval means the jobs queued behind a harvest carry on right after it.
_POLL_MIN = 0.005
_POLL_MAX = 0.025
# How often a waiter given `until` re-reads the store: another job's renewal ends the
# wait without taking the lock at all (a 20-job storm then finishes with the harvest,
# not one lock hand-over after another).
UNTIL_EVERY = 0.05

#: Polling as data (tenacity): exponential from 5 ms to 25 ms, retried while the attempt
#: returns False, stopped at the deadline.
POLL_WAIT = tenacity.wait_exponential(multiplier=_POLL_MIN, exp_base=1.25, min=_POLL_MIN, max=_POLL_MAX)
#: A waiter given `until` ends its wait on `until` (another job's result landed), checked
#: every UNTIL_EVERY; the lock is only the fallback (that job failed), so it is tried at
#: the same pace: 19 waiters of a storm polling every 5-25 ms cost the harvest ~0.5 CPU-s.
UNTIL_POLL_WAIT = tenacity.wait_fixed(UNTIL_EVERY)


#: Redis waiters sleep on the lock's pub/sub channel: the holder's release wakes them at
#: once, and this slow poll only covers a holder that died without publishing (its key
#: then expires). Fast polling from 19 processes cost the harvest its CPU: a 20-job
#: storm took 2.4x one harvest with 5-25 ms polls, see docs/reliability.md.
REDIS_WAIT = tenacity.wait_fixed(0.25)


class _Until:
    """`until()` checked at most every `every` seconds (it reads the store)."""

    def __init__(self, until: Callable[[], bool] | None, every: float) -> None:
        self.until = until
        self.every = every
        self.next_check = time.monotonic() + every
        self.met = False

    def __call__(self) -> bool:
        if self.until is None or time.monotonic() < self.next_check:
            return False
        self.next_check = time.monotonic() + self.every
        self.met = bool(self.until())
        return self.met


def poll(
    attempt: Callable[[], bool],
    timeout: float,
    *,
    until: Callable[[], bool] | None = None,
    until_every: float = UNTIL_EVERY,
    wait: tenacity.wait.wait_base = POLL_WAIT,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Call `attempt` until it succeeds ("acquired"), `until()` holds ("until"), or
    `timeout` seconds pass ("timeout"). `sleep` may return early (a wake-up)."""
    check = _Until(until, until_every)
    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_result(lambda done: not done),
        wait=wait,
        stop=stop_before_deadline(time.monotonic() + max(timeout, 0.0)),
        sleep=sleep,
        retry_error_callback=lambda state: False,
        reraise=True,
    )
    acquired = retrying(lambda: attempt() or check())
    if check.met:
        return "until"
    return "acquired" if acquired else "timeout"


class Lock(Protocol):
    """What a store's `lock(account, timeout)` returns: a context manager, and
    `acquire(until)`: False when `until()` became true before the lock was free."""

    def __enter__(self) -> object: ...

    def __exit__(self, *exc: object) -> None: ...

    def acquire(self, until: Callable[[], bool] | None = None) -> bool: ...

    def release(self) -> None: ...


_thread_locks: dict[str, threading.Lock] = {}
_thread_locks_guard = threading.Lock()


def _thread_lock_for(path: Path) -> threading.Lock:
    with _thread_locks_guard:
        return _thread_locks.setdefault(str(path), threading.Lock())


class FileLock:
    """An exclusive lock on `path` (created 0600), held for a `with` block."""

    def __init__(self, path: Path, *, timeout: float) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self._fd: int | None = None
        self._thread_lock = _thread_lock_for(self.path)

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def acquire(self, until: Callable[[], bool] | None = None) -> bool:
        """Take the lock (True), or return False when `until()` held first."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        except OSError as exc:
            raise StoreError(f"cannot open lock file {self.path}: {exc.strerror}") from exc
        try:
            wait = POLL_WAIT if until is None else UNTIL_POLL_WAIT
            outcome = poll(lambda: self._try(fd), self.timeout, until=until, wait=wait)
        except BaseException:
            os.close(fd)
            raise
        if outcome != "acquired":
            os.close(fd)
            if outcome == "until":
                return False
            raise LockTimeoutError(
                f"gave up after {self.timeout:g}s waiting for {self.path}, held by {self.owner()}"
            )
        self._fd = fd
        self._write_owner()
        return True

    def _try(self, fd: int) -> bool:
        # The thread lock first: threads of one process never flock against each other.
        if not self._thread_lock.acquire(blocking=False):
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError as exc:
            self._thread_lock.release()
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise StoreError(f"cannot lock {self.path}: {exc.strerror}") from exc
            return False

    def _write_owner(self) -> None:
        # Who holds the lock, for the waiters' error messages; best effort only.
        assert self._fd is not None
        info = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()})
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, info.encode(), 0)

    def owner(self) -> str:
        """A description of the current holder as it wrote itself into the file."""
        try:
            info = json.loads(self.path.read_text() or "{}")
            age = time.time() - float(info["since"])
            return f"pid {info['pid']} on {info['host']} for {age:.0f}s"
        except (OSError, ValueError, KeyError, TypeError):
            return "another process"

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
            self._thread_lock.release()


class RedisLock:
    """A lock on a Redis key with an expiry, extended by a watchdog while held."""

    def __init__(self, client: redis.Redis, name: str, *, timeout: float, ttl: float = 30.0) -> None:
        self.client = client
        self.name = name
        self.timeout = timeout
        self.ttl = ttl
        self._lock: redis.lock.Lock | None = None
        #: Released-lock notifications (PUBLISH on release; waiters SUBSCRIBE).
        self.channel = f"{name}:released"
        self._stop = threading.Event()
        self._watchdog: threading.Thread | None = None

    def __enter__(self) -> RedisLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def acquire(self, until: Callable[[], bool] | None = None) -> bool:
        """Take the lock (True), or return False when `until()` held first."""
        from redis.exceptions import RedisError

        # thread_local=False: the watchdog thread extends the lock its owner took.
        lock = self.client.lock(self.name, timeout=self.ttl, blocking=False, thread_local=False)
        try:
            # Subscribed before the first attempt: a release in between still wakes us.
            pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            pubsub.subscribe(self.channel)
            try:
                outcome = poll(
                    lambda: bool(lock.acquire(blocking=False)),
                    self.timeout,
                    until=until,
                    until_every=0.0,
                    wait=REDIS_WAIT,
                    sleep=lambda seconds: pubsub.get_message(timeout=seconds),
                )
            finally:
                pubsub.close()
        except RedisError as exc:
            raise StoreError(f"cannot take Redis lock {self.name}: {exc}") from exc
        if outcome == "until":
            return False
        if outcome == "timeout":
            raise LockTimeoutError(f"gave up after {self.timeout:g}s waiting for Redis lock {self.name}")
        self._lock = lock
        self._stop.clear()
        self._watchdog = threading.Thread(target=self._keep_alive, name=f"lock:{self.name}", daemon=True)
        self._watchdog.start()
        return True

    def _keep_alive(self) -> None:
        from redis.exceptions import RedisError

        lock = self._lock
        while lock is not None and not self._stop.wait(self.ttl / 3):
            try:
                lock.reacquire()
            except RedisError as exc:  # includes LockNotOwnedError
                log.warning("lost Redis lock %s while holding it: %s", self.name, exc)
                return

    def release(self) -> None:
        from redis.exceptions import RedisError

        self._stop.set()
        if self._watchdog is not None:
            self._watchdog.join(timeout=5)
            self._watchdog = None
        if self._lock is None:
            return
        lock, self._lock = self._lock, None
        try:
            lock.release()
        except RedisError as exc:  # expired meanwhile: nothing left to release
            log.warning("Redis lock %s was gone at release: %s", self.name, exc)
        try:
            self.client.publish(self.channel, b"released")
        except RedisError as exc:  # the waiters' slow poll still finds the lock free
            log.debug("could not announce the release of %s: %s", self.name, exc)


__all__ = ["FileLock", "Lock", "RedisLock"]
