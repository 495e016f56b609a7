"""Running tools: the handler context, the default executor, the JSON result encoder, argument
checks, and ``tool()`` for building a ``Tool`` from a typed function.

Handler outcomes: a plain value (ok), a raised exception (``ToolError("handler_raised")``),
``ToolFailure(reason)`` (a failure reported to the model), ``AskUser(question, **opts)`` or
``Halt(reason, result)``.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import inspect
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, overload, runtime_checkable

from . import _json
from .data.strict_schema import restore_absent, strict_form
from .data.tools import Tool, ToolCall, ToolFailure
from .errors import AllmError, ConfigurationError, ToolError

if TYPE_CHECKING:
    from .engine import Engine

_log = logging.getLogger("allm")

__all__ = [
    "DEFAULT_ENCODER",
    "DEFAULT_EXECUTOR",
    "DefaultExecutor",
    "JSONEncoder",
    "ToolContext",
    "ToolExecutor",
    "ToolResultEncoder",
    "argument_errors",
    "is_async_callable",
    "tool",
]


@dataclass(frozen=True, slots=True)
class ToolContext:
    """The second argument of a two-argument handler."""

    context: Mapping[str, Any] = field(default_factory=dict)
    session_id: str | None = None
    request_id: str | None = None
    tool_call: ToolCall | None = None
    engine: Engine | None = None
    # The call's ``tool_timeout``: a handler waiting on I/O can give up in time, with its own error.
    timeout: float | None = None


@runtime_checkable
class ToolExecutor(Protocol):
    """Runs one tool call. ``execute`` may be a coroutine function for the async API."""

    def execute(self, tool: Tool, arguments: dict[str, Any], ctx: ToolContext) -> Any:
        """Run ``tool`` and return its outcome unchanged (or a ``ToolError``)."""
        ...


@runtime_checkable
class ToolResultEncoder(Protocol):
    """Turns a tool's outcome into the text of its tool message."""

    def encode(self, value: Any) -> str:
        """Deterministic text for ``value``; raise when it cannot be encoded."""
        ...


def is_async_callable(function: Any) -> bool:
    """Whether calling ``function`` returns a coroutine (functions, methods, callable objects)."""
    while isinstance(function, functools.partial):
        function = function.func
    if inspect.iscoroutinefunction(function):
        return True
    call = getattr(type(function), "__call__", None)  # noqa: B004  # an async __call__
    return not inspect.isfunction(function) and inspect.iscoroutinefunction(call)


_arity_cache: dict[int, tuple[Any, int]] = {}


def handler_arity(handler: Callable[..., Any]) -> int:
    """How many positional arguments a handler takes (2 for ``*args``)."""
    return _arity(handler)


def _arity(handler: Callable[..., Any]) -> int:
    key = id(handler)
    cached = _arity_cache.get(key)
    if cached is not None and cached[0] is handler:
        return cached[1]
    try:
        parameters = list(inspect.signature(handler).parameters.values())
    except (TypeError, ValueError):
        arity = 1
    else:
        if any(p.kind is p.VAR_POSITIONAL for p in parameters):
            arity = 2
        else:
            positional = [
                p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            ]
            arity = len(positional)
    if len(_arity_cache) > 4096:
        _arity_cache.clear()
    _arity_cache[key] = (handler, arity)
    return arity


def _is_legal(outcome: Any) -> bool:
    # A handler must produce a value, not something still to be run.
    return not (
        inspect.isawaitable(outcome)
        or inspect.isgenerator(outcome)
        or inspect.isasyncgen(outcome)
        or inspect.isfunction(outcome)
        or isinstance(outcome, BaseException)
    )


