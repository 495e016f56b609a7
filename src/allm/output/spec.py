"""Building an ``OutputSpec`` (``allm.data.output``) from a type or a bare schema: ``output()``.

The spec keeps the original type (a pydantic model, a dataclass, a ``TypedDict``, ``list[...]``,
anything ``pydantic.TypeAdapter`` takes) or ``None`` for a bare JSON schema, and the original JSON
schema. Wires get rewritten copies of that schema (``allm.output.schema``); answers are always
validated against the original.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ..data.output import OUTPUT_MODES, OutputSpec, is_typed_output
from ..errors import ConfigurationError, ValidationError

__all__ = ["MODES", "OutputSpec", "as_spec", "is_typed_output", "output"]

MODES = OUTPUT_MODES
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


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
