"""OpenAI's published request schemas (tests/fixtures/openapi/openai_requests.json, trimmed from
openai/openai-openapi by trim.py there) as JSON Schema 2020-12 validators.

The document leaves most objects open (a key it does not name passes), so a misspelled or
misplaced key, the likeliest builder bug, would go unseen. ``closed`` validators treat every object
the document describes as closed: a key it does not name is an error. Objects the document marks
open (``additionalProperties`` set: JSON-schema bodies, tool parameters, metadata) stay open.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

DOCUMENT_PATH = (
    Path(__file__).resolve().parents[1] / "fixtures" / "openapi" / "openai_requests.json"
)
DOCUMENT: dict[str, Any] = json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))
CHAT_REQUEST = "CreateChatCompletionRequest"
RESPONSES_REQUEST = "CreateResponse"
_REF = "#/components/schemas/"


def _composed(schemas: dict[str, Any]) -> set[str]:
    """The components some ``allOf`` composes (closing one alone would refuse its siblings'
    keys; the composite is closed instead)."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for part in node.get("allOf", ()):
                if isinstance(part, dict) and "$ref" in part:
                    found.add(part["$ref"][len(_REF) :])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(schemas)
    return found


def _close(node: Any, *, composed_part: bool = False) -> Any:
    if isinstance(node, list):
        return [_close(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {
        key: (
            [_close(item, composed_part=True) for item in value]
            if key == "allOf"
            else {name: _close(item) for name, item in value.items()}
            if key in ("properties", "patternProperties", "$defs")
            else _close(value)
        )
        for key, value in node.items()
    }
    declares = "properties" in node or "allOf" in node
    left_open = "additionalProperties" in node or "unevaluatedProperties" in node
    if declares and not left_open and not composed_part:
        out["unevaluatedProperties"] = False
    return out


@cache
def _document(closed: bool) -> dict[str, Any]:
    if not closed:
        return DOCUMENT
    schemas = DOCUMENT["components"]["schemas"]
    parts = _composed(schemas)
    closed_schemas = {
        name: _close(schema, composed_part=name in parts) for name, schema in schemas.items()
    }
    return {**copy.deepcopy(DOCUMENT), "components": {"schemas": closed_schemas}}


@cache
def validator(name: str, *, closed: bool = True) -> Draft202012Validator:
    """A validator for one component schema (``closed``: unknown keys are errors)."""
    return Draft202012Validator({**_document(closed), "$ref": _REF + name})


def problems(instance: Any, name: str, *, closed: bool = True) -> list[str]:
    """Every way ``instance`` breaks the named schema, each as ``path: message``, deepest first
    (inside an ``anyOf`` / ``oneOf`` the closest alternative's own problem), or an empty list."""
    leaves = [_leaf(error) for error in validator(name, closed=closed).iter_errors(instance)]
    leaves.sort(key=lambda error: -len(error.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '<body>'}: {e.message}" for e in leaves]


def _leaf(error: ValidationError) -> ValidationError:
    while error.context:
        error = best_match(error.context)
    return error


def assert_valid(instance: Any, name: str, *, closed: bool = True) -> None:
    """Fail with every problem listed when ``instance`` breaks the named schema."""
    found = problems(instance, name, closed=closed)
    assert not found, f"{name}:\n  " + "\n  ".join(found[:8])