class DefaultExecutor:
    """Calls the tool's handler with ``(arguments)`` or ``(arguments, ctx)``.

    No handler: ``ToolError("not_found")``. A raised ``ToolError`` is the outcome as it is; any
    other raise: ``ToolError("handler_raised")`` with the exception as its cause; ``SystemExit``: ``ToolError("handler_exit")``. A coroutine or other
    unfinished value: ``ToolError("invalid_return")``.
    """

    def _prepare(self, tool: Tool, ctx: ToolContext) -> Callable[..., Any] | ToolError:
        if tool.handler is None:
            return _tool_error("not_found", tool, ctx, f"tool {tool.name!r} has no handler")
        arity = _arity(tool.handler)
        if arity not in (1, 2):
            raise ConfigurationError(
                "invalid_tool",
                problems=[f"handler of {tool.name!r} must take (arguments) or (arguments, ctx)"],
            )
        return tool.handler

    def execute(self, tool: Tool, arguments: dict[str, Any], ctx: ToolContext) -> Any:
        """Run the handler (sync API)."""
        handler = self._prepare(tool, ctx)
        if isinstance(handler, ToolError):
            return handler
        try:
            outcome = handler(arguments, ctx) if _arity(handler) == 2 else handler(arguments)
        except _ArgumentsRejected as exc:
            return _tool_error("invalid_arguments", tool, ctx, str(exc))
        except ToolError as exc:  # a handler that knows why it failed says so itself
            return exc
        except SystemExit as exc:  # sys.exit() in a handler ends the call, not the program
            return _tool_error("handler_exit", tool, ctx, f"handler exited ({exc.code!r})", exc)
        except Exception as exc:
            return _handler_raised(tool, ctx, exc)
        return _checked(outcome, tool, ctx)

    async def aexecute(self, tool: Tool, arguments: dict[str, Any], ctx: ToolContext) -> Any:
        """Run the handler (async API): async handlers are awaited here."""
        handler = self._prepare(tool, ctx)
        if isinstance(handler, ToolError):
            return handler
        try:
            outcome = handler(arguments, ctx) if _arity(handler) == 2 else handler(arguments)
            if inspect.isawaitable(outcome):
                outcome = await outcome
        except _ArgumentsRejected as exc:
            return _tool_error("invalid_arguments", tool, ctx, str(exc))
        except ToolError as exc:  # a handler that knows why it failed says so itself
            return exc
        except SystemExit as exc:  # sys.exit() in a handler ends the call, not the program
            return _tool_error("handler_exit", tool, ctx, f"handler exited ({exc.code!r})", exc)
        except Exception as exc:
            return _handler_raised(tool, ctx, exc)
        return _checked(outcome, tool, ctx)


def _handler_raised(tool: Tool, ctx: ToolContext, exc: Exception) -> ToolError:
    """The model is told the handler failed; the developer gets the traceback in the log."""
    call_id = ctx.tool_call.id if ctx.tool_call is not None else None
    _log.warning(
        "tool %r raised %s (call %s); the model gets the error as the tool's result",
        tool.name,
        type(exc).__name__,
        call_id,
        exc_info=exc,
    )
    return _tool_error("handler_raised", tool, ctx, f"{type(exc).__name__}: {exc}", exc)


def _checked(outcome: Any, tool: Tool, ctx: ToolContext) -> Any:
    if _is_legal(outcome):
        return outcome
    if inspect.iscoroutine(outcome):
        outcome.close()  # never awaited: close it so Python does not warn
    message = f"handler of {tool.name!r} returned {type(outcome).__name__}, not a value"
    return _tool_error("invalid_return", tool, ctx, message, cause=repr(outcome))


def _tool_error(
    reason: str, tool: Tool, ctx: ToolContext, message: str, cause: Any = None
) -> ToolError:
    call_id = ctx.tool_call.id if ctx.tool_call is not None else None
    return ToolError(reason, message, tool_name=tool.name, tool_call_id=call_id, cause=cause)


DEFAULT_EXECUTOR = DefaultExecutor()


class JSONEncoder:
    """The default encoder: strings pass unchanged, everything else becomes compact JSON.

    ``ToolFailure("text")`` and errors become ``{"error": "text"}``; dataclasses and pydantic
    models become their fields. Anything else that JSON cannot hold raises ``TypeError``.
    """

    def encode(self, value: Any) -> str:
        """The tool message text for ``value``."""
        if isinstance(value, str):
            return value
        return _json.dumps(_jsonable(value))


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, ToolFailure):
        reason = value.reason
        return {"error": reason if isinstance(reason, str) else repr(reason)}
    if isinstance(value, AllmError):
        return {"error": value.message}
    if isinstance(value, enum.Enum):
        return _jsonable(value.value)
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    dump = getattr(value, "model_dump", None)
    if callable(dump):  # a pydantic model
        return dump(mode="json")
    raise TypeError(f"cannot encode a {type(value).__name__} as a tool result")


DEFAULT_ENCODER = JSONEncoder()


def encode_error(error: AllmError) -> str:
    """An error as tool message text, without the user's encoder (which may be what failed)."""
    return _json.dumps({"error": error.message})


# -- argument checks --------------------------------------------------------------------------

_JSON_TYPES: dict[str, tuple[type[Any], ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list, tuple),
    "object": (dict,),
    "null": (type(None),),
}


def _type_matches(value: Any, expected: Any) -> bool:
    names = expected if isinstance(expected, list) else [expected]
    for name in names:
        types = _JSON_TYPES.get(name)
        if types is None:
            return True  # a type we do not check
        if isinstance(value, bool) and name in ("integer", "number"):
            continue
        if isinstance(value, types):
            return True
    return False


