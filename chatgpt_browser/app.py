"""The composition root: wires settings, the browser harvest, the HTTP client and the
session manager together. Only this module and the `cli` package import from several of
`browser/`, `client/` and `session/`; each of those depends on the core alone.

Library users:

    from chatgpt_browser.app import build_client, build_manager
    from chatgpt_browser.config import load_settings

    settings = load_settings({"url": "http://127.0.0.1:8080", "email": "me@example.com"})
    api = build_client(settings)            # a ChatGPTAPI whose credentials renew themselves
    print(api.send_message("Hello").response)

Heavy imports (Playwright, requests, redis) happen inside the callables, when used.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .browser import inputs
from .config import Settings, environment_network
from .credentials import Credentials
from .errors import ChatGPTBrowserError, ConfigError
from .harvester import KEEP_ARTIFACTS, PasswordProvider, build_harvester, prepare_artifacts_dir
from .session.flight import LocalFlight
from .session.manager import HttpRefresher, Progress, SessionManager
from .session.store import CredentialStore, FileStore, account_key

if TYPE_CHECKING:  # pragma: no cover
    from .client import ChatGPTAPI
    from .session.pool import AccountPool

log = logging.getLogger(__name__)


def open_store(settings: Settings) -> CredentialStore:
    """The configured store: a FileStore under the state folder, a RedisStore, or a
    `serve` instance (`store = "http(s)://host:8191"`)."""
    if settings.store.startswith(("http://", "https://")):
        from .serve.remote import service_store

        return service_store(settings)
    if settings.store == "redis":
        from .session.redis_store import RedisStore

        return RedisStore(settings.redis_url, key=settings.store_key)
    return FileStore(settings.resolved_state_dir(), key=settings.store_key)


def key_for(settings: Settings) -> str:
    return account_key(settings.url, settings.email)


def profile_dir_for(settings: Settings, key: str | None = None) -> Path:
    """The account's persistent browser profile (kept per machine, even with Redis)."""
    if settings.profile_dir is not None:
        return settings.profile_dir
    return settings.resolved_state_dir() / "profiles" / (key or key_for(settings))


def resolve_site(settings: Settings, *, store: CredentialStore | None = None) -> Settings:
    """One rule for the site URL: an explicit one (flag, env, TOML) wins; else the site
    stored with the account when exactly one is stored; else a clear error listing the
    choices. Only an empty store falls back to the real site."""
    if settings.url_source != "default":
        return settings
    store = store if store is not None else open_store(settings)
    stored: list[tuple[str | None, str]] = []
    for key in store.list_keys():
        try:
            record = store.read(key)
        except ChatGPTBrowserError:
            continue  # `status` reports unreadable records; they name no site here
        if record is not None:
            stored.append((record.account, record.site))
    mine = {site for account, site in stored if settings.email and account == settings.email}
    sites = mine or {site for _, site in stored}
    if not sites:
        return settings
    if len(sites) > 1:
        who = f"for {settings.email}" if mine else "in the store"
        raise ConfigError(
            f"several sites stored {who}: {', '.join(sorted(sites))}; pick one with --url "
            "(or CHATGPT_BROWSER_URL)"
        )
    (site,) = sites
    log.info("site %s taken from the stored credentials", site)
    return dataclasses.replace(settings, url=site, url_source="store")


# One rule each, shared with harvest() (pure checks: importing them loads no Playwright).
# Both run before any browser starts and never echo the secret or the proxy password.
usable_totp_secret = inputs.usable_totp_secret
checked_proxy = inputs.checked_proxy


def verify_for(settings: Settings) -> bool | str:
    """TLS verification for HTTP calls: always on; against `ca_file` when one is set."""
    if not settings.ca_file:
        return True
    ca = Path(settings.ca_file).expanduser()
    if not ca.is_file():
        raise ConfigError(f"CA file {ca} does not exist")
    return str(ca)


def build_http_refresher(settings: Settings) -> HttpRefresher:
    """One /api/auth/session call with the bundle (rotates cookie and access token)."""

    def refresher(credentials: Credentials) -> Credentials:
        from .client import refresh_credentials  # lazy: loads requests

        return refresh_credentials(
            credentials, site=settings.site(), timeout=settings.timeouts.read, verify=verify_for(settings)
        )

    return refresher


