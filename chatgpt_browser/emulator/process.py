"""`Emulator`: run the emulator as a subprocess for tests, demos and benchmarks.

The context manager starts `python -m chatgpt_browser.emulator`, reads its one JSON
ready line from stdout within `startup_timeout` (no fixed sleeps), and on exit stops it
with SIGTERM, then SIGKILL after a deadline.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import IO

from .admin_client import AdminClient
from .jsontypes import JSONMapping, JSONObject, to_int
from .options import Account


class EmulatorStartError(RuntimeError):
    """The emulator process exited or stayed silent instead of getting ready."""


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _check_args(checks: Iterable[str] | None) -> list[str]:
    """`--disable-check` for each check left out of `checks` (None: all stay on)."""
    if checks is None:
        return []
    from .options import ALL_CHECKS

    return [arg for name in sorted(ALL_CHECKS - set(checks)) for arg in ("--disable-check", name)]


def _optional_args(
    client_hints_check: bool | None, rate_limit: int | None, max_chars: int | None
) -> list[str]:
    """Flags given only when set (None: the server's default)."""
    args: list[str] = []
    if client_hints_check is not None:
        args += ["--client-hints-check", "on" if client_hints_check else "off"]
    if rate_limit is not None:
        args += ["--rate-limit", str(rate_limit)]
    if max_chars is not None:
        args += ["--max-message-chars", str(max_chars)]
    return args


def _list_args(blocked_ips: Iterable[str], flagged_words: Iterable[str]) -> list[str]:
    args: list[str] = []
    for ip in blocked_ips:
        args += ["--block-ip", ip]
    for word in list(flagged_words) or [""]:  # "" alone: flag nothing
        args += ["--flagged-word", word]
    return args


def _write_accounts(accounts: Sequence[JSONMapping | Account] | None) -> str | None:
    """The accounts as a private JSON file for `--accounts-file` (None: no accounts given)."""
    if not accounts:
        return None
    entries = [a.to_dict() if isinstance(a, Account) else dict(a) for a in accounts]
    fd, path = tempfile.mkstemp(prefix="emulator-accounts-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:  # mkstemp makes it 0600
        json.dump(entries, handle)
    return path


class Emulator:
    """A running emulator process (see docs/emulator-contract.md for the options)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        auth_port: int = 0,
        tls: bool = False,
        dwell: float = 0.0,
        pow_difficulty: int = 12,
        checks: Iterable[str] | None = None,
        interactive: bool = False,
        challenge: bool = True,
        clearance_ttl: float = 1800.0,
        session_ttl: float = 30 * 86400.0,
        access_token_ttl: float = 3600.0,
        rate_limit: int | None = None,
        token_delay: float = 0.0,
        accounts: Sequence[JSONMapping | Account] | None = None,
        blocked_ips: Iterable[str] = (),
        at_capacity: bool = False,
        refresh_error: bool = False,
        flagged_words: Iterable[str] = ("flagme",),
        startup_timeout: float = 20.0,
        *,
        captcha: bool = False,
        max_message_chars: int | None = None,
        one_stream_per_account: bool = True,
        tls_fingerprint: str = "bind",
        client_hints_check: bool | None = None,
        log_level: str = "WARNING",
        stderr: int | IO[bytes] | IO[str] | None = None,
        extra_args: Sequence[str] = (),
    ) -> None:
        args = [
            "--host", host, "--port", str(port), "--auth-port", str(auth_port),
            "--dwell", str(dwell), "--pow-difficulty", str(pow_difficulty),
            "--clearance-ttl", str(clearance_ttl), "--session-ttl", str(session_ttl),
            "--access-token-ttl", str(access_token_ttl), "--token-delay", str(token_delay),
            "--log-level", log_level, "--parent-pid", str(os.getpid()),
        ]  # fmt: skip
        args += _check_args(checks)
        switches = {
            "tls": tls, "interactive": interactive, "no_challenge": not challenge,
            "at_capacity": at_capacity, "refresh_error": refresh_error, "captcha": captcha,
            "allow_parallel_streams": not one_stream_per_account,
        }  # fmt: skip
        args += [_flag(name) for name, on in switches.items() if on]
        args += ["--tls-fingerprint", tls_fingerprint]
        args += _optional_args(client_hints_check, rate_limit, max_message_chars)
        args += _list_args(blocked_ips, flagged_words)
        self._accounts_file = _write_accounts(accounts)
        if self._accounts_file is not None:
            args += ["--accounts-file", self._accounts_file]
        self.args = [*args, *extra_args]
        self.startup_timeout = startup_timeout
        self._stderr = stderr
        self._process: subprocess.Popen[bytes] | None = None
        self.info: JSONObject = {}

    # -- lifetime ------------------------------------------------------------------
    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> Emulator:
        if self._process is not None:
            raise RuntimeError("emulator already started")
        command = [sys.executable, "-m", "chatgpt_browser.emulator", *self.args]
        self._process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._stderr
        )
        try:
            line = self._read_ready_line(self._process)
            info = json.loads(line)
            if not isinstance(info, dict):
                raise EmulatorStartError("emulator's ready line is not a JSON object")
            self.info = info
        except BaseException:
            self.stop()
            raise
        return self

    def _read_ready_line(self, process: subprocess.Popen[bytes]) -> str:
        assert process.stdout is not None
        deadline = time.monotonic() + self.startup_timeout
        buffer = b""
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            while b"\n" not in buffer:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise EmulatorStartError(f"emulator not ready within {self.startup_timeout:.0f} s")
                if not selector.select(timeout=remaining):
                    continue
                chunk = os.read(process.stdout.fileno(), 65536)
                if not chunk:
                    code = process.wait(timeout=5)
                    raise EmulatorStartError(f"emulator exited with status {code} before it was ready")
                buffer += chunk
        return buffer.split(b"\n", 1)[0].decode()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the process: SIGTERM, then SIGKILL if it has not exited by `timeout`."""
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=timeout)
            if process.stdout is not None:
                process.stdout.close()
        if self._accounts_file is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._accounts_file)
            self._accounts_file = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    # -- what it reported -----------------------------------------------------------
    @property
    def url(self) -> str:
        return str(self.info["url"])

    @property
    def auth_url(self) -> str:
        return str(self.info["auth_url"])

    @property
    def admin_url(self) -> str:
        return str(self.info["admin_url"])

    @property
    def admin_token(self) -> str:
        return str(self.info["admin_token"])

    @property
    def pid(self) -> int:
        return to_int(self.info["pid"])

    @property
    def ca_file(self) -> str | None:
        ca_file = self.info.get("ca_file")
        return None if ca_file is None else str(ca_file)

    @property
    def accounts(self) -> list[Account]:
        entries = self.info["accounts"]
        if not isinstance(entries, list):
            raise EmulatorStartError("emulator reported no account list")
        return [Account.from_dict(entry) for entry in entries]

    @property
    def account(self) -> Account:
        return self.accounts[0]

    @property
    def admin(self) -> AdminClient:
        return AdminClient(self.admin_url, self.admin_token, verify=self.ca_file or True)

    def __repr__(self) -> str:
        where = self.info.get("url", "not started")
        return f"<Emulator {where} pid={self.info.get('pid')}>"
