"""Per-wire copies of an output schema. The original is never changed: answers are validated
against the original type, and ``restore_absent`` undoes the one rewrite that changes meaning
(strict mode's nullable stand-ins for optional properties).

* every wire: a root that is not an object is wrapped as ``{"response": ...}`` (OpenAI's strict
  mode and every tool's parameters need an object root); a root ``$ref`` is inlined;
* OpenAI strict: ``additionalProperties: false`` and every property required on every object,
  the optional ones made nullable; ``default`` dropped; a ``$ref`` with sibling keys inlined
  (strict mode refuses siblings); ``oneOf`` becomes ``anyOf``. A schema with a free-form map
  (``dict[str, X]``) cannot be strict: it is sent as it is, with ``strict: false``;
* Gemini: ``anyOf [X, null]`` becomes ``X`` with ``nullable: true`` and objects get
  ``propertyOrdering`` (the order of the type's fields); the adapter's own sanitizer then drops
  the keys Gemini's ``Schema`` rejects and inlines ``$ref``s;
* Anthropic native (``output_config.format``): ``additionalProperties: false`` on every object and
  the constraints it does not enforce (numeric bounds, string lengths, item counts above one)
  moved into the description; Anthropic tools take the wrapped original.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..data.strict_schema import (
    DEFS_KEYS,
    MAX_DEPTH,
    allows_null,
    defs_of,
    is_object,
    map_subschemas,
    resolve_ref,
    restore_absent,
    strict_form,
)
from .spec import OutputSpec

__all__ = [
    "ROOT_KEY",
    "allows_null",
    "anthropic_native_schema",
    "base_schema",
    "gemini_schema",
    "is_wrapped",
    "openai_schema",
    "restore_absent",
]

ROOT_KEY = "response"
_ANTHROPIC_UNENFORCED = (
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "maxItems",
)


def is_wrapped(spec: OutputSpec) -> bool:
    """Whether the wire schema wraps the root under ``ROOT_KEY`` (the root is not an object)."""
    root = resolve_ref(spec.schema, defs_of(spec.schema))
    return not (isinstance(root, Mapping) and is_object(root))


def base_schema(spec: OutputSpec) -> dict[str, Any]:
    """The original schema with an object root: a root ``$ref`` inlined, else wrapped."""
    schema = dict(spec.schema)
    defs = {key: schema.pop(key) for key in DEFS_KEYS if key in schema}
    if is_wrapped(spec):
        wrapped: dict[str, Any] = {
            "type": "object",
            "properties": {ROOT_KEY: schema},
            "required": [ROOT_KEY],
        }
        return {**wrapped, **defs}
    root = resolve_ref(schema, defs_of(defs))
    return {**root, **defs}


def openai_schema(spec: OutputSpec) -> tuple[dict[str, Any], bool]:
    """The schema for OpenAI (both wires) and whether it is sent with ``strict: true``."""
    base = base_schema(spec)
    if not spec.strict:
        return base, False
    strict = strict_form(base)
    return (base, False) if strict is None else (strict, True)


def _gemini(node: Any, depth: int) -> Any:
    if not isinstance(node, Mapping) or depth > MAX_DEPTH:
        return node
    branches = node.get("anyOf")
    if isinstance(branches, list):
        others = [
            sub for sub in branches if not (isinstance(sub, Mapping) and sub == {"type": "null"})
        ]
        if len(others) == 1 and len(others) < len(branches) and isinstance(others[0], Mapping):
            siblings = {k: v for k, v in node.items() if k not in ("anyOf", "default")}
            return _gemini({**others[0], **siblings, "nullable": True}, depth + 1)
    out = map_subschemas(node, lambda sub: _gemini(sub, depth + 1))
    if isinstance(node.get("properties"), Mapping) and node["properties"]:
        out["propertyOrdering"] = list(node["properties"])
    return out


def gemini_schema(spec: OutputSpec) -> dict[str, Any]:
    """The schema for Gemini's ``responseSchema`` (before the adapter's sanitizer)."""
    result: dict[str, Any] = _gemini(base_schema(spec), 0)
    return result


def _unenforced(key: str, value: Any) -> bool:
    return key in _ANTHROPIC_UNENFORCED or (key == "minItems" and value not in (0, 1))


def _anthropic(node: Any, depth: int) -> Any:
    if not isinstance(node, Mapping) or depth > MAX_DEPTH:
        return node
    notes = [f"{key}: {value}" for key, value in node.items() if _unenforced(key, value)]
    kept = {key: value for key, value in node.items() if not _unenforced(key, value)}
    out = map_subschemas(kept, lambda sub: _anthropic(sub, depth + 1))
    if notes:
        described = out.get("description")
        hint = "(" + ", ".join(notes) + ")"
        out["description"] = f"{described} {hint}" if described else hint
    if is_object(node) and node.get("additionalProperties") in (None, True):
        out["additionalProperties"] = False
    return out


def anthropic_native_schema(spec: OutputSpec) -> dict[str, Any]:
    """The schema for Anthropic's ``output_config.format``."""
    result: dict[str, Any] = _anthropic(base_schema(spec), 0)
    return result
