"""allm._json reads providers' JSON with orjson when it is installed, falling back to the standard
library for what orjson refuses: the same values and the same errors either way (but integers
past 64 bits). ``loads`` stays exact."""

from __future__ import annotations

import importlib
import json
import math
import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allm import _json

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


def test_orjson_is_the_backend_in_dev() -> None:
    assert _json.FAST is True
    assert _json.loads_wire is not _json.loads


@given(JSON)
def test_both_backends_read_the_same_values(value: Any) -> None:
    text = _json.dumps(value)
    exact = json.loads(text)
    assert _json.loads(text) == exact
    assert _json.loads(text.encode()) == exact
    if not _has_long_int(exact):
        assert _json.loads_wire(text) == exact
        assert _json.loads_wire(text.encode()) == exact


def _has_long_int(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return not -(2**63) <= value < 2**64
    if isinstance(value, list):
        return any(_has_long_int(item) for item in value)
    if isinstance(value, dict):
        return any(_has_long_int(item) for item in value.values())
    return False


def test_exact_loads_keeps_long_integers() -> None:
    assert _json.loads(str(2**70)) == 2**70
    assert _json.loads_wire(str(2**70)) == float(2**70)  # orjson's reading, documented


@pytest.mark.parametrize(
    "text",
    ['{"a": NaN}', "[Infinity, -Infinity]", '"\\ud800"', ' {"a": 1} ', "1.5e3"],
)
def test_what_orjson_refuses_is_read_as_the_standard_library_reads_it(text: str) -> None:
    ours, theirs = _json.loads_wire(text), json.loads(text)
    if isinstance(theirs, dict) and isinstance(theirs["a"], float):
        assert math.isnan(ours["a"])
    elif isinstance(theirs, list) and all(isinstance(x, float) for x in theirs):
        assert ours == theirs
    else:
        assert ours == theirs


@pytest.mark.parametrize("text", ["", "{", "[1,]", '{"a": 1} x', b"\xff"])
def test_bad_json_raises_the_standard_library_error(text: str | bytes) -> None:
    with pytest.raises(ValueError):
        _json.loads_wire(text)
    with pytest.raises(ValueError):
        _json.loads(text)


def test_without_orjson_the_standard_library_parses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "orjson", None)  # import orjson now fails
    try:
        plain = importlib.reload(_json)
        assert plain.FAST is False
        assert plain.loads_wire is plain.loads
        assert plain.loads_wire('{"a": [1, 2.5, "x"]}') == {"a": [1, 2.5, "x"]}
    finally:
        monkeypatch.undo()
        importlib.reload(_json)
    assert _json.FAST is True


@given(JSON)
def test_dumps_writes_what_the_standard_library_writes(value: Any) -> None:
    assert _json.dumps(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def test_a_failed_dumps_leaves_the_next_one_unharmed() -> None:
    shared = {"a": 1}
    cycle: list[Any] = [shared]
    cycle.append(cycle)
    for bad, error in (
        (cycle, "Circular reference detected"),
        ({"x": shared, "y": math.nan}, "Out of range float"),
        ({"x": shared, "y": object()}, "not JSON serializable"),
    ):
        with pytest.raises((ValueError, TypeError), match=error):
            _json.dumps(bad)
        # ``shared`` was inside the failed value: it is no cycle now
        assert _json.dumps([shared, shared]) == '[{"a":1},{"a":1}]'


def test_each_thread_encodes_on_its_own() -> None:
    import threading

    shared = {"k": list(range(50))}
    seen: list[str] = []

    def work() -> None:
        for _ in range(200):
            seen.append(_json.dumps({"a": shared, "b": shared}))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(seen) == {_json.dumps({"a": shared, "b": shared})}
    assert len(seen) == 800
