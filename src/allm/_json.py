"""The one place allm calls a JSON library, so a faster one can be swapped in later."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["JSONDecodeError", "dumps", "loads"]

JSONDecodeError = json.JSONDecodeError

_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
_decoder = json.JSONDecoder()


def dumps(value: Any) -> str:
    """Compact JSON; ``NaN`` and infinities are refused (they are not JSON)."""
    return _encoder.encode(value)


_scan = _decoder.scan_once  # type: ignore[attr-defined]  # set by JSONDecoder.__init__


def loads(text: str | bytes) -> Any:
    """Parse JSON text (bytes are read as UTF-8).

    One JSON document per stream event is the hot path of every adapter: the scanner is called
    directly, skipping the two whitespace regex matches ``json.loads`` makes around it.
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
