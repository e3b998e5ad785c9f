"""The emulator's JSON boundary helpers: JSON scalars convert, anything else is a TypeError."""

from __future__ import annotations

import pytest

from chatgpt_browser.emulator.faults import Fault
from chatgpt_browser.emulator.jsontypes import to_float, to_int
from chatgpt_browser.emulator.options import Options


def test_scalars_convert_like_int_and_float() -> None:
    assert to_int("7") == 7 and to_int(7.9) == 7 and to_int(True) == 1
    assert to_float("1.5") == 1.5 and to_float(2) == 2.0


@pytest.mark.parametrize("value", [None, [1], {"a": 1}])
def test_non_scalars_are_type_errors(value: object) -> None:
    with pytest.raises(TypeError):
        to_int(value)
    with pytest.raises(TypeError):
        to_float(value)


def test_fault_headers_must_be_an_object() -> None:
    fault = Fault.from_dict({"route": "/x", "kind": "status", "status": "502", "headers": {"A": 1}})
    assert fault.status == 502 and fault.headers == {"A": "1"}
    with pytest.raises(TypeError):
        Fault.from_dict({"route": "/x", "kind": "status", "status": 502, "headers": ["A"]})


def test_configure_lists_are_checked() -> None:
    options = Options()
    options.update({"checks": ["pow"], "rate_limit": "5", "dwell": 1})
    assert options.checks == frozenset({"pow"}) and options.rate_limit == 5 and options.dwell == 1.0
    with pytest.raises(TypeError):
        options.update({"blocked_ips": 5})
