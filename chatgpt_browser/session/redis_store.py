"""`RedisStore`: the scale-out store, for many machines sharing one Redis.

Keys are namespaced (``<namespace>:cred:<account key>`` for records,
``<namespace>:lock:<account key>`` for the single-flight lock). A record's TTL follows
the bundle: it lives until the later of the clearance and session expiries (after that
nothing in it is usable), so Redis drops dead bundles by itself. Records are the same
versioned JSON as the file store's, Fernet-encrypted when a key is set.

redis-py is imported lazily (it is the `redis` extra), on the store's first use.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, ParamSpec, TypeVar
from urllib.parse import urlsplit

from ..credentials import Credentials
from ..errors import ConfigError, StoreError
from .crypto import RecordCipher, decode_record, encode_record
from .locks import RedisLock
from .store import CorruptRecordError

if TYPE_CHECKING:
    import redis

P = ParamSpec("P")
R = TypeVar("R")

log = logging.getLogger(__name__)

DEFAULT_NAMESPACE = "chatgpt-browser"
#: URL schemes redis-py accepts (checked up front; the client itself is made on first use).
_SCHEMES = ("redis", "rediss", "unix")

# Move a bad record aside (kept a day for a post-mortem) only if it is still there.
_MOVE_ASIDE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[1])
return 1
"""


class RedisStore:
    """Credential records in Redis, with a Redis lock per account."""

    def __init__(
        self,
        url: str | None = None,
        *,
        client: redis.Redis | None = None,
        namespace: str = DEFAULT_NAMESPACE,
        key: str | None = None,
        lock_ttl: float = 30.0,
        socket_timeout: float = 5.0,
    ) -> None:
        if client is None:
            if not url:
                raise ConfigError("the Redis store needs a URL (--redis-url or CHATGPT_BROWSER_REDIS_URL)")
            if urlsplit(url).scheme not in _SCHEMES:
                raise ConfigError(f"bad Redis URL: the scheme must be one of {', '.join(_SCHEMES)}")
        self._client = client
        self._client_lock = threading.Lock()
        self._socket_timeout = socket_timeout
        self.namespace = namespace
        self.cipher = RecordCipher(key) if key else None
        self.lock_ttl = lock_ttl
        self._url = url

    @property
    def client(self) -> redis.Redis:
        """The redis-py client, made on first use: importing redis-py costs ~60 ms of CPU,
        which a job served by the machine-local single flight (`flight.py`) never pays."""
        with self._client_lock:
            if self._client is None:
                self._client = _connect(self._url or "", self._socket_timeout)
            return self._client

    def _record_key(self, key: str) -> str:
        return f"{self.namespace}:cred:{key}"

    def location(self) -> str:
        where = self.client.connection_pool.connection_kwargs
        host, port, db = where.get("host", "?"), where.get("port", "?"), where.get("db", 0)
        return f"redis://{host}:{port}/{db} ({self.namespace})"

    def _call(self, what: str, func: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        from redis.exceptions import RedisError

        try:
            return func(*args, **kwargs)
        except RedisError as exc:
            raise StoreError(f"Redis {what} failed: {exc}") from exc

    def read(self, key: str) -> Credentials | None:
        data = self._call("GET", self.client.get, self._record_key(key))
        if data is None:
            return None
        where = f"Redis record {self._record_key(key)}"
        raw = data.encode() if isinstance(data, str) else bytes(data)  # a client set to decode
        plain = decode_record(raw, self.cipher, where=where)
        try:
            return Credentials.from_json(plain)
        except StoreError as exc:
            raise CorruptRecordError(f"{where}: {exc}") from exc

    def load(self, key: str) -> Credentials | None:
        try:
            return self.read(key)
        except CorruptRecordError as exc:
            # Keep the bad bytes for a post-mortem under another key (a day), then harvest.
            aside = f"{self._record_key(key)}:corrupt:{int(time.time())}"
            # Race-safe: if another job moved it first, there is nothing left to do.
            moved = self._call("EVAL", self.client.eval, _MOVE_ASIDE, 2, self._record_key(key), aside, 86400)
            if moved:
                log.warning("credential record is corrupt (%s); renamed it to %s", exc, aside)
            return None

    def save(self, key: str, credentials: Credentials) -> None:
        data = encode_record(credentials.to_json().encode(), self.cipher)
        ttl = _record_ttl(credentials)
        if ttl is not None and ttl <= 0:
            log.warning("not storing an already expired bundle for %s", key)
            self.delete(key)
            return
        self._call("SET", self.client.set, self._record_key(key), data, ex=ttl)

    def delete(self, key: str) -> bool:
        return bool(self._call("DEL", self.client.delete, self._record_key(key)))

    def list_keys(self) -> list[str]:
        prefix = f"{self.namespace}:cred:"
        found = self._call("SCAN", lambda: list(self.client.scan_iter(match=prefix + "*", count=500)))
        names = (k.decode() if isinstance(k, bytes) else str(k) for k in found)
        return sorted(n[len(prefix) :] for n in names if ":corrupt:" not in n[len(prefix) :])

    def lock(self, key: str, timeout: float) -> RedisLock:
        return RedisLock(self.client, f"{self.namespace}:lock:{key}", timeout=timeout, ttl=self.lock_ttl)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def __repr__(self) -> str:
        return f"RedisStore(namespace={self.namespace!r}, encrypted={self.cipher is not None})"


def _connect(url: str, socket_timeout: float) -> redis.Redis:
    try:
        import redis
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ConfigError("the Redis store needs redis-py: pip install 'chatgpt-browser[redis]'") from exc
    try:
        return redis.Redis.from_url(url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout)
    except ValueError as exc:
        raise ConfigError(f"bad Redis URL: {exc}") from exc


def _record_ttl(credentials: Credentials, now: float | None = None) -> int | None:
    """Seconds the record is worth keeping: until its last known expiry (None: forever)."""
    known = [t for t in (credentials.clearance_expires_at, credentials.session_expires_at) if t is not None]
    if not known:
        return None
    return math.ceil(max(known) - (time.time() if now is None else now))


__all__ = ["DEFAULT_NAMESPACE", "RedisStore"]
