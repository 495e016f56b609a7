"""``OutputSpec``: a typed output as plain data (JSON round trip, pickle). Building one from a
type (pydantic) and everything done with it live in ``allm.output``."""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["OUTPUT_MODES", "OutputSpec", "is_typed_output"]

OUTPUT_MODES = ("auto", "native", "tool", "prompted")
# A bare JSON schema names JSON types (or none). Wave 1's response_format dicts name "text",
# "json_object" or "json_schema", and any other "type" stays such a dict.
_JSON_TYPES = frozenset({"object", "array", "string", "number", "integer", "boolean", "null"})


@dataclass(frozen=True, slots=True)
class OutputSpec:
    """A typed output: the original ``schema``, the Python ``type`` (``None`` for a bare schema),
    a ``name`` for the wire, ``strict`` for the wires that enforce schemas, and the ``mode``."""

    schema: dict[str, Any]
    name: str = "output"
    strict: bool = True
    mode: str = "auto"
    type: Any = None

    def _to_json_data(
        self, encode: Callable[[Any], Any], ref: Callable[[Any, str], str]
    ) -> dict[str, Any]:
        return {
            "schema": encode(self.schema),
            "name": self.name,
            "strict": self.strict,
            "mode": self.mode,
            "type": None if self.type is None else _encode_type(self.type, ref),
        }

    @classmethod
    def _from_json_data(
        cls, data: dict[str, Any], decode: Callable[[Any], Any], load: Callable[[str], Any]
    ) -> OutputSpec:
        kind = data.get("type")
        return cls(
            schema=decode(data["schema"]),
            name=data["name"],
            strict=data["strict"],
            mode=data["mode"],
            type=None if kind is None else _decode_type(kind, load),
        )


def _encode_type(kind: Any, ref: Callable[[Any, str], str]) -> Any:
    """A type as JSON: a class by import path, a generic alias as its origin and arguments."""
    if kind is None or kind is type(None):
        return "None"
    origin = typing.get_origin(kind)
    if origin is typing.Literal:
        return {"literal": list(typing.get_args(kind))}
    if origin in (typing.Union, types.UnionType):
        return {"union": [_encode_type(arg, ref) for arg in typing.get_args(kind)]}
    if origin is not None:
        return {
            "origin": ref(origin, "output type"),
            "args": [_encode_type(arg, ref) for arg in typing.get_args(kind)],
        }
    return ref(kind, "output type")


def _decode_type(data: Any, load: Callable[[str], Any]) -> Any:
    if data == "None":
        return type(None)
    if isinstance(data, str):
        return load(data)
    if "literal" in data:
        return typing.Literal[tuple(data["literal"])]
    if "union" in data:
        return typing.Union[tuple(_decode_type(arg, load) for arg in data["union"])]  # noqa: UP007
    origin = load(data["origin"])
    return origin[tuple(_decode_type(arg, load) for arg in data["args"])]


def is_typed_output(value: Any) -> bool:
    """Whether ``value`` as a ``response_format`` asks for a typed output (not a wave-1 dict)."""
    if value is None or isinstance(value, str):
        return False
    if isinstance(value, OutputSpec):
        return True
    if isinstance(value, Mapping):
        return _is_schema_type(value.get("type", "object"))
    return isinstance(value, type) or typing.get_origin(value) is not None


def _is_schema_type(kind: Any) -> bool:
    # A bare JSON schema names JSON types (or none); any other "type" is a wire format dict.
    if isinstance(kind, list):
        return bool(kind) and all(_is_schema_type(item) for item in kind)
    return kind in _JSON_TYPES
