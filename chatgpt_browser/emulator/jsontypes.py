"""JSON shapes the emulator sends and receives.

Values decoded from a request are `object` until checked at the boundary: the type
checker then makes every handler prove what it reads (isinstance), instead of an
unchecked value letting a malformed body reach the logic.
"""

from __future__ import annotations

from collections.abc import Mapping

#: A JSON object as `json.loads` returns it, or as a handler builds one to send.
JSONObject = dict[str, object]
#: A read-only view of one (what validators accept).
JSONMapping = Mapping[str, object]


def to_int(value: object) -> int:
    """`int(value)` for a JSON scalar; TypeError for anything else, as `int()` raises."""
    if isinstance(value, (int, float, str)):
        return int(value)
    raise TypeError(f"expected a number, got {type(value).__name__}")


def to_float(value: object) -> float:
    """`float(value)` for a JSON scalar; TypeError for anything else, as `float()` raises."""
    if isinstance(value, (int, float, str)):
        return float(value)
    raise TypeError(f"expected a number, got {type(value).__name__}")
