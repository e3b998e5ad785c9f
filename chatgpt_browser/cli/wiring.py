"""From parsed arguments to settings, a password provider and the account's manager."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ConfigError, HumanNeededError
from .output import Progress

if TYPE_CHECKING:  # pragma: no cover
    from ..config import Settings
    from ..session.manager import SessionManager

_OVERRIDES = {
    "url": "url", "email": "email", "state_dir": "state_dir", "store": "store", "redis_url": "redis_url",
    "cdp_url": "cdp_url", "executable": "executable", "proxy": "proxy", "ca_file": "ca_file",
    "min_ttl": "min_ttl", "lock": "lock_timeout", "profile_dir": "profile_dir", "trust_env": "trust_env",
    "auth_hosts": "auth_host",
}  # fmt: skip


def settings_from(args: argparse.Namespace, *, resolve_site: bool = True) -> Settings:
    """Flags > env > TOML > defaults; then the one rule for the site URL (see app.resolve_site)."""
    from ..app import checked_proxy
    from ..app import resolve_site as resolve
    from ..config import load_settings

    overrides = {name: getattr(args, dest, None) for name, dest in _OVERRIDES.items()}
    overrides["headless"] = False if getattr(args, "headed", False) else None
    settings = load_settings(overrides, config_file=getattr(args, "config", None))
    checked_proxy(settings.proxy)  # the browser's rule too, before anything starts
    return resolve(settings) if resolve_site else settings


def read_utf8_line(data: bytes, where: str) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{where} is not valid UTF-8 (byte {exc.start})") from None
    return text.splitlines()[0] if text.strip() else ""


def password_provider(
    args: argparse.Namespace, *, configured: Callable[[], str | None], prompt: bool
) -> Callable[[], str | None]:
    """The password, looked up only when a login needs it: --password-env / --password-file /
    --password-stdin, then the configured one (CHATGPT_BROWSER_PASSWORD, password_env in the
    TOML file), then a prompt on a terminal (`login` only)."""
    from ..config import secret_from_env

    cache: list[str | None] = []
    if getattr(args, "password_stdin", False) and not args.password_env:
        # Read it now: a text read later from stdin (`ask -`) must start after it.
        line = read_utf8_line(sys.stdin.buffer.readline(), "the password on standard input").rstrip("\r\n")
        if not line:
            raise ConfigError("--password-stdin: nothing on standard input")
        cache.append(line)
    elif getattr(args, "password_file", None):
        path = Path(args.password_file).expanduser()
        try:
            line = read_utf8_line(path.read_bytes(), f"password file {path}")
        except OSError as exc:
            raise ConfigError(f"cannot read password file {path}: {exc.strerror}") from None
        if not line:
            raise ConfigError(f"password file {path} is empty")
        cache.append(line)

    def provide() -> str | None:
        if cache:
            return cache[0]
        value = secret_from_env(args.password_env) if getattr(args, "password_env", None) else configured()
        if value is None and prompt and sys.stdin.isatty():
            import getpass

            value = getpass.getpass("Password: ") or None
        cache.append(value)
        return value

    return provide


def progress_for(args: argparse.Namespace) -> Progress:
    return Progress(not args.quiet and not args.json)


def manager_for(
    args: argparse.Namespace,
    settings: Settings,
    progress: Progress,
    *,
    prompt: bool = False,
    force_login: bool = False,
    login_if_password: bool = False,
) -> SessionManager:
    """The account's manager; `prompt`: ask for a missing password on a terminal."""
    from ..app import build_manager
    from ..config import display_available

    if not settings.email:
        raise ConfigError("no account: pass --email or set CHATGPT_BROWSER_EMAIL")
    if getattr(args, "headed", False) and not settings.cdp_url and not display_available():
        # A window nobody can see would wait for a person until the login timeout.
        raise HumanNeededError(
            "--headed needs a display: run on a desktop, under `xvfb-run -a` with a VNC viewer, "
            "or point --cdp-url at a Chrome you can see"
        )
    return build_manager(
        settings,
        password=password_provider(args, configured=settings.resolved_password, prompt=prompt),
        # --headed means a person is watching: the harvest waits for them on a captcha.
        interactive=bool(getattr(args, "headed", False)),
        progress=progress,
        on_stage=progress.stage,
        force_login=force_login,
        login_if_password=login_if_password,
    )


__all__ = ["manager_for", "password_provider", "progress_for", "read_utf8_line", "settings_from"]
