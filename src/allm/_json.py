"""The one place allm calls a JSON library.

``loads`` is exact (the standard library): allm's own values, tool arguments. ``loads_wire``
reads what providers send (stream events, whole answer bodies), the hot path of every adapter:
it uses ``orjson`` when it is importable (the ``fast`` extra), several times faster. Whatever
orjson refuses (``NaN``, lone surrogates, bad JSON) is parsed again by the standard library, so
what is accepted and the errors raised are the same with and without it; the one difference is
that orjson reads an integer literal outside the 64-bit range as a float. Encoding always uses
the standard library: it refuses ``NaN`` where orjson would write ``null``.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["FAST", "JSONDecodeError", "dumps", "loads", "loads_wire"]

JSONDecodeError = json.JSONDecodeError

_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
_decoder = json.JSONDecoder()


def dumps(value: Any) -> str:
    """Compact JSON; ``NaN`` and infinities are refused (they are not JSON)."""
    return _encoder.encode(value)


_scan = _decoder.scan_once  # type: ignore[attr-defined]  # set by JSONDecoder.__init__


def loads(text: str | bytes) -> Any:
    """Parse JSON text exactly, with the standard library (bytes are read as UTF-8).

    The scanner is called directly, skipping the two whitespace regex matches ``json.loads``
    makes around it.
    """
    if isinstance(text, bytes | bytearray):
        text = text.decode("utf-8")
    try:
        value, end = _scan(text, 0)
    except StopIteration:
        return _decoder.decode(text)  # leading whitespace or not JSON: the careful path
    if end != len(text) and text[end:].strip():
        return _decoder.decode(text)  # raises "Extra data" with the usual message
    return value


try:
    import orjson
except ImportError:  # pragma: no cover - the fast extra is part of dev
    FAST = False
    loads_wire = loads
else:
    FAST = True
    _fast_loads = orjson.loads
    _FastError = orjson.JSONDecodeError

    def loads_wire(text: str | bytes) -> Any:
        """Parse a provider's JSON (bytes are read as UTF-8): orjson, else the standard library."""
        try:
            return _fast_loads(text)
        except _FastError:
            return loads(text)
