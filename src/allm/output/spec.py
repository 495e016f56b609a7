"""``OutputSpec``: what a typed output asks for, as plain data that JSON-round-trips and pickles.

The spec keeps the original type (a pydantic model, a dataclass, a ``TypedDict``, ``list[...]``,
anything ``pydantic.TypeAdapter`` takes) or ``None`` for a bare JSON schema, and the original JSON
schema. Wires get rewritten copies of that schema (``allm.output.schema``); answers are always
validated against the original.
"""

from __future__ import annotations

import functools
import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from .. import codec
from ..errors import ConfigurationError, ValidationError

__all__ = ["MODES", "OutputSpec", "as_spec", "is_typed_output", "output"]

MODES = ("auto", "native", "tool", "prompted")
# The shapes of wave 1's ``response_format`` dicts; any other mapping is a bare JSON schema.
_WIRE_FORMAT_TYPES = frozenset({"text", "json_object", "json_schema"})
_JSON_TYPES = frozenset({"object", "array", "string", "number", "integer", "boolean", "null"})
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


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


codec.register(OutputSpec)


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


def _wire_name(text: Any) -> str:
    name = _NAME_UNSAFE.sub("_", str(text or "")).strip("_")[:64]
    return name or "output"


@functools.lru_cache(maxsize=256)
def _cached_schema(kind: Any) -> dict[str, Any]:
    return _schema_of(kind)


def _schema_for(kind: Any) -> dict[str, Any]:
    """The type's JSON schema, built once per type (every rewrite works on a copy)."""
    try:
        return _cached_schema(kind)
    except TypeError:  # an unhashable type
        return _schema_of(kind)


def _schema_of(kind: Any) -> dict[str, Any]:
    try:
        import pydantic
    except ImportError:  # pragma: no cover - exercised in an environment without pydantic
        raise ConfigurationError(
            "invalid_option",
            problems=[
                "a Python type as response_format needs pydantic "
                "(pip install 'allm-py[pydantic]'); or pass a JSON schema dict"
            ],
        ) from None
    try:
        return dict(pydantic.TypeAdapter(kind).json_schema())
    except Exception as exc:  # pydantic's schema and definition errors
        raise ValidationError(
            "invalid_request",
            f"response_format {kind!r} has no JSON schema: {exc}",
            errors=[(("response_format",), "unsupported_output_type")],
        ) from None


def output(
    type_or_schema: Any, name: str | None = None, strict: bool = True, mode: str = "auto"
) -> OutputSpec:
    """A typed output for ``response_format``: a Python type (validated with pydantic) or a bare
    JSON-schema dict (validated with ``jsonschema``). ``mode`` is ``"native"`` (the provider's
    JSON-schema mode), ``"tool"`` (a forced tool), ``"prompted"`` (the schema in the prompt) or
    ``"auto"`` (the best the model supports)."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    if mode not in MODES:
        problems.append((("response_format", "mode"), "unknown"))
    if not isinstance(strict, bool):
        problems.append((("response_format", "strict"), "not_a_bool"))
    if name is not None and not isinstance(name, str):
        problems.append((("response_format", "name"), "not_a_string"))
    if problems:
        raise ValidationError("invalid_request", errors=problems)
    if isinstance(type_or_schema, OutputSpec):
        changes: dict[str, Any] = {"strict": strict, "mode": mode}
        if name is not None:
            changes["name"] = _wire_name(name)
        return replace(type_or_schema, **changes)
    if isinstance(type_or_schema, Mapping):
        if not is_typed_output(type_or_schema):
            raise ValidationError(
                "invalid_request",
                "allm.output() takes a type or a JSON schema, not a response_format dict",
                errors=[(("response_format",), "not_a_schema")],
            )
        from ..data.tools import normalize_schema

        schema = normalize_schema(type_or_schema)
        return OutputSpec(schema, _wire_name(name or schema.get("title")), strict, mode)
    schema = _schema_for(type_or_schema)
    default = getattr(type_or_schema, "__name__", None) or schema.get("title")
    return OutputSpec(schema, _wire_name(name or default), strict, mode, type_or_schema)


def as_spec(value: Any) -> OutputSpec | None:
    """The ``OutputSpec`` a ``response_format`` value asks for, or ``None`` (text, wave-1 dicts)."""
    if isinstance(value, OutputSpec):
        return value
    if not is_typed_output(value):
        return None
    return output(value)
