"""Small JSON helpers shared by every provider's wire code: a value of the expected JSON type, or
an empty/absent one, so decoders read untrusted bodies without ``isinstance`` ladders."""

from __future__ import annotations

from typing import Any

from .._json import loads_wire

__all__ = ["as_dict", "as_int", "as_list", "as_str", "decode_json"]

decode_json = loads_wire  # orjson when installed, else the scanner-direct stdlib parser


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def as_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
