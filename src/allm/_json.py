"""The one place allm calls a JSON library.

Parsing uses ``orjson`` when it is importable (the ``fast`` extra): one JSON document per stream
event is the hot path of every adapter, and orjson parses it several times faster than the
standard library. Whatever orjson refuses (``NaN``, integers past 64 bits, lone surrogates, bad
JSON) is parsed again by the standard library, so what is accepted and the errors raised are
the same with and without it. Encoding always uses the standard library: it refuses ``NaN``
where orjson would write ``null``.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["FAST", "JSONDecodeError", "dumps", "loads"]

JSONDecodeError = json.JSONDecodeError

_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
_decoder = json.JSONDecoder()


def dumps(value: Any) -> str:
    """Compact JSON; ``NaN`` and infinities are refused (they are not JSON)."""
    return _encoder.encode(value)


_scan = _decoder.scan_once  # type: ignore[attr-defined]  # set by JSONDecoder.__init__


def stdlib_loads(text: str | bytes) -> Any:
    """Parse JSON text with the standard library (bytes are read as UTF-8).

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
    loads = stdlib_loads
else:
    FAST = True
    _fast_loads = orjson.loads
    _FastError = orjson.JSONDecodeError

    def loads(text: str | bytes) -> Any:
        """Parse JSON text (bytes are read as UTF-8): orjson, else the standard library."""
        try:
            return _fast_loads(text)
        except _FastError:
            return stdlib_loads(text)