def build_manager(
    settings: Settings,
    *,
    store: CredentialStore | None = None,
    password: PasswordProvider | None = None,
    interactive: bool = False,
    progress: Progress | None = None,
    on_stage: Callable[[str], None] | None = None,
    force_login: bool = False,
    login_if_password: bool = False,
) -> SessionManager:
    """The SessionManager of the configured account, wired to the real harvest and client.

    `on_stage` receives the harvest's stages (launch, challenge, login, verify, done).
    """
    if settings.store.startswith(("http://", "https://")) and store is None:
        from .serve.remote import service_manager  # the service renews: no browser here

        return service_manager(settings, progress=progress)
    key = key_for(settings)
    checked_proxy(settings.proxy)
    harvester = build_harvester(
        settings,
        password=password,
        interactive=interactive,
        force_login=force_login,
        login_if_password=login_if_password,
    )
    store = store if store is not None else open_store(settings)
    return SessionManager(
        store,
        harvester,
        key=key,
        account=settings.email,
        http_refresher=build_http_refresher(settings),
        profile_dir=None if settings.cdp_url else profile_dir_for(settings, key),
        renew_margin=settings.renew_margin,
        lock_timeout=settings.timeouts.lock,
        progress=progress,
        proxy=settings.proxy,
        on_stage=on_stage,
        flight=local_flight(settings, store),
    )


def local_flight(settings: Settings, store: CredentialStore) -> LocalFlight | None:
    """The machine-local single flight in front of a shared store (none for the file store)."""
    if isinstance(store, FileStore):
        return None
    return LocalFlight(settings.resolved_state_dir() / "flight", key=settings.store_key)


def build_pool(
    settings: Settings,
    accounts: Sequence[tuple[str, str | None]],
    *,
    store: CredentialStore | None = None,
    max_failures: int = 3,
    quarantine_seconds: float = 900.0,
) -> AccountPool:
    """An AccountPool over `(email, password)` pairs sharing the site, store and timeouts.

    Use it as `with pool.use() as manager: build_client(settings, manager=manager)...`.
    """
    from .session.pool import AccountPool

    shared = store if store is not None else open_store(settings)
    managers = [
        build_manager(dataclasses.replace(settings, email=email, password=password), store=shared)
        for email, password in accounts
    ]
    return AccountPool(managers, max_failures=max_failures, quarantine_seconds=quarantine_seconds)


def build_client(settings: Settings, *, manager: SessionManager | None = None, **options: Any) -> ChatGPTAPI:
    """A ChatGPTAPI that asks the session manager for credentials and renewals."""
    from .client import ChatGPTAPI

    source = manager if manager is not None else build_manager(settings)
    proxy, verify = checked_proxy(settings.proxy), verify_for(settings)
    if settings.trust_env:  # opt-in: see Settings.trust_env for why it is off by default
        env_proxy, env_ca = environment_network(settings.url)
        proxy = proxy or env_proxy
        verify = verify if verify is not True or not env_ca else env_ca
    options.setdefault("proxy", proxy)
    options.setdefault("verify", verify)
    return ChatGPTAPI(provider=source, site=settings.site(), timeout=settings.timeouts, **options)


def logout(settings: Settings, *, store: CredentialStore | None = None) -> list[str]:
    """Forget the account: its stored bundle and its browser profile. Returns what went."""
    store = store if store is not None else open_store(settings)
    key = key_for(settings)
    removed = []
    with store.lock(key, settings.timeouts.lock):
        if store.delete(key):
            removed.append("stored credentials")
        if (flight := local_flight(settings, store)) is not None:
            flight.forget(key)  # this machine's copy of the shared store's answer
        profile = profile_dir_for(settings, key)
        if profile.exists():
            try:
                shutil.rmtree(profile)
            except OSError as exc:
                raise ConfigError(f"cannot remove the browser profile {profile}: {exc.strerror}") from exc
            removed.append("browser profile")
    return removed


def status_rows(settings: Settings, *, store: CredentialStore | None = None) -> list[dict[str, object]]:
    """Every stored account with the remaining lifetime of each credential (no browser)."""
    from .errors import StoreError

    store = store if store is not None else open_store(settings)
    rows: list[dict[str, object]] = []
    for key in store.list_keys():
        row: dict[str, object] = {"key": key}
        try:
            credentials = store.read(key)
        except StoreError as exc:
            row["error"] = str(exc)
        else:
            if credentials is not None:
                row.update(credentials.describe())
        rows.append(row)
    with contextlib.suppress(AttributeError):
        close = store.close  # type: ignore[attr-defined]
        close()
    return rows


__all__ = [
    "KEEP_ARTIFACTS",
    "build_client",
    "build_harvester",
    "build_http_refresher",
    "build_manager",
    "build_pool",
    "checked_proxy",
    "key_for",
    "logout",
    "open_store",
    "prepare_artifacts_dir",
    "profile_dir_for",
    "resolve_site",
    "status_rows",
    "usable_totp_secret",
    "verify_for",
]