def argument_errors(tool: Tool, call: ToolCall) -> list[str]:
    """What is wrong with the arguments the model sent: unparseable JSON, a missing required
    property, a top-level property of the wrong JSON type. Empty when they look right."""
    raw = call.raw_arguments
    if raw is not None and raw.strip():
        try:
            parsed = _json.loads(raw)
        except ValueError:
            return [f"arguments are not valid JSON: {raw[:200]!r}"]
        if not isinstance(parsed, dict):
            return [f"arguments must be a JSON object, got {type(parsed).__name__}"]
    schema = tool.schema
    problems = []
    for name in schema.get("required", ()) or ():
        if name not in call.arguments:
            problems.append(f"missing required argument {name!r}")
    properties = schema.get("properties")
    if isinstance(properties, Mapping):
        for name, value in call.arguments.items():
            spec = properties.get(name)
            if (
                isinstance(spec, Mapping)
                and "type" in spec
                and not _type_matches(value, spec["type"])
            ):
                problems.append(f"argument {name!r} must be of type {spec['type']}")
    return problems


# -- tool(): explicit, or derived from a typed function -------------------------------------------


def _wants_context(parameter: inspect.Parameter) -> bool:
    annotation = parameter.annotation
    return parameter.name == "ctx" or annotation is ToolContext or annotation == "ToolContext"


def _schema_from_function(function: Callable[..., Any]) -> tuple[dict[str, Any], Any, bool]:
    """The JSON schema of ``function``'s parameters, the pydantic model that checks them, and
    whether the function takes a ``ctx`` parameter."""
    try:
        import pydantic
    except ImportError as exc:  # pragma: no cover - exercised in an environment without pydantic
        raise ConfigurationError(
            "invalid_tool",
            problems=[
                f"deriving a schema for {function.__name__!r} needs pydantic "
                "(pip install 'allm-py[pydantic]'); or pass schema= explicitly"
            ],
        ) from exc
    import typing

    hints = typing.get_type_hints(function)
    fields: dict[str, Any] = {}
    takes_ctx = False
    for parameter in inspect.signature(function).parameters.values():
        if _wants_context(parameter):
            takes_ctx = True
            continue
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        annotation = hints.get(parameter.name, Any)
        default = ... if parameter.default is parameter.empty else parameter.default
        fields[parameter.name] = (annotation, default)
    model = pydantic.create_model(f"{function.__name__}_arguments", **fields)
    schema = model.model_json_schema()
    schema.pop("title", None)
    for spec in schema.get("properties", {}).values():
        if isinstance(spec, dict):
            spec.pop("title", None)
    schema.setdefault("properties", {})
    return schema, model, takes_ctx


def _derived_handler(
    function: Callable[..., Any],
    model: Any,
    takes_ctx: bool,
    original_schema: Mapping[str, Any] | None = None,
) -> Any:
    def check(arguments: dict[str, Any]) -> dict[str, Any]:
        if original_schema is not None:  # strict mode's nulls for absent optional arguments
            arguments = restore_absent(arguments, original_schema)
        try:
            parsed = model.model_validate(arguments)
        except Exception as exc:  # pydantic.ValidationError
            raise _ArgumentsRejected(str(exc)) from exc
        return {name: getattr(parsed, name) for name in type(parsed).model_fields}

    if inspect.iscoroutinefunction(function):

        async def async_handler(arguments: dict[str, Any], ctx: ToolContext) -> Any:
            values = check(arguments)
            return await (function(**values, ctx=ctx) if takes_ctx else function(**values))

        # Keep the wrapper's own (arguments, ctx) signature: inspect would follow __wrapped__.
        async_handler.__signature__ = inspect.signature(async_handler)  # type: ignore[attr-defined]
        async_handler.__wrapped__ = function  # type: ignore[attr-defined]
        return async_handler

    def handler(arguments: dict[str, Any], ctx: ToolContext) -> Any:
        values = check(arguments)
        return function(**values, ctx=ctx) if takes_ctx else function(**values)

    handler.__signature__ = inspect.signature(handler)  # type: ignore[attr-defined]
    handler.__wrapped__ = function  # type: ignore[attr-defined]
    return handler


class _ArgumentsRejected(Exception):
    """Arguments failed the derived model's checks; reported to the model as invalid_arguments."""


