"""Durable credential stores: the `CredentialStore` seam and the default `FileStore`.

`FileStore` keeps one JSON record per account under a state folder:

    <root>/            0700
      credentials/     0700   <account key>.json  (0600; Fernet-encrypted when a key is set)
      locks/           0700   <account key>.lock  (flock single-flight, see locks.py)

Writes are atomic (temp file in the same folder, fsync, `os.replace`, fsync of the
folder), so a reader sees the old record or the new one, never half of one. A record
that does not parse is moved aside (``<name>.corrupt-<time>``) with a warning and
treated as missing, so the next `get()` harvests afresh and nothing is silently lost.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import re
import stat
import time
from pathlib import Path
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

from ..credentials import Credentials
from ..errors import CorruptRecordError, StoreError
from .crypto import RecordCipher, decode_record, encode_record
from .files import write_private
from .locks import FileLock, Lock

log = logging.getLogger(__name__)

_SUFFIX = ".json"


def _read_no_follow(path: Path) -> bytes:
    """The record's bytes; a symlink at the record path is refused (ELOOP), not followed."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


def _why(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "it is a symlink (refused: records are never followed)"
    return exc.strerror or str(exc)


def account_key(site_url: str, email: str | None) -> str:
    """A stable, file-name-safe key for one account on one site.

    Readable (e-mail and host) for people listing the folder, plus a short hash of the
    exact inputs so two accounts never share a key after the character clean-up.
    """
    netloc = urlsplit(site_url).netloc.lower() or site_url.lower()
    raw = f"{(email or 'default').lower()}@{netloc}"
    slug = re.sub(r"[^a-z0-9._@-]+", "_", raw)[:80]
    return f"{slug}-{hashlib.sha256(raw.encode()).hexdigest()[:8]}"


@runtime_checkable
class CredentialStore(Protocol):
    """Where bundles live between jobs. Swapped (file vs Redis), never mocked."""

    def load(self, key: str) -> Credentials | None:
        """The stored bundle; None when there is none (or it was corrupt and moved aside)."""
        ...

    def read(self, key: str) -> Credentials | None:
        """Like `load` but raises `StoreError` for a bad record and changes nothing."""
        ...

    def save(self, key: str, credentials: Credentials) -> None: ...

    def delete(self, key: str) -> bool:
        """Remove the record; True when there was one."""
        ...

    def list_keys(self) -> list[str]: ...

    def lock(self, key: str, timeout: float) -> Lock:
        """The single-flight lock of one account (a context manager)."""
        ...

    def location(self) -> str:
        """Where the records live, for messages (no secrets)."""
        ...


def _ensure_private_dir(path: Path) -> None:
    """Create `path` 0700, or check the one that is there: a real folder (not a symlink),
    writable by us. Repair only ever removes group/other bits, on a folder we own; a
    folder someone made read-only stays read-only and is reported (exit 10)."""
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=0o700)
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise StoreError(f"{path} is not a plain folder (a symlink or a file); refusing to use it")
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077 and info.st_uid == os.geteuid():
        log.warning("state folder %s had mode %o; removed the group/other bits", path, mode)
        os.chmod(path, mode & 0o700, follow_symlinks=False)
    _check_writable(path, info)


def _check_writable(path: Path, info: os.stat_result) -> None:
    # The mode bits, not access(): root may write anywhere, but a folder whose owner
    # took the write bit away was made read-only on purpose.
    mine = info.st_uid == os.geteuid()
    writable = (info.st_mode & 0o300) == 0o300 if mine else os.access(path, os.W_OK | os.X_OK)
    if not writable:
        raise StoreError(f"the state folder {path} is read-only; make it writable or use another --state-dir")


