"""`chatgpt-browser serve`: the subcommand's flags and entry point.

cli.py hooks it in with `add_parser(commands, common)`; the handler reads the shared
settings (flags > env > TOML), the `[serve]` table and the `[[accounts]]` entries.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from typing import Any, TypeVar

from ..config import default_config_file, env, load_settings, secret_from_env
from ..errors import ConfigError
from .options import API_KEY_ENV, ServeOptions, accounts_from, read_toml, serve_table

P = TypeVar("P", bound=argparse.ArgumentParser)


def add_parser(commands: argparse._SubParsersAction[P], common: P) -> P:
    text = "run the credential service (native API and FlareSolverr's /v1) for a fleet"
    sub = commands.add_parser("serve", parents=[common], help=text, description=text, allow_abbrev=False)
    S = argparse.SUPPRESS
    sub.add_argument("--host", default=S, help="listen address (default 127.0.0.1)")
    sub.add_argument("--port", type=int, default=S, help="listen port (default 8191; 0: any free port)")
    sub.add_argument(
        "--api-key-env",
        metavar="NAME",
        default=S,
        help=f"environment variable with the API key ({API_KEY_ENV})",
    )
    allow = "a host FlareSolverr requests may fetch besides the site's own (repeatable)"
    sub.add_argument("--allow-host", action="append", default=S, metavar="HOST[:PORT]", help=allow)
    sub.add_argument("--max-browsers", type=int, default=S, help="browsers at once (default 2)")
    sub.add_argument(
        "--browser-idle", type=float, default=S, metavar="S", help="close idle browsers after S s"
    )
    sub.add_argument(
        "--contexts-per-browser", type=int, default=S, help="sessions one warm browser holds (default 8)"
    )
    sub.add_argument("--request-timeout", type=float, default=S, metavar="S", help="per-request deadline")
    sub.add_argument("--drain-timeout", type=float, default=S, metavar="S", help="SIGTERM: wait this long")
    sub.add_argument(
        "--rate-limit", type=float, default=S, metavar="N", help="requests/s per client (0: off)"
    )
    sub.add_argument("--min-ttl", type=float, metavar="S", help="default min_ttl of GET /v1/credentials")
    sub.set_defaults(handler=run)
    return sub


_FLAGS = ("host", "port", "allow_host", "max_browsers", "contexts_per_browser", "browser_idle",
          "request_timeout", "drain_timeout", "rate_limit")  # fmt: skip


def options_from(args: argparse.Namespace, table: dict[str, object]) -> ServeOptions:
    # Checked by ServeOptions itself (unknown names: TypeError below); typed per field there.
    values: dict[str, Any] = {k: v for k, v in table.items() if k != "api_key_env"}
    for name in _FLAGS:
        if hasattr(args, name):
            values["allow_hosts" if name == "allow_host" else name] = getattr(args, name)
    if "allow_hosts" in values:
        values["allow_hosts"] = tuple(values["allow_hosts"])
    key_env = getattr(args, "api_key_env", None) or table.get("api_key_env")
    if key_env is not None and not isinstance(key_env, str):
        raise ConfigError("[serve] api_key_env must be the name of an environment variable")
    values["api_key"] = secret_from_env(key_env) if key_env else env("API_KEY")
    try:
        return ServeOptions(**values)
    except TypeError as exc:
        raise ConfigError(f"[serve]: {exc}") from None


def run(args: argparse.Namespace) -> int:
    from .server import serve

    overrides = {
        "url": args.url, "email": args.email, "state_dir": args.state_dir, "store": args.store,
        "redis_url": args.redis_url, "cdp_url": args.cdp_url, "executable": args.executable,
        "proxy": args.proxy, "ca_file": args.ca_file, "min_ttl": args.min_ttl, "lock": args.lock_timeout,
        "headless": False if args.headed else None, "password_env": args.password_env,
    }  # fmt: skip
    settings = load_settings(overrides, config_file=args.config)
    document = read_toml(args.config or env("CONFIG") or default_config_file())
    options = options_from(args, serve_table(document))
    specs = accounts_from(settings, document)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("chatgpt_browser.serve").setLevel(logging.INFO)  # one line per request
    import asyncio  # here: every other command parses serve's flags and must start fast

    code = asyncio.run(serve(settings, options, specs))
    if any(t.name.startswith("serve-work") and t.is_alive() for t in threading.enumerate()):
        # A renewal thread still blocked (e.g. on another replica's lock): do not hang the exit.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


__all__ = ["add_parser", "run"]
