"""The environment our child processes (Playwright's driver, Chromium) start with.

Ours minus our own `CHATGPT_BROWSER_*` variables and minus any variable whose value is a
secret we were given (a password the user named by variable): the password reaches the
browser only by being typed into the site's page, never through `/proc/<pid>/environ`.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path

from ..config import APP_NAME, ENV_PREFIX


def child_environment(
    secrets: Collection[str] = (), environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """`environ` (default ours) without our `CHATGPT_BROWSER_*` variables and without any
    variable whose value is one of `secrets` (e.g. a password the user named by variable)."""
    source = dict(os.environ if environ is None else environ)
    hidden = {s for s in secrets if s}
    return {k: v for k, v in source.items() if not k.startswith(ENV_PREFIX) and v not in hidden}


_ENVIRON_LOCK = threading.Lock()


@contextlib.contextmanager
def driver_environment(secrets: Collection[str]) -> Iterator[None]:
    """The environment the Playwright driver copies when it starts: ours without our
    variables and secrets (set only around that moment, under a lock), plus Node's
    compile cache (NODE_COMPILE_CACHE: the driver's start, a fixed cost of every
    harvest, drops by ~65 ms), never over the user's own compile-cache choice."""
    with _ENVIRON_LOCK:
        saved = dict(os.environ)
        keep = child_environment(secrets, saved)
        try:
            for name in set(saved) - set(keep):
                del os.environ[name]
            if "NODE_COMPILE_CACHE" not in keep and "NODE_DISABLE_COMPILE_CACHE" not in keep:
                import platformdirs

                os.environ["NODE_COMPILE_CACHE"] = str(Path(platformdirs.user_cache_dir(APP_NAME)) / "node")
            yield
        finally:
            os.environ.pop("NODE_COMPILE_CACHE", None)
            os.environ.update(saved)


__all__ = ["child_environment", "driver_environment"]
