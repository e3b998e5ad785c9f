"""The composition root: wires settings, the browser harvest, the HTTP client and the
session manager together. Only this module and `cli.py` import from several of
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
import re
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .browser import inputs
from .config import Settings
from .credentials import Credentials
from .errors import ConfigError
from .session.manager import Harvester, HttpRefresher, Progress, SessionManager
from .session.store import CredentialStore, FileStore, account_key

if TYPE_CHECKING:  # pragma: no cover
    from .client.api import ChatGPTAPI
    from .session.pool import AccountPool

log = logging.getLogger(__name__)

PasswordProvider = Callable[[], str | None]


def open_store(settings: Settings) -> CredentialStore:
    """The configured store: a FileStore under the state folder, or a RedisStore."""
    if settings.store == "redis":
        from .session.redis_store import RedisStore

        return RedisStore(settings.redis_url, key=settings.store_key)
    return FileStore(settings.resolved_state_dir(), key=settings.store_key)


def key_for(settings: Settings) -> str:
    return account_key(settings.url, settings.email)


def profile_dir_for(settings: Settings, key: str | None = None) -> Path:
    """The account's persistent browser profile (kept per machine, even with Redis)."""
    return settings.resolved_state_dir() / "profiles" / (key or key_for(settings))


# One rule each, shared with harvest() (pure checks: importing them loads no Playwright).
# Both run before any browser starts and never echo the secret or the proxy password.
usable_totp_secret = inputs.usable_totp_secret
checked_proxy = inputs.checked_proxy


# Failure folders are named <yyyymmdd-hhmmss>-<ErrorClass>[-n] by the harvest.
_ARTIFACT_NAME = re.compile(r"^\d{8}-\d{6}-\w+(-\d+)?$")
KEEP_ARTIFACTS = 20


def prepare_artifacts_dir(root: Path, keep: int = KEEP_ARTIFACTS) -> Path:
    """The private folder for failure screenshots/HTML, pruned to the newest `keep - 1`
    so the next failure makes `keep`: a cron job failing for days must not fill the disk."""
    try:
        _ensure_private(root)
        ours = sorted(p for p in root.iterdir() if p.is_dir() and _ARTIFACT_NAME.match(p.name))
        for old in ours[: max(0, len(ours) - (keep - 1))]:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:  # artifacts are a debugging aid: never fail a harvest for them
        log.debug("could not prepare the artifacts folder %s: %s", root, exc)
    return root


def _ensure_private(folder: Path) -> None:
    folder.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # the state folder, if new
    folder.mkdir(mode=0o700, exist_ok=True)
    if folder.stat().st_mode & 0o077:
        folder.chmod(0o700)


def build_harvester(
    settings: Settings,
    *,
    password: PasswordProvider | None = None,
    interactive: bool = False,
    force_login: bool = False,
    on_stage: Callable[[str], None] | None = None,
) -> Harvester:
    """A harvest callable for the manager: a re-clear with the profile, or a full login
    (`force_login`: always, so a wrong password fails). `on_stage` sees each stage."""

    def harvester(*, profile_dir: Path | None, reason: str, stale: Credentials | None) -> Credentials:
        artifacts = prepare_artifacts_dir(settings.resolved_state_dir() / "artifacts")
        totp_secret = usable_totp_secret(settings.totp_secret)  # before any browser starts
        # The provider (the CLI's) knows the precedence of flags, settings and prompt.
        secret = password() if password is not None else settings.resolved_password()
        from .browser.harvest import harvest  # lazy: loads Playwright

        if profile_dir is not None:
            profile_dir.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        log.info("browser harvest for %s (%s)", settings.email, reason)
        # Without a password the harvest can still re-clear a profile that holds a live
        # session; it raises HumanNeededError when a login would be needed.
        return harvest(
            settings.url,
            email=settings.email,
            password=secret,
            totp_secret=totp_secret,
            profile_dir=profile_dir,
            executable=settings.executable,
            headless=settings.headless,
            proxy=settings.proxy,
            cdp_url=settings.cdp_url,
            interactive=interactive,
            timeout=settings.timeouts.harvest,
            challenge_timeout=settings.timeouts.challenge,
            timeouts=settings.timeouts,
            artifacts_dir=artifacts,
            ca_file=settings.ca_file,
            force_login=force_login,
            on_stage=on_stage,
        )

    return harvester


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
        from .client.refresh import refresh_credentials  # lazy: loads requests

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
) -> SessionManager:
    """The SessionManager of the configured account, wired to the real harvest and client."""
    key = key_for(settings)
    checked_proxy(settings.proxy)
    return SessionManager(
        store if store is not None else open_store(settings),
        build_harvester(settings, password=password, interactive=interactive),
        key=key,
        account=settings.email,
        http_refresher=build_http_refresher(settings),
        profile_dir=None if settings.cdp_url else profile_dir_for(settings, key),
        renew_margin=settings.renew_margin,
        lock_timeout=settings.timeouts.lock,
        progress=progress,
        proxy=settings.proxy,
    )


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
    from .client.api import ChatGPTAPI

    source = manager if manager is not None else build_manager(settings)
    options.setdefault("proxy", checked_proxy(settings.proxy))
    options.setdefault("verify", verify_for(settings))
    return ChatGPTAPI(provider=source, site=settings.site(), timeout=settings.timeouts, **options)


def logout(settings: Settings, *, store: CredentialStore | None = None) -> list[str]:
    """Forget the account: its stored bundle and its browser profile. Returns what went."""
    store = store if store is not None else open_store(settings)
    key = key_for(settings)
    removed = []
    with store.lock(key, settings.timeouts.lock):
        if store.delete(key):
            removed.append("stored credentials")
        profile = profile_dir_for(settings, key)
        if profile.exists():
            try:
                shutil.rmtree(profile)
            except OSError as exc:
                raise ConfigError(f"cannot remove the browser profile {profile}: {exc.strerror}") from exc
            removed.append("browser profile")
    return removed


def status_rows(settings: Settings, *, store: CredentialStore | None = None) -> list[dict[str, Any]]:
    """Every stored account with the remaining lifetime of each credential (no browser)."""
    from .errors import StoreError

    store = store if store is not None else open_store(settings)
    rows: list[dict[str, Any]] = []
    for key in store.list_keys():
        row: dict[str, Any] = {"key": key}
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
    "status_rows",
    "usable_totp_secret",
    "verify_for",
]
