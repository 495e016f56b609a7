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
_MAX_DEPTH = 64
_DEFS_KEYS = ("$defs", "definitions")
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


def _defs(schema: Mapping[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key in _DEFS_KEYS:
        value = schema.get(key)
        if isinstance(value, Mapping):
            found.update(value)
    return found


def _target(ref: Any, defs: Mapping[str, Any]) -> Any:
    if isinstance(ref, str) and ref.startswith("#/"):
        return defs.get(ref.rsplit("/", 1)[-1])
    return None


def _resolve(node: Any, defs: Mapping[str, Any]) -> Any:
    """``node`` with a local ``$ref`` followed (a few hops at most)."""
    for _ in range(8):
        if not isinstance(node, Mapping) or "$ref" not in node:
            return node
        target = _target(node["$ref"], defs)
        if not isinstance(target, Mapping):
            return node
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _is_object(node: Mapping[str, Any]) -> bool:
    kind = node.get("type")
    return kind == "object" or (kind is None and "properties" in node)


def _map_subschemas(node: Mapping[str, Any], fn: Any) -> dict[str, Any]:
    """``node`` with ``fn`` applied to each direct subschema (properties, definitions, items,
    ``not`` and the combinator lists); every other key kept as it is."""
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("properties", *_DEFS_KEYS) and isinstance(value, Mapping):
            out[key] = {name: fn(sub) for name, sub in value.items()}
        elif key in ("items", "not") and isinstance(value, Mapping):
            out[key] = fn(value)
        elif key in ("anyOf", "oneOf", "allOf", "prefixItems") and isinstance(value, list):
            out[key] = [fn(sub) for sub in value]
        else:
            out[key] = value
    return out


def is_wrapped(spec: OutputSpec) -> bool:
    """Whether the wire schema wraps the root under ``ROOT_KEY`` (the root is not an object)."""
    root = _resolve(spec.schema, _defs(spec.schema))
    return not (isinstance(root, Mapping) and _is_object(root))


def base_schema(spec: OutputSpec) -> dict[str, Any]:
    """The original schema with an object root: a root ``$ref`` inlined, else wrapped."""
    schema = dict(spec.schema)
    defs = {key: schema.pop(key) for key in _DEFS_KEYS if key in schema}
    if is_wrapped(spec):
        wrapped: dict[str, Any] = {
            "type": "object",
            "properties": {ROOT_KEY: schema},
            "required": [ROOT_KEY],
        }
        return {**wrapped, **defs}
    root = _resolve(schema, _defs(defs))
    return {**root, **defs}


def allows_null(node: Any) -> bool:
    """Whether a schema accepts ``null``."""
    if not isinstance(node, Mapping):
        return node is True
    kind = node.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    if None in (node.get("enum") or ()):
        return True
    return any(allows_null(sub) for sub in node.get("anyOf") or node.get("oneOf") or ())


def _nullable(node: dict[str, Any]) -> dict[str, Any]:
    if allows_null(node):
        return node
    kind = node.get("type")
    plain = not any(key in node for key in ("enum", "const", "$ref", "anyOf", "oneOf", "allOf"))
    if isinstance(kind, str) and plain:
        return {**node, "type": [kind, "null"]}
    return {"anyOf": [node, {"type": "null"}]}


class _NotStrict(Exception):
    """The schema has a part strict mode cannot express (a free-form map)."""


def _strict(
    node: Any, defs: Mapping[str, Any], depth: int, inlined: frozenset[str] = frozenset()
) -> Any:
    if not isinstance(node, Mapping) or depth > _MAX_DEPTH:
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and len(node) > 1:
        target = _target(ref, defs)
        if ref in inlined or not isinstance(target, Mapping):
            return {"$ref": ref}  # a recursive reference keeps the ref, without its siblings
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return _strict(merged, defs, depth + 1, inlined | {ref})
    out = _map_subschemas(
        {k: v for k, v in node.items() if k != "default"},
        lambda sub: _strict(sub, defs, depth + 1, inlined),
    )
    if "oneOf" in out:
        out["anyOf"] = out.pop("oneOf")
    if _is_object(node):
        extra = node.get("additionalProperties")
        if extra not in (None, False) and not node.get("properties"):
            raise _NotStrict
        properties = out.get("properties") or {}
        required = set(node.get("required") or ())
        out["properties"] = {
            name: sub if name in required else _nullable(sub) for name, sub in properties.items()
        }
        out["required"] = list(properties)
        out["additionalProperties"] = False
    return out


def openai_schema(spec: OutputSpec) -> tuple[dict[str, Any], bool]:
    """The schema for OpenAI (both wires) and whether it is sent with ``strict: true``."""
    base = base_schema(spec)
    if not spec.strict:
        return base, False
    try:
        return _strict(base, _defs(base), 0), True
    except _NotStrict:
        return base, False


def _gemini(node: Any, depth: int) -> Any:
    if not isinstance(node, Mapping) or depth > _MAX_DEPTH:
        return node
    branches = node.get("anyOf")
    if isinstance(branches, list):
        others = [
            sub for sub in branches if not (isinstance(sub, Mapping) and sub == {"type": "null"})
        ]
        if len(others) == 1 and len(others) < len(branches) and isinstance(others[0], Mapping):
            siblings = {k: v for k, v in node.items() if k not in ("anyOf", "default")}
            return _gemini({**others[0], **siblings, "nullable": True}, depth + 1)
    out = _map_subschemas(node, lambda sub: _gemini(sub, depth + 1))
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
    if not isinstance(node, Mapping) or depth > _MAX_DEPTH:
        return node
    notes = [f"{key}: {value}" for key, value in node.items() if _unenforced(key, value)]
    kept = {key: value for key, value in node.items() if not _unenforced(key, value)}
    out = _map_subschemas(kept, lambda sub: _anthropic(sub, depth + 1))
    if notes:
        described = out.get("description")
        hint = "(" + ", ".join(notes) + ")"
        out["description"] = f"{described} {hint}" if described else hint
    if _is_object(node) and node.get("additionalProperties") in (None, True):
        out["additionalProperties"] = False
    return out


def anthropic_native_schema(spec: OutputSpec) -> dict[str, Any]:
    """The schema for Anthropic's ``output_config.format``."""
    result: dict[str, Any] = _anthropic(base_schema(spec), 0)
    return result


def restore_absent(value: Any, schema: Mapping[str, Any]) -> Any:
    """``value`` with the nulls a strict wire sent for absent optional properties removed, where
    the original ``schema`` does not accept null there (so the type's default applies)."""
    return _restore(value, schema, _defs(schema), 0)


def _restore(value: Any, node: Any, defs: Mapping[str, Any], depth: int) -> Any:
    node = _resolve(node, defs)
    if not isinstance(node, Mapping) or depth > _MAX_DEPTH:
        return value
    if isinstance(value, dict):
        properties = node.get("properties")
        if not isinstance(properties, Mapping):
            return _restore_branch(value, node, defs, depth)
        required = set(node.get("required") or ())
        restored = {}
        for name, item in value.items():
            sub = properties.get(name)
            absent = item is None and name not in required and sub is not None
            if absent and not allows_null(_resolve(sub, defs)):
                continue
            restored[name] = item if sub is None else _restore(item, sub, defs, depth + 1)
        return restored
    if isinstance(value, list):
        items = node.get("items")
        if isinstance(items, Mapping):
            return [_restore(item, items, defs, depth + 1) for item in value]
        return _restore_branch(value, node, defs, depth)
    return value


def _restore_branch(
    value: Any, node: Mapping[str, Any], defs: Mapping[str, Any], depth: int
) -> Any:
    # ``Optional[Model]`` and other unions: follow the one branch that is not ``null``.
    branches = [sub for sub in node.get("anyOf") or node.get("oneOf") or () if not allows_null(sub)]
    if len(branches) == 1:
        return _restore(value, branches[0], defs, depth + 1)
    return value
