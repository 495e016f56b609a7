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


def loads(text: str | bytes) -> Any:
    """Parse JSON text (bytes are read as UTF-8)."""
    if isinstance(text, bytes | bytearray):
        text = text.decode("utf-8")
    return _decoder.decode(text)
