"""The harvest callable the session manager is handed: checks, artefacts folder, and the
call into `browser.harvest` (Playwright is imported only when a harvest runs).

Before any browser starts: the TOTP secret is checked, and a login that needs a password
nobody gave fails at once (exit 4; exit 2 for `login --force`) instead of launching a
browser that can only fail. `login` (with a password) and `login --force` ask the harvest
for a full login (`force_login`), so a wrong password fails even when the profile holds a
live session; the profile itself is never moved aside.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

from .browser import inputs
from .config import Settings
from .credentials import Credentials
from .errors import ConfigError, HumanNeededError
from .session.manager import Harvester

log = logging.getLogger(__name__)

PasswordProvider = Callable[[], str | None]
usable_totp_secret = inputs.usable_totp_secret


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
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode):  # a symlink or a file: not ours to change
        raise NotADirectoryError(errno.ENOTDIR, "not a plain folder", str(folder))
    if info.st_mode & 0o077 and info.st_uid == os.geteuid():
        os.chmod(folder, stat.S_IMODE(info.st_mode) & 0o700, follow_symlinks=False)


def _profile_is_empty(profile_dir: Path | None) -> bool:
    if profile_dir is None:
        return False  # a remote browser (--cdp-url): its profile is not ours to inspect
    try:
        return not any(profile_dir.iterdir())
    except OSError:
        return True


def _no_password(settings: Settings) -> str:
    return (
        f"a login is needed for {settings.email} and no password is available: pass "
        "--password-env NAME, --password-file FILE or --password-stdin, or set "
        "CHATGPT_BROWSER_PASSWORD (or password_env in the config file)"
    )


def build_harvester(
    settings: Settings,
    *,
    password: PasswordProvider | None = None,
    interactive: bool = False,
    on_stage: Callable[[str], None] | None = None,
    force_login: bool = False,
    login_if_password: bool = False,
) -> Harvester:
    """A harvest callable for the manager: a re-clear with the profile, or a full login.

    `login_if_password`: a full login whenever a password is available, even when the
    profile holds a session, so a wrong password fails (`login`). `force_login`: the
    same, and a missing password is a configuration error (`login --force`).
    """

    def harvester(
        *,
        profile_dir: Path | None,
        reason: str,
        stale: Credentials | None,
        on_stage: Callable[[str], None] | None = on_stage,
    ) -> Credentials:
        artifacts = prepare_artifacts_dir(settings.resolved_state_dir() / "artifacts")
        totp_secret = usable_totp_secret(settings.totp_secret)  # before any browser starts
        # The provider (the CLI's) knows the precedence of flags, settings and prompt.
        secret = password() if password is not None else settings.resolved_password()
        if secret is None and not interactive and (force_login or _profile_is_empty(profile_dir)):
            # Nothing to re-clear and nothing to log in with: no browser for nothing.
            # (With --headed a person at the window may log in by hand.)
            raise (ConfigError if force_login else HumanNeededError)(_no_password(settings))
        from .browser.harvest import harvest  # lazy: loads Playwright

        if profile_dir is not None:
            profile_dir.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        log.info("browser harvest for %s (%s)", settings.email, reason)
        return harvest(
            settings.url,
            site=settings.site(),  # the auth hosts the login may use
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
            force_login=(force_login or login_if_password) and secret is not None,
            on_stage=on_stage,
        )

    return harvester


__all__ = ["KEEP_ARTIFACTS", "PasswordProvider", "build_harvester", "prepare_artifacts_dir"]
