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
import threading
from typing import Any

__all__ = ["FAST", "JSONDecodeError", "dumps", "loads", "loads_wire"]

JSONDecodeError = json.JSONDecodeError

_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
_decoder = json.JSONDecoder()


def _new_encode() -> Any:
    """The C encoder that ``_encoder.encode`` builds on every call, built once per thread (its
    cycle check's dict is its own), or ``_encoder.encode`` where there is none."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython has the accelerator
        return None
    markers: dict[int, Any] = {}
    return make(
        markers,
        _encoder.default,
        json.encoder.encode_basestring,
        None,
        ":",
        ",",
        False,
        False,
        False,
    )


_local = threading.local()


def dumps(value: Any) -> str:
    """Compact JSON; ``NaN`` and infinities are refused (they are not JSON)."""
    try:
        encode = _local.encode
    except AttributeError:
        encode = _local.encode = _new_encode()
    if encode is None:  # pragma: no cover
        return _encoder.encode(value)
    try:
        return "".join(encode(value, 0))
    except BaseException:
        _local.encode = _new_encode()  # a failure leaves its containers in the cycle check
        raise


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
