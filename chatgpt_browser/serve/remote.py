"""The client side of `serve`: a worker with no browser gets its credentials from the service.

`--store http(s)://serve-host:8191` (or `CHATGPT_BROWSER_STORE`) makes `build_manager`
return a `SessionManager` whose store is the service (`ServiceStore`) and whose
"harvest" is a renewal request to it (`ServiceRenewer`). The client's recovery works
unchanged: a 401 or a 403 challenge calls `renew()`, which asks the service for a
renewal naming the failed bundle by fingerprint; the service renews once however many
workers report the same bundle, and hands out the renewed one. The service does the
single flight, so the local lock is a no-op. The API key comes from
`CHATGPT_BROWSER_API_KEY`; tokens travel only between the worker and the service.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .. import errors
from ..config import Settings, env
from ..credentials import Credentials, fingerprint
from ..errors import ChatGPTBrowserError, ConfigError, StoreError
from ..session.manager import ANY_PROXY, Progress, SessionManager

if TYPE_CHECKING:
    import requests

log = logging.getLogger(__name__)


def is_service_url(store: str | None) -> bool:
    return bool(store) and str(store).startswith(("http://", "https://"))


class _NoLock:
    """The service serialises renewals; nothing to hold here."""

    def __enter__(self) -> _NoLock:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def acquire(self, until: Callable[[], bool] | None = None) -> bool:
        return True

    def release(self) -> None:
        return None


class ServiceStore:
    """A `CredentialStore` backed by a `chatgpt-browser serve` instance."""

    def __init__(
        self,
        base_url: str,
        account: str | None,
        *,
        api_key: str | None = None,
        timeout: float = 180.0,
        min_ttl: float = 360.0,
        verify: bool | str = True,
        session: requests.Session | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"the service URL must be http(s)://host:port, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.account = account
        self._api_key = api_key
        self.timeout = timeout
        self.min_ttl = min_ttl
        self.verify = verify
        if session is None:
            import requests  # lazy: only workers using a service need it

            session = requests.Session()
        self._http = session

    def __repr__(self) -> str:
        return f"ServiceStore({self.base_url!r}, account={self.account!r})"

    def _call(
        self, method: str, path: str, *, params: dict[str, object] | None = None, json: object = None
    ) -> object:
        """The service's JSON answer (None when it sent none); its typed errors raised."""
        import requests

        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        try:
            response = self._http.request(
                method,
                self.base_url + path,
                headers=headers,
                timeout=self.timeout,
                verify=self.verify,
                params=params,  # type: ignore[arg-type]  # str() of each value, as requests does
                json=json,
            )
        except requests.RequestException as exc:
            raise StoreError(
                f"cannot reach the credential service at {self.base_url}: {type(exc).__name__}"
            ) from None
        if response.status_code == 401:
            raise ConfigError("the credential service refused the API key (set CHATGPT_BROWSER_API_KEY)")
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.status_code >= 400:
            raise _error_from(response.status_code, data)
        return data

    def _params(self, **extra: object) -> dict[str, object]:
        return {**({"account": self.account} if self.account else {}), **extra}

    # -- CredentialStore ---------------------------------------------------------------

    def load(self, key: str) -> Credentials | None:
        data = self._call("GET", "/v1/credentials", params=self._params(min_ttl=self.min_ttl, format="json"))
        return _credentials(data)

    read = load

    def save(self, key: str, credentials: Credentials) -> None:
        """Hand a bundle the worker refreshed itself (a rotated session cookie, a new
        access token) to the service, so the next worker starts from it."""
        if credentials.source == "serve":
            return  # what the service handed out: it has it already
        body = {"credentials": bundle_fields(credentials)}
        self._call("PUT", "/v1/credentials", params=self._params(), json=body)

    def delete(self, key: str) -> bool:
        data = self._call("DELETE", "/v1/credentials", params=self._params())
        return isinstance(data, dict) and bool(data.get("removed"))

    def list_keys(self) -> list[str]:
        data = self._call("GET", "/v1/status")
        rows = data.get("accounts") if isinstance(data, dict) else None
        if not isinstance(rows, list):
            raise StoreError("the credential service answered /v1/status without an account list")
        return [str(row["key"]) for row in rows if isinstance(row, dict) and row.get("credentials")]

    def lock(self, key: str, timeout: float) -> _NoLock:
        return _NoLock()

    def location(self) -> str:
        return self.base_url

    def renew(self, reason: str, stale: Credentials | None) -> Credentials:
        body = {
            "reason": reason,
            "stale": fingerprint(stale.session_token) if stale else None,
            "format": "json",
        }
        if self.account:
            body["account"] = self.account
        return _credentials(self._call("POST", "/v1/credentials/renew", json=body))

    def close(self) -> None:
        self._http.close()


class ServiceRenewer:
    """The manager's "harvest": a renewal by the service."""

    def __init__(self, store: ServiceStore) -> None:
        self.store = store

    def __call__(self, *, profile_dir: Path | None, reason: str, stale: Credentials | None) -> Credentials:
        log.info("asking the credential service to renew (%s)", reason)
        return self.store.renew(reason, stale)


_FIELDS = ("site", "account", "user_agent", "session_token", "clearance_token", "access_token",
           "clearance_expires_at", "session_expires_at", "access_token_expires_at", "headers")  # fmt: skip


def bundle_fields(credentials: Credentials) -> dict[str, object]:
    """The bundle as the service's JSON format has it (`session --format json`)."""
    data = credentials.to_dict()
    return {name: data[name] for name in _FIELDS}


def bundle_from(data: object, source: str = "serve") -> Credentials:
    """A bundle from the service's JSON format (raises `StoreError` for anything else)."""
    if not isinstance(data, dict):
        raise StoreError("the credential service answered with something that is not a bundle")
    values = {name: data.get(name) for name in _FIELDS if data.get(name) is not None}
    return Credentials.from_dict({**values, "source": source})


_credentials = bundle_from


def _error_from(status: int, data: object) -> ChatGPTBrowserError:
    """The service's typed error as ours (same class name), else a StoreError."""
    message = data.get("error") if isinstance(data, dict) else None
    name = data.get("type") if isinstance(data, dict) else None
    text = f"credential service: {message or f'HTTP {status}'}"
    kind = getattr(errors, str(name), None) if name else None
    if isinstance(kind, type) and issubclass(kind, ChatGPTBrowserError):
        try:
            return kind(text)
        except TypeError:
            pass
    return StoreError(text)


def service_store(settings: Settings) -> ServiceStore:
    from ..app import verify_for

    return ServiceStore(
        settings.store,
        settings.email,
        api_key=env("API_KEY"),
        timeout=settings.timeouts.harvest + 10,
        min_ttl=settings.renew_margin + 60,
        verify=verify_for(settings),
    )


def service_manager(settings: Settings, *, progress: Progress | None = None) -> SessionManager:
    """A SessionManager whose store and renewals are the service's."""
    from ..session.store import account_key

    store = service_store(settings)
    return SessionManager(
        store,
        ServiceRenewer(store),
        key=account_key(settings.url, settings.email),
        account=settings.email,
        renew_margin=settings.renew_margin,
        lock_timeout=settings.timeouts.lock,
        progress=progress,
        proxy=ANY_PROXY,  # the service knows the egress the clearance is bound to
    )


__all__ = ["ServiceRenewer", "ServiceStore", "is_service_url", "service_manager", "service_store"]
