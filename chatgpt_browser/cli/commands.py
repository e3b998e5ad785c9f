"""The account commands: login, session, status, logout (ask and moderate: chat.py)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import ConfigError
from ..session import files
from ..site import RenewReason
from .exit_codes import ExitStatus
from .formats import format_bundle, status_table, ttl_text
from .wiring import manager_for, progress_for, settings_from


def emit(args: argparse.Namespace, data: object, text: str) -> None:
    if args.json:
        print(json.dumps(data, sort_keys=True))
    elif not args.quiet:
        print(text)


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` atomically with mode 0600: a reader sees the old file or
    the new one; a failure before this point leaves the old file as it was."""
    try:
        files.write_private(path, text.encode("utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from None


def cmd_login(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    progress = progress_for(args)
    try:
        manager = manager_for(
            args, settings, progress, prompt=True, force_login=args.force, login_if_password=True
        )
        credentials = manager.renew(RenewReason.LOGIN)
    finally:
        progress.close()
    info = credentials.describe()
    emit(
        args,
        info,
        f"logged in as {credentials.account} on {credentials.site} ({credentials.source}); "
        f"clearance {ttl_text(info['clearance_ttl'])}, session {ttl_text(info['session_ttl'])}",
    )
    return ExitStatus.OK


def cmd_session(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    progress = progress_for(args)
    try:
        manager = manager_for(args, settings, progress)
        # --renew: e.g. the consumer just saw a 403; re-clear whatever the store says.
        renew = args.renew
        credentials = manager.renew(RenewReason.FORCED) if renew else manager.get(min_ttl=settings.min_ttl)
    finally:
        progress.close()
    text = format_bundle(credentials, args.format, settings)
    if args.output:
        write_private(Path(args.output).expanduser(), text + "\n")
    else:
        print(text)
    return ExitStatus.OK


def check_rows(rows: list[dict[str, object]], min_ttl: float) -> list[str]:
    """What `status --check` reports: unreadable records, and bundles that are expired or
    expire within `min_ttl` (clearance or session)."""
    problems = []
    for row in rows:
        name = row.get("account") or row["key"]
        if "error" in row:
            problems.append(f"{name}: unreadable ({row['error']})")
            continue
        for part in ("clearance", "session"):
            ttl = row.get(f"{part}_ttl")
            if isinstance(ttl, (int, float)) and ttl <= min_ttl:
                state = "expired" if ttl <= 0 else f"expires in {ttl_text(ttl)}"
                problems.append(f"{name} on {row['site']}: {part} {state} (need {min_ttl:g}s)")
    return problems


def cmd_status(args: argparse.Namespace) -> int:
    from ..app import open_store, status_rows

    settings = settings_from(args, resolve_site=False)
    store = open_store(settings)
    rows = [row for row in status_rows(settings, store=store) if _wanted(row, args.url, args.email)]
    problems = check_rows(rows, settings.min_ttl) if args.check else []
    if args.json or args.format == "json":
        data: dict[str, object] = {"store": store.location(), "accounts": rows}
        if args.check:
            data["check"] = {"ok": not problems, "problems": problems, "min_ttl": settings.min_ttl}
        print(json.dumps(data, sort_keys=True))
    elif not args.quiet:
        print(status_table(rows) if rows else f"no stored credentials in {store.location()}")
    if args.check and not rows:
        problems = [f"no stored credentials in {store.location()}"]
    if problems:
        for problem in problems:
            print(f"chatgpt-browser: check failed: {problem}", file=sys.stderr)
        return ExitStatus.CHECK_FAILED
    return ExitStatus.OK


def _wanted(row: dict[str, object], url: str | None, email: str | None) -> bool:
    """`status --url/--email` narrow the listing (flags only: the configured account must
    not hide the others from monitoring); unreadable rows always stay."""
    if "error" in row:
        return True
    if email and row.get("account") != email:
        return False
    return not url or row.get("site") == url.rstrip("/")


def cmd_logout(args: argparse.Namespace) -> int:
    from ..app import logout

    settings = settings_from(args)
    if not settings.email:
        raise ConfigError("no account: pass --email or set CHATGPT_BROWSER_EMAIL")
    removed = logout(settings)
    where = f"{settings.email} on {settings.url}"
    text = (
        f"logged out {where}: removed {' and '.join(removed)}" if removed else f"nothing stored for {where}"
    )
    emit(args, {"account": settings.email, "site": settings.url, "removed": removed}, text)
    return ExitStatus.OK


__all__ = ["check_rows", "cmd_login", "cmd_logout", "cmd_session", "cmd_status", "emit", "write_private"]
