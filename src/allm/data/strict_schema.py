"""OpenAI's strict form of a JSON schema, shared by typed output and strict tools.

Strict mode needs ``additionalProperties: false`` and every property required on every object, so
an optional property becomes nullable; ``default`` is dropped, a ``$ref`` with sibling keys is
inlined and ``oneOf`` becomes ``anyOf``. A free-form map (``dict[str, X]``) cannot be strict.
``restore_absent`` undoes the nullable stand-ins on the values that come back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "DEFS_KEYS",
    "MAX_DEPTH",
    "allows_null",
    "defs_of",
    "is_object",
    "map_subschemas",
    "resolve_ref",
    "restore_absent",
    "strict_form",
]

MAX_DEPTH = 64
DEFS_KEYS = ("$defs", "definitions")


def defs_of(schema: Mapping[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key in DEFS_KEYS:
        value = schema.get(key)
        if isinstance(value, Mapping):
            found.update(value)
    return found


def _target(ref: Any, defs: Mapping[str, Any]) -> Any:
    if isinstance(ref, str) and ref.startswith("#/"):
        return defs.get(ref.rsplit("/", 1)[-1])
    return None


def resolve_ref(node: Any, defs: Mapping[str, Any]) -> Any:
    """``node`` with a local ``$ref`` followed (a few hops at most)."""
    for _ in range(8):
        if not isinstance(node, Mapping) or "$ref" not in node:
            return node
        target = _target(node["$ref"], defs)
        if not isinstance(target, Mapping):
            return node
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def is_object(node: Mapping[str, Any]) -> bool:
    kind = node.get("type")
    return kind == "object" or (kind is None and "properties" in node)


def map_subschemas(node: Mapping[str, Any], fn: Any) -> dict[str, Any]:
    """``node`` with ``fn`` applied to each direct subschema (properties, definitions, items,
    ``not`` and the combinator lists); every other key kept as it is."""
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("properties", *DEFS_KEYS) and isinstance(value, Mapping):
            out[key] = {name: fn(sub) for name, sub in value.items()}
        elif key in ("items", "not") and isinstance(value, Mapping):
            out[key] = fn(value)
        elif key in ("anyOf", "oneOf", "allOf", "prefixItems") and isinstance(value, list):
            out[key] = [fn(sub) for sub in value]
        else:
            out[key] = value
    return out


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
    if not isinstance(node, Mapping) or depth > MAX_DEPTH:
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and len(node) > 1:
        target = _target(ref, defs)
        if ref in inlined or not isinstance(target, Mapping):
            return {"$ref": ref}  # a recursive reference keeps the ref, without its siblings
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return _strict(merged, defs, depth + 1, inlined | {ref})
    out = map_subschemas(
        {k: v for k, v in node.items() if k != "default"},
        lambda sub: _strict(sub, defs, depth + 1, inlined),
    )
    if "oneOf" in out:
        out["anyOf"] = out.pop("oneOf")
    if is_object(node):
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


def restore_absent(value: Any, schema: Mapping[str, Any]) -> Any:
    """``value`` with the nulls a strict wire sent for absent optional properties removed, where
    the original ``schema`` does not accept null there (so the type's default applies)."""
    return _restore(value, schema, defs_of(schema), 0)


def _restore(value: Any, node: Any, defs: Mapping[str, Any], depth: int) -> Any:
    node = resolve_ref(node, defs)
    if not isinstance(node, Mapping) or depth > MAX_DEPTH:
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
            if absent and not allows_null(resolve_ref(sub, defs)):
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


def strict_form(schema: Mapping[str, Any]) -> dict[str, Any] | None:
    """``schema`` in strict mode's form, or ``None`` when strict mode cannot express it."""
    try:
        result: dict[str, Any] = _strict(schema, defs_of(schema), 0)
    except _NotStrict:
        return None
    return result