def _from_function(
    function: Callable[..., Any],
    name: str | None,
    description: str | None,
    manual: bool,
    metadata: Mapping[str, Any] | None,
    strict: bool | None = None,
) -> Tool:
    schema, model, takes_ctx = _schema_from_function(function)
    doc = inspect.getdoc(function) or ""
    sent = schema
    if strict:
        strict_schema = strict_form(schema)
        if strict_schema is None:
            raise ConfigurationError(
                "invalid_tool",
                problems=[
                    f"the parameters of {function.__name__!r} cannot be strict "
                    "(a free-form mapping); drop strict=True or type the mapping's keys"
                ],
            )
        sent = strict_schema
    return Tool(
        name or function.__name__,
        description if description is not None else doc,
        sent,
        _derived_handler(function, model, takes_ctx, schema if strict else None),
        manual,
        dict(metadata or {}),
        strict=strict,
    )


@overload
def tool(
    function: Callable[..., Any],
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    schema: Mapping[str, Any] | None = None,
    handler: Callable[..., Any] | None = None,
    manual: bool = False,
    metadata: Mapping[str, Any] | None = None,
    strict: bool | None = None,
) -> Tool: ...


@overload
def tool(
    *,
    name: str,
    description: str,
    schema: Mapping[str, Any],
    handler: Callable[..., Any] | None = None,
    manual: bool = False,
    metadata: Mapping[str, Any] | None = None,
    strict: bool | None = None,
) -> Tool: ...


@overload
def tool(
    *,
    name: str | None = None,
    description: str | None = None,
    manual: bool = False,
    metadata: Mapping[str, Any] | None = None,
    strict: bool | None = None,
) -> Callable[[Callable[..., Any]], Tool]: ...


def tool(
    function: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    schema: Mapping[str, Any] | None = None,
    handler: Callable[..., Any] | None = None,
    manual: bool = False,
    metadata: Mapping[str, Any] | None = None,
    strict: bool | None = None,
) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """A ``Tool``, given explicitly or derived from a typed function.

    ``tool(name=, description=, schema=, handler=)`` builds it as given (all three of name,
    description and schema are required). ``@tool`` / ``@tool(manual=True)`` on a typed function
    takes the name from the function, the description from its docstring and the schema from its
    signature (needs the ``pydantic`` extra); a parameter named ``ctx`` receives the
    ``ToolContext``. ``strict=True`` asks OpenAI to enforce the schema; a derived schema is then
    sent in strict mode's form (every property required, the optional ones nullable, a null for
    an optional argument read as absent), see ``docs/requests.md``.

    Args:
        function: The typed function to derive the tool from (the decorator form).
        name: The tool's name (default: the function's).
        description: What the tool does, for the model (default: the function's docstring).
        schema: The JSON schema of the arguments (default: derived from the signature).
        handler: What runs a call: takes ``(arguments)`` or ``(arguments, ctx)``.
        manual: ``True`` hands its calls back to the caller instead of running them.
        metadata: Free data kept on the ``Tool``.
        strict: ``True`` makes OpenAI enforce the schema (a derived one in strict form).
    """
    if function is not None:
        return _from_function(function, name, description, manual, metadata, strict)
    if schema is None and handler is None and not (name and description):

        def decorate(target: Callable[..., Any]) -> Tool:
            if not callable(target):
                raise TypeError(f"@tool decorates a function, got {target!r}")
            return _from_function(target, name, description, manual, metadata, strict)

        return decorate
    missing = [
        key
        for key, value in (("name", name), ("description", description), ("schema", schema))
        if value is None
    ]
    if missing:
        raise TypeError(f"tool() is missing {', '.join(missing)}")
    assert name is not None and description is not None and schema is not None
    return Tool(
        name, description, dict(schema), handler, manual, dict(metadata or {}), strict=strict
    )


def run_outcome_sync(executor: Any, tool: Tool, arguments: dict[str, Any], ctx: ToolContext) -> Any:
    """Run one call through ``executor`` on the sync API, mapping derived-argument rejections."""
    try:
        return executor.execute(tool, arguments, ctx)
    except _ArgumentsRejected as exc:
        return _tool_error("invalid_arguments", tool, ctx, str(exc))


async def run_outcome_async(
    executor: Any, tool: Tool, arguments: dict[str, Any], ctx: ToolContext
) -> Any:
    """Run one call through ``executor`` on the async API (``aexecute`` when it has one)."""
    try:
        runner: Callable[..., Any] = getattr(executor, "aexecute", None) or executor.execute
        outcome = runner(tool, arguments, ctx)
        if inspect.isawaitable(outcome):
            outcome = await outcome
        return outcome
    except _ArgumentsRejected as exc:
        return _tool_error("invalid_arguments", tool, ctx, str(exc))
