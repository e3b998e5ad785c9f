"""One way to write a private file: atomically, mode 0600, synced before it replaces."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def write_private(path: Path, data: bytes) -> None:
    """Replace `path` with `data`: a reader sees the old file or the new one, never half
    of either; on failure (OSError) the old file is as it was and no temporary is left."""
    import tempfile  # here: a job that only reads credentials never needs it

    folder = path.parent if str(path.parent) else Path(".")
    # A dot-name in the same folder: `os.replace` is atomic there and listings skip it.
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")  # 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


__all__ = ["write_private"]
