"""`python -m chatgpt_browser.emulator` / `chatgpt-browser emulator`: run the emulator.

stdout carries exactly one JSON line (the ready line); logs go to stderr.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence

from .app import Servers, serve_forever
from .flags import parse_options


def ready_line(servers: Servers) -> str:
    options = servers.state.options
    return json.dumps(
        {
            "url": servers.url,
            "auth_url": servers.auth_url,
            "admin_url": servers.admin_url,
            "admin_token": servers.admin_token,
            "accounts": [account.to_dict() for account in options.accounts],
            "pid": os.getpid(),
            "ca_file": servers.ca_file,
        }
    )


def main(argv: Sequence[str] | None = None) -> int:
    try:
        options, log_level = parse_options(argv)
    except (ValueError, OSError) as exc:
        print(f"chatgpt-browser emulator: {exc}", file=sys.stderr)
        return 2
    root = logging.getLogger("chatgpt_browser.emulator")
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(log_level.upper())
    root.propagate = False

    def on_ready(servers: Servers) -> None:
        sys.stdout.write(ready_line(servers) + "\n")
        sys.stdout.flush()

    try:
        asyncio.run(serve_forever(options, on_ready))
    except OSError as exc:
        print(f"chatgpt-browser emulator: cannot serve: {exc}", file=sys.stderr)
        return 1
    except ImportError as exc:  # --tls without the cryptography package
        print(
            f"chatgpt-browser emulator: {exc.name or exc} is missing; --tls needs "
            "'pip install chatgpt-browser[encryption]'",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
