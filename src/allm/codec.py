"""The JSON form of every Layer A value: the only module that knows it.

Every value is a tagged envelope ``{"__type__": "Message", "data": {every field, nulls included}}``;
the outermost one also carries ``"v": SCHEMA_VERSION``. Inside the fields of a known type, tuples
are JSON arrays and enums their strings. Inside free-form values (``metadata``, ``raw``, a raw
chunk's data) the few non-JSON types are tagged too: ``tuple``, ``bytes``, a mapping that
itself has a ``"__type__"`` key, and a typed-output value (a pydantic model or a dataclass of the
caller's, by import path and JSON dump, rebuilt with pydantic when its module is imported). An
unknown tag nested inside a value is left as the raw envelope, so newer data still loads; an
unknown tag at the top fails.

Decoding is strict where the data is a closed set: an unknown role, finish reason, status or
error reason fails with ``ValidationError("invalid_request", [("_unknown", "atom_decode_failed")])``.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import enum
import importlib
import sys
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

from . import _json
from .errors import AllmError, ValidationError

__all__ = ["SCHEMA_VERSION", "decode", "encode", "from_json", "register", "to_json"]

SCHEMA_VERSION = 1
_TAG = "__type__"
T = TypeVar("T")

# name -> class; filled lazily so importing allm does not pay for it. Values from above Layer A
# (the engine, the retry policy) register themselves when their module loads; the codec only
# names those modules, loading them by path as the adapter registry loads adapters.
_registry: dict[str, type[Any]] = {}
_filled = False
_SELF_REGISTERING = (
    "allm.engine",
    "allm.retry",
    "allm.limits",
    "allm.middleware.builtins",
    "allm.history",
)
_by_class: dict[type[Any], str] = {}
_field_plans: dict[type[Any], tuple[tuple[str, str, Any], ...]] = {}


def register(cls: type[Any], name: str | None = None) -> type[Any]:
    """Add a dataclass (or an ``AllmError`` kind) to the JSON registry under ``name``."""
    tag = name or cls.__name__
    _registry[tag] = cls
    _by_class[cls] = tag
    return cls


def _ensure_registry() -> None:
    global _filled
    if _filled:
        return
    _filled = True
    from . import errors, events
    from .data import (
        audio,
        batch,
        classification,
        embeddings,
        images,
        mcp,
        messages,
        models,
        moderation,
        output,
        reasoning,
        request,
        response,
        results,
        server_tools,
        steps,
        tools,
    )

    surfaces = (embeddings, moderation, audio, classification, mcp, batch)
    for module in (
        messages,
        reasoning,
        tools,
        request,
        response,
        results,
        server_tools,
        images,
        models,
        output,
        steps,
        events,
        *surfaces,
    ):
        for name in module.__all__:
            value = getattr(module, name)
            if isinstance(value, type) and dataclasses.is_dataclass(value):
                register(value)
    for name in errors.__all__:
        value = getattr(errors, name)
        # One tag per kind; the reason picks the subclass when decoding.
        if "reasons" in value.__dict__:
            register(value)
    for module_name in _SELF_REGISTERING:
        importlib.import_module(module_name)


def _error_tag(error: AllmError) -> str:
    for klass in type(error).__mro__:
        if "reasons" in klass.__dict__:
            return klass.__name__
    raise TypeError(f"cannot JSON-encode {type(error).__name__}")  # pragma: no cover


# ---------------------------------------------------------------------------------------- encode


def _callable_ref(function: Any, what: str) -> str:
    module = getattr(function, "__module__", None)
    qualname = getattr(function, "__qualname__", None)
    if module and qualname and "<" not in qualname:
        target: Any = sys.modules.get(module)
        for part in qualname.split("."):
            target = getattr(target, part, None)
        if target is function:
            return f"{module}:{qualname}"
    raise TypeError(
        f"cannot JSON-encode {what} {function!r}: only module-level functions and classes are "
        "stored, by import path"
    )


def _encode_any(value: Any) -> Any:
    if value is None or type(value) in (str, int, bool):
        return value
    if type(value) is float:
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"cannot JSON-encode the float {value!r}")
        return value
    if isinstance(value, enum.Enum):
        return _encode_any(value.value)
    if isinstance(value, list):
        return [_encode_any(item) for item in value]
    if isinstance(value, tuple):
        return {_TAG: "tuple", "data": [_encode_any(item) for item in value]}
    if isinstance(value, Mapping):
        encoded = {_key(key): _encode_any(item) for key, item in value.items()}
        if _TAG in encoded:
            return {_TAG: "dict", "data": encoded}
        return encoded
    if isinstance(value, bytes | bytearray):
        return {_TAG: "bytes", "data": base64.b64encode(value).decode("ascii")}
    if isinstance(value, AllmError):
        state = {key: _encode_any(item) for key, item in value.to_state().items()}
        return {_TAG: _error_tag(value), "data": state}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        _ensure_registry()
        if type(value) in _by_class:
            return _encode_dataclass(value)
        return _encode_typed_value(value)
    if hasattr(type(value), "__pydantic_core_schema__"):
        return _encode_typed_value(value)
    if isinstance(value, BaseException):
        return {_TAG: "exception", "data": {"type": type(value).__name__, "repr": repr(value)}}
    if isinstance(value, int | float | str):  # subclasses (IntEnum handled above)
        return _encode_any(type(value).__mro__[-2](value))
    raise TypeError(f"cannot JSON-encode a value of type {type(value).__name__}: {value!r}")


def _encode_typed_value(value: Any) -> dict[str, Any]:
    import pydantic

    kind = type(value)
    dumped = pydantic.TypeAdapter(kind).dump_python(value, mode="json")
    ref = _callable_ref(kind, "typed value of")
    return {_TAG: "typed_value", "data": {"type": ref, "value": dumped}}


def _key(key: Any) -> str:
    if isinstance(key, str):
        return str(key)
    if isinstance(key, enum.Enum):
        return str(key.value)
    if isinstance(key, int | float | bool) or key is None:
        return _json.dumps(key)
    raise TypeError(f"cannot JSON-encode a mapping key of type {type(key).__name__}")


def _encode_dataclass(value: Any) -> dict[str, Any]:
    _ensure_registry()
    cls = type(value)
    tag = _by_class.get(cls)
    if tag is None:
        raise TypeError(f"cannot JSON-encode {cls.__name__}: not a registered allm type")
    custom = getattr(cls, "_to_json_data", None)
    if custom is not None:
        return {_TAG: tag, "data": custom(value, _encode_any, _callable_ref)}
    data: dict[str, Any] = {}
    for name, kind, _ in _plan_for(cls):
        item = getattr(value, name)
        if tag == "ImageSource" and name == "value" and isinstance(item, bytes):
            data[name] = base64.b64encode(item).decode("ascii")
        elif tag == "Tool" and name == "handler" and item is not None:
            data[name] = _callable_ref(item, "tool handler")
        elif kind == "tuple" and isinstance(item, tuple):
            # A declared tuple field is a plain array; its type says how to read it back.
            # A tuple in a free-form field (``raw``, a raw chunk's data) stays tagged.
            data[name] = [_encode_any(element) for element in item]
        else:
            data[name] = _encode_any(item)
    return {_TAG: tag, "data": data}


def encode(value: Any) -> Any:
    """The JSON-ready form of ``value`` (dicts, lists and scalars), with the top-level version."""
    encoded = _encode_any(value)
    if isinstance(encoded, dict) and _TAG in encoded and encoded[_TAG] in _registry:
        return {_TAG: encoded[_TAG], "v": SCHEMA_VERSION, "data": encoded["data"]}
    return encoded


def to_json(value: Any) -> str:
    """Serialize any Layer A value (data, events, errors, engines) to JSON text."""
    return _json.dumps(encode(value))


# ---------------------------------------------------------------------------------------- decode


class _DecodeFailure(Exception):
    def __init__(self, path: tuple[str | int, ...], reason: str, detail: str) -> None:
        super().__init__(detail)
        self.path, self.reason, self.detail = path, reason, detail


def _atom_failure(detail: str, path: tuple[str | int, ...]) -> _DecodeFailure:
    return _DecodeFailure(path, "atom_decode_failed", detail)


class _LazyNames(Mapping[str, Any]):
    """Names a class's string annotations use that its modules import only for type checking:
    looked up through each module's ``__getattr__``, which imports them on first use (so a
    module can keep field types it rarely needs off the import path)."""

    def __init__(self, cls: type[Any]) -> None:
        self._modules = [sys.modules.get(base.__module__) for base in cls.__mro__]

    def __getitem__(self, name: str) -> Any:
        for module in self._modules:
            lazy = getattr(module, "__getattr__", None)
            if lazy is None:
                continue
            try:
                return lazy(name)
            except AttributeError:
                continue
        raise KeyError(name)

    def __iter__(self) -> typing.Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def _plan_for(cls: type[Any]) -> tuple[tuple[str, str, Any], ...]:
    """Per field: how to read it back (``tuple``, ``enum`` / ``literal`` with its values, ``any``)."""
    plan = _field_plans.get(cls)
    if plan is not None:
        return plan
    hints = typing.get_type_hints(cls, localns=_LazyNames(cls))
    entries = []
    for f in dataclasses.fields(cls):
        kind: str = "any"
        extra: Any = None
        hint = hints.get(f.name)
        for member in _union_members(hint):
            origin = typing.get_origin(member)
            if origin is tuple or member is tuple:
                kind = "tuple"
            elif isinstance(member, type) and issubclass(member, enum.Enum):
                kind, extra = "enum", member
            elif origin is typing.Literal:
                kind, extra = "literal", frozenset(typing.get_args(member))
        entries.append((f.name, kind, extra))
    plan = tuple(entries)
    _field_plans[cls] = plan
    return plan


def _union_members(hint: Any) -> tuple[Any, ...]:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return typing.get_args(hint)
    return (hint,)


def _import_ref(ref: Any, path: tuple[str | int, ...]) -> Any:
    if not isinstance(ref, str) or ":" not in ref:
        raise _DecodeFailure(path, "malformed_struct", f"not an import path: {ref!r}")
    module_name, _, qualname = ref.partition(":")
    # Only modules the program already imported: decoding data must never run new code.
    target: Any = sys.modules.get(module_name)
    if target is None:
        raise _DecodeFailure(path, "unknown_reference", f"module {module_name!r} is not imported")
    for part in qualname.split("."):
        target = getattr(target, part, None)
    if target is None:
        raise _DecodeFailure(path, "unknown_reference", f"{ref!r} does not exist")
    return target


def _decode_any(value: Any, path: tuple[str | int, ...]) -> Any:
    if isinstance(value, list):
        return [_decode_any(item, (*path, index)) for index, item in enumerate(value)]
    if not isinstance(value, dict):
        return value
    tag = value.get(_TAG)
    if tag is None:
        return {key: _decode_any(item, (*path, key)) for key, item in value.items()}
    data = value.get("data")
    if tag == "tuple" and isinstance(data, list):
        return tuple(_decode_any(item, (*path, index)) for index, item in enumerate(data))
    if tag == "dict" and isinstance(data, dict):
        return {key: _decode_any(item, (*path, key)) for key, item in data.items()}
    if tag == "bytes" and isinstance(data, str):
        try:
            return base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _DecodeFailure(path, "invalid_base64", "bytes are not valid base64") from exc
    if tag == "exception" and isinstance(data, dict):
        return data.get("repr")
    if tag == "typed_value" and isinstance(data, dict):
        import pydantic

        kind = _import_ref(data.get("type"), path)
        return pydantic.TypeAdapter(kind).validate_python(data.get("value"))
    cls = _registry.get(tag)
    if cls is None:
        return value  # a newer type nested in free-form data: kept as it came
    if not isinstance(data, dict):
        raise _DecodeFailure((*path, "data"), "missing", f"{tag} envelope has no data object")
    return _decode_struct(cls, data, path)


def _decode_struct(cls: type[Any], data: dict[str, Any], path: tuple[str | int, ...]) -> Any:
    if issubclass(cls, AllmError):
        state = {key: _decode_any(item, (*path, key)) for key, item in data.items()}
        try:
            return cls(**state)
        except ValueError as exc:
            raise _atom_failure(str(exc), (*path, "reason")) from exc
        except TypeError as exc:
            raise _DecodeFailure(path, "malformed_struct", str(exc)) from exc
    custom = getattr(cls, "_from_json_data", None)
    if custom is not None:
        try:
            return custom(
                data, lambda item: _decode_any(item, path), lambda ref: _import_ref(ref, path)
            )
        except (TypeError, KeyError) as exc:
            raise _DecodeFailure(path, "malformed_struct", f"{cls.__name__}: {exc}") from exc
    kwargs: dict[str, Any] = {}
    known = set()
    for name, kind, extra in _plan_for(cls):
        known.add(name)
        if name not in data:
            continue
        raw = data[name]
        field_path = (*path, name)
        if cls.__name__ == "ImageSource" and name == "value":
            kwargs[name] = _decode_image_source_value(data, raw)
        elif cls.__name__ == "Tool" and name == "handler" and raw is not None:
            kwargs[name] = _import_ref(raw, field_path)
        elif kind == "tuple" and isinstance(raw, list):
            kwargs[name] = tuple(_decode_any(item, (*field_path, i)) for i, item in enumerate(raw))
        elif kind == "literal" and isinstance(raw, str):
            if raw not in extra:
                detail = f"{raw!r} is not one of {sorted(extra)}"
                raise _atom_failure(detail, field_path)
            kwargs[name] = raw
        elif kind == "enum" and isinstance(raw, str):
            try:
                kwargs[name] = extra(raw)
            except ValueError as exc:
                detail = f"{raw!r} is not a known {extra.__name__}"
                raise _atom_failure(detail, field_path) from exc
        else:
            kwargs[name] = _decode_any(raw, field_path)
    unknown = set(data) - known
    if unknown:
        detail = f"{cls.__name__} has no field(s) {sorted(unknown)}"
        raise _DecodeFailure(path, "malformed_struct", detail)
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise _DecodeFailure(path, "malformed_struct", f"{cls.__name__}: {exc}") from exc


def _decode_image_source_value(data: dict[str, Any], raw: Any) -> Any:
    if data.get("type") == "binary":
        if not isinstance(raw, str):
            raise _DecodeFailure(("source",), "invalid_base64", "binary source is not base64 text")
        try:
            return base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _DecodeFailure(
                ("source",), "invalid_base64", "binary source is not base64"
            ) from exc
    return raw


def decode(data: Any, as_: type[T] | None = None) -> Any:
    """Rebuild a value from its JSON-ready form (see ``encode``)."""
    _ensure_registry()
    try:
        if isinstance(data, dict) and _TAG in data:
            tag = data[_TAG]
            cls = _registry.get(tag)
            if cls is None:
                raise _DecodeFailure(("format",), "unknown_type_tag", f"unknown type tag {tag!r}")
            if "data" not in data:
                raise _DecodeFailure(("data",), "missing", f"{tag} envelope has no data")
            version = data.get("v", SCHEMA_VERSION)
            if not isinstance(version, int) or version > SCHEMA_VERSION:
                raise _DecodeFailure(("v",), "unsupported_version", f"schema version {version!r}")
            if not isinstance(data["data"], dict):
                raise _DecodeFailure(("data",), "malformed_struct", f"{tag} data is not an object")
            value = _decode_struct(cls, data["data"], ())
        elif as_ is not None:
            if not isinstance(data, dict):
                raise _DecodeFailure(("data",), "malformed_struct", "expected a JSON object")
            _ensure_registry()
            if as_ not in _by_class:
                raise TypeError(f"as_={as_!r} is not a registered allm type")
            value = _decode_struct(as_, data, ())
        else:
            raise _DecodeFailure(("format",), "missing_type_tag", "no __type__ tag and no as_ hint")
    except _DecodeFailure as failure:
        raise _validation_error(failure) from None
    if as_ is not None and not isinstance(value, as_):
        raise ValidationError(
            "invalid_request",
            f"expected {as_.__name__}, got {type(value).__name__}",
            errors=[(("format",), "unexpected_type")],
        )
    return value


def _validation_error(failure: _DecodeFailure) -> ValidationError:
    where = ".".join(str(part) for part in failure.path) or "<root>"
    message = f"cannot decode: {failure.detail} (at {where})"
    metadata = {"path": list(failure.path)}
    if failure.reason == "atom_decode_failed":
        return ValidationError(
            "invalid_request", message, errors=[(("_unknown",), failure.reason)], metadata=metadata
        )
    if failure.reason == "invalid_base64":
        return ValidationError(
            "invalid_request", message, errors=[(("source",), failure.reason)], metadata=metadata
        )
    head = (
        failure.path[:1]
        if failure.path and failure.path[0] in ("format", "data", "v", "json")
        else ("data",)
    )
    return ValidationError(
        "invalid_request", message, errors=[(head, failure.reason)], metadata=metadata
    )


def from_json(text: str | bytes, as_: type[T] | None = None) -> Any:
    """Parse JSON text made by ``to_json``. ``as_`` names the type of untagged data."""
    try:
        data = _json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError(
            "invalid_request", f"malformed JSON: {exc}", errors=[(("json",), "malformed")]
        ) from None
    return decode(data, as_)
