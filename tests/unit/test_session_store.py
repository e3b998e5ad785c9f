"""FileStore: atomic, private, versioned records; corrupt ones moved aside; encryption."""

from __future__ import annotations

import logging
import os
import stat
import time
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from chatgpt_browser.credentials import Credentials
from chatgpt_browser.errors import ConfigError, StoreError
from chatgpt_browser.session.store import CredentialStore, FileStore, account_key

SECRET = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..secret-session-value"


def bundle(**changes: object) -> Credentials:
    now = time.time()
    base = Credentials(
        site="http://127.0.0.1:8000",
        user_agent="Mozilla/5.0 Test",
        session_token=SECRET,
        clearance_token="clearance-secret",
        account="a@example.com",
        clearance_expires_at=now + 1800,
        session_expires_at=now + 86400,
        access_token="access-secret",
        access_token_expires_at=now + 3600,
    )
    return base.replace(**changes)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_round_trip_and_modes(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "state")
    assert isinstance(store, CredentialStore)
    assert store.load("k") is None
    original = bundle()
    store.save("k", original)
    assert store.load("k") == original
    assert store.list_keys() == ["k"]
    assert mode(store.path("k")) == 0o600
    for folder in (store.root, store.credentials_dir, store.locks_dir):
        assert mode(folder) == 0o700
    # no temp files left behind by the atomic write
    assert sorted(p.name for p in store.credentials_dir.iterdir()) == ["k.json"]


def test_existing_root_is_left_alone_but_our_folders_are_private(tmp_path: Path) -> None:
    root = tmp_path / "chosen"
    root.mkdir(mode=0o755)
    os.chmod(root, 0o755)
    store = FileStore(root)
    (root / "credentials").mkdir(mode=0o777)
    os.chmod(root / "credentials", 0o777)
    store.save("k", bundle())
    assert mode(root) == 0o755
    assert mode(store.credentials_dir) == 0o700 and mode(store.locks_dir) == 0o700


def test_overwrite_replaces_whole_record(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    store.save("k", bundle())
    newer = bundle(session_token="rotated-session-token")
    store.save("k", newer)
    assert store.load("k") == newer
    assert store.delete("k") is True
    assert store.delete("k") is False
    assert store.load("k") is None


def test_corrupt_record_is_moved_aside_with_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = FileStore(tmp_path)
    store.save("k", bundle())
    store.path("k").write_text('{"version": 1, "credentials": {"site": "x"')  # truncated
    with caplog.at_level(logging.WARNING):
        assert store.load("k") is None
    aside = [p for p in store.credentials_dir.iterdir() if ".corrupt-" in p.name]
    assert len(aside) == 1
    assert aside[0].read_text().startswith('{"version": 1')  # kept, not lost
    assert not store.path("k").exists()
    assert "corrupt" in caplog.text and SECRET not in caplog.text
    assert store.list_keys() == []


def test_read_raises_without_moving(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    store.save("k", bundle())
    store.path("k").write_text("not json at all")
    with pytest.raises(StoreError):
        store.read("k")
    assert store.path("k").exists()


def test_wrong_version_is_corrupt(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    store.save("k", bundle())
    store.path("k").write_text(store.path("k").read_text().replace('"version": 1', '"version": 99'))
    assert store.load("k") is None


def test_loose_mode_is_tightened(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    store.save("k", bundle())
    os.chmod(store.path("k"), 0o644)
    assert store.load("k") is not None
    assert mode(store.path("k")) == 0o600


def test_encryption_at_rest(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    store = FileStore(tmp_path, key=key)
    original = bundle()
    store.save("k", original)
    raw = store.path("k").read_bytes()
    assert raw.startswith(b"gAAAAA")
    for secret in (SECRET, "clearance-secret", "access-secret", "Mozilla"):
        assert secret.encode() not in raw
    assert FileStore(tmp_path, key=key).load("k") == original


def test_encrypted_record_needs_the_key(tmp_path: Path) -> None:
    FileStore(tmp_path, key=Fernet.generate_key().decode()).save("k", bundle())
    with pytest.raises(StoreError, match="encrypted"):
        FileStore(tmp_path).load("k")
    with pytest.raises(StoreError, match="another key"):
        FileStore(tmp_path, key=Fernet.generate_key().decode()).load("k")
    # neither attempt moved or destroyed the record
    assert [p.name for p in (tmp_path / "credentials").iterdir()] == ["k.json"]


def test_plain_record_is_readable_after_a_key_is_set(tmp_path: Path) -> None:
    FileStore(tmp_path).save("k", bundle())
    key = Fernet.generate_key().decode()
    store = FileStore(tmp_path, key=key)
    loaded = store.load("k")
    assert loaded is not None and loaded.session_token == SECRET
    store.save("k", loaded)
    assert store.path("k").read_bytes().startswith(b"gAAAAA")


def test_bad_key_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Fernet"):
        FileStore(tmp_path, key="too-short")


def test_invalid_keys_are_refused(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    for key in ("", "../escape", ".hidden", "a/b"):
        with pytest.raises(StoreError):
            store.path(key)


def test_account_key_is_safe_and_distinct() -> None:
    a = account_key("http://127.0.0.1:8000", "Demo@Example.com")
    assert a == account_key("http://127.0.0.1:8000/", "demo@example.com")
    assert a.startswith("demo@example.com@127.0.0.1_8000-")
    assert a != account_key("http://127.0.0.1:8001", "demo@example.com")
    assert "/" not in account_key("https://x.example", "we/ird name@x")
    assert account_key("https://x.example", "a b") != account_key("https://x.example", "a_b")


def test_unwritable_folder_is_a_store_error(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        blocker = tmp_path / "file"
        blocker.write_text("")
        store = FileStore(blocker / "sub")  # a folder under a regular file cannot exist
    else:  # pragma: no cover - non-root runs
        os.chmod(tmp_path, 0o500)
        store = FileStore(tmp_path / "sub")
    with pytest.raises(StoreError, match="cannot create"):
        store.save("k", bundle())


def test_folder_gone_unwritable_after_start_is_a_store_error(tmp_path: Path) -> None:
    # The folders existed when the store started; then the credentials folder became
    # unusable (here: replaced by a file). The write must fail typed and keep nothing half-done.
    store = FileStore(tmp_path / "state")
    store.save("k", bundle())
    record = store.path("k").read_bytes()
    store.path("k").unlink()
    store.credentials_dir.rmdir()
    store.credentials_dir.write_bytes(record)
    with pytest.raises(StoreError, match="cannot write"):
        store.save("k", bundle(session_token="new-session-value"))
    assert store.credentials_dir.read_bytes() == record