class FileStore:
    """One JSON file per account (0600) in a private folder (0700)."""

    def __init__(self, root: str | os.PathLike[str], *, key: str | None = None) -> None:
        self.root = Path(root).expanduser()
        self.cipher = RecordCipher(key) if key else None
        self._dirs_ready = False

    # -- layout --------------------------------------------------------------------

    def _ready(self) -> None:
        if self._dirs_ready:
            return
        try:
            # The root may be a folder the user chose (even their home): create it
            # private, but only ever tighten the folders that are ours.
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            _check_writable(self.root, self.root.stat())
            for folder in (self.credentials_dir, self.locks_dir):
                _ensure_private_dir(folder)
        except StoreError:
            raise
        except OSError as exc:
            raise StoreError(f"cannot create the state folder {self.root}: {exc.strerror}") from exc
        self._dirs_ready = True

    @property
    def credentials_dir(self) -> Path:
        return self.root / "credentials"

    @property
    def locks_dir(self) -> Path:
        return self.root / "locks"

    def path(self, key: str) -> Path:
        if not key or "/" in key or key.startswith("."):
            raise StoreError(f"invalid account key {key!r}")
        return self.credentials_dir / (key + _SUFFIX)

    def location(self) -> str:
        return str(self.credentials_dir)

    # -- records -------------------------------------------------------------------

    def read(self, key: str) -> Credentials | None:
        path = self.path(key)
        try:
            data = _read_no_follow(path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"cannot read {path}: {_why(exc)}") from exc
        plain = decode_record(data, self.cipher, where=str(path))
        try:
            return Credentials.from_json(plain)
        except StoreError as exc:
            raise CorruptRecordError(f"{path}: {exc}") from exc

    def load(self, key: str) -> Credentials | None:
        path = self.path(key)
        self._check_mode(path)
        try:
            return self.read(key)
        except CorruptRecordError as exc:
            # Unreadable, wrongly-keyed or unreadable-by-permission records raise as they
            # are (a configuration problem); only a record that does not parse moves aside.
            aside = self._move_aside(path)
            log.warning("credential record is corrupt (%s); moved it to %s", exc, aside)
            return None

    def save(self, key: str, credentials: Credentials) -> None:
        self._ready()
        path = self.path(key)
        data = encode_record(credentials.to_json().encode(), self.cipher)
        try:
            write_private(path, data)
        except OSError as exc:  # e.g. the folder went away or became read-only since _ready()
            raise StoreError(f"cannot write {path}: {exc.strerror}") from exc
        self._fsync_dir()

    def delete(self, key: str) -> bool:
        path = self.path(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise StoreError(f"cannot delete {path}: {exc.strerror}") from exc
        self._fsync_dir()
        return True

    def list_keys(self) -> list[str]:
        try:
            names = sorted(p.name for p in self.credentials_dir.iterdir())
        except FileNotFoundError:
            return []
        except OSError as exc:  # e.g. the state "folder" is a file
            raise StoreError(f"cannot list {self.credentials_dir}: {exc.strerror}") from exc
        return [n[: -len(_SUFFIX)] for n in names if n.endswith(_SUFFIX) and not n.startswith(".")]

    def lock(self, key: str, timeout: float) -> FileLock:
        self._ready()
        self.path(key)  # validates the key
        return FileLock(self.locks_dir / (key + ".lock"), timeout=timeout)

    # -- helpers -------------------------------------------------------------------

    def _move_aside(self, path: Path) -> Path:
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{os.getpid()}")
        try:
            os.replace(path, aside)
        except OSError as exc:
            raise StoreError(f"cannot move the unreadable record {path} aside: {exc.strerror}") from exc
        return aside

    def _check_mode(self, path: Path) -> None:
        # Someone (a copy, an editor) may have loosened the mode: tighten it back, on
        # the record itself only (lstat + O_NOFOLLOW: never a symlink's target) and only
        # when it is a plain file we own. Anything else is reported, not changed.
        try:
            info = path.lstat()
        except OSError:
            return
        if stat.S_ISLNK(info.st_mode) or not stat.S_ISREG(info.st_mode):
            raise StoreError(f"credential record {path} is not a plain file (a symlink or a folder)")
        mode = stat.S_IMODE(info.st_mode)
        if not mode & 0o077 or info.st_uid != os.geteuid():
            return
        log.warning("credential record %s had mode %o; set it back to 600", path, mode)
        with contextlib.suppress(OSError):
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
            try:
                os.fchmod(fd, 0o600)
            finally:
                os.close(fd)

    def _fsync_dir(self) -> None:
        # Make the rename itself durable (a crash right after could otherwise undo it).
        with contextlib.suppress(OSError):
            fd = os.open(self.credentials_dir, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def __repr__(self) -> str:
        return f"FileStore({str(self.root)!r}, encrypted={self.cipher is not None})"


__all__ = ["CorruptRecordError", "CredentialStore", "FileStore", "account_key"]
