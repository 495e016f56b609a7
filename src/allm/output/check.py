"""Validating an answer against the original type (pydantic) or bare schema (``jsonschema``)."""

from __future__ import annotations

import functools
from typing import Any

from ..errors import ConfigurationError, FieldError, OutputValidationError
from .schema import ROOT_KEY, is_wrapped, restore_absent
from .spec import OutputSpec

__all__ = ["answer_json", "check_available", "validate_answer"]

_FENCE = "```"


def answer_json(text: str) -> str:
    """The JSON inside an answer: the text itself, the body of its first Markdown code fence, or
    what lies between the first opening and the last closing bracket when prose surrounds it."""
    stripped = text.strip()
    fence = stripped.find(_FENCE)
    if fence >= 0:
        body = stripped[fence + len(_FENCE) :]
        newline = body.find("\n")
        body = body[newline + 1 :] if newline >= 0 else ""
        end = body.find(_FENCE)
        return body[:end] if end >= 0 else body
    if stripped[:1] in ("{", "[") or not stripped:
        return stripped
    starts = [index for index in (stripped.find("{"), stripped.find("[")) if index >= 0]
    end = max(stripped.rfind("}"), stripped.rfind("]"))
    if not starts or end < min(starts):
        return stripped
    return stripped[min(starts) : end + 1]


@functools.lru_cache(maxsize=256)
def _cached_adapter(kind: Any) -> Any:
    import pydantic

    return pydantic.TypeAdapter(kind)


def _adapter(kind: Any) -> Any:
    try:
        return _cached_adapter(kind)
    except TypeError:  # an unhashable type (Annotated with unhashable metadata)
        import pydantic

        return pydantic.TypeAdapter(kind)


def _schema_validator(spec: OutputSpec) -> Any:
    import jsonschema  # type: ignore[import-untyped]

    cls = jsonschema.validators.validator_for(spec.schema, default=jsonschema.Draft202012Validator)
    return cls(spec.schema)


def check_available(spec: OutputSpec) -> None:
    """Raise ``ConfigurationError`` (before any I/O) when a needed extra is missing."""
    missing = []
    for module, extra, what in (
        ("pydantic_core", "pydantic", "parsing typed output"),
        ("jsonschema", "jsonschema", "validating against a bare JSON schema"),
    ):
        if module == "jsonschema" and spec.type is not None:
            continue
        try:
            __import__(module)
        except ImportError:  # pragma: no cover - exercised in an environment without the extra
            missing.append(f"{what} needs {module} (pip install 'allm-py[{extra}]')")
    if missing:  # pragma: no cover
        raise ConfigurationError("invalid_option", problems=missing)


def _failure(text: str, message: str, errors: list[FieldError]) -> OutputValidationError:
    return OutputValidationError(message=message, errors=errors, raw_text=text)


def validate_answer(spec: OutputSpec, text: str) -> tuple[Any, OutputValidationError | None]:
    """``(value, None)`` when ``text`` holds a valid answer, else ``(None, error)``."""
    from pydantic_core import from_json

    if spec.type is not None and "null" not in text and not is_wrapped(spec):
        import pydantic

        try:  # the common case in one pass: parse and validate together
            return _adapter(spec.type).validate_json(answer_json(text)), None
        except pydantic.ValidationError:
            pass  # the path below says what is wrong, the same way for every answer
    try:
        data = from_json(answer_json(text))
    except ValueError as exc:
        return None, _failure(text, f"the answer is not valid JSON: {exc}", [((), "invalid_json")])
    if is_wrapped(spec):
        if not isinstance(data, dict) or ROOT_KEY not in data:
            message = f"the answer has no {ROOT_KEY!r} member"
            return None, _failure(text, message, [((ROOT_KEY,), "missing")])
        data = data[ROOT_KEY]
    if "null" in text:  # only a null can stand for an absent optional property
        data = restore_absent(data, spec.schema)
    if spec.type is not None:
        import pydantic

        try:
            return _adapter(spec.type).validate_python(data), None
        except pydantic.ValidationError as exc:
            problems = exc.errors(include_url=False)
            errors = [(tuple(item["loc"]), str(item["type"])) for item in problems]
            lines = [f"{_where(item['loc'])}: {item['msg']}" for item in problems]
            return None, _failure(text, "; ".join(lines), errors)
    found = sorted(_schema_validator(spec).iter_errors(data), key=lambda e: list(e.absolute_path))
    if not found:
        return data, None
    errors = [(tuple(e.absolute_path), str(e.validator)) for e in found]
    lines = [f"{_where(tuple(e.absolute_path))}: {e.message}" for e in found]
    return None, _failure(text, "; ".join(lines), errors)


def _where(path: Any) -> str:
    return ".".join(str(part) for part in path) or "<root>"
