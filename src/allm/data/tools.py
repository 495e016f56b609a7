"""Tools the model may call, and the calls it makes."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "RESERVED_TOOL_NAMES",
    "TOOL_NAME_PATTERN",
    "AskUser",
    "Halt",
    "Tool",
    "ToolCall",
    "ToolFailure",
    "normalize_schema",
]

# Use with fullmatch: `$` alone would accept a trailing newline.
TOOL_NAME_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
# These collide with tool_choice values, so a tool may not be named after them.
RESERVED_TOOL_NAMES = frozenset({"auto", "none", "required"})


def normalize_schema(schema: Any) -> Any:
    """Return ``schema`` with every mapping key turned into a string, recursively.

    A deterministic key type keeps the wire body (and provider prompt caches) stable.
    """
    if isinstance(schema, Mapping):
        return {str(key): normalize_schema(value) for key, value in schema.items()}
    if isinstance(schema, list | tuple):
        return [normalize_schema(value) for value in schema]
    return schema


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One call the model asked for: ``arguments`` parsed, ``raw_arguments`` as the model sent them."""

    id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    raw_arguments: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Tool:
    """A tool: a name, a description and a JSON schema, with an optional handler.

    ``handler`` takes ``(arguments)`` or ``(arguments, ctx)``; ``None`` means the caller runs the
    tool. ``manual=True`` surfaces calls to the caller even when the chat loop runs automatically.
    ``compact=True`` makes the chat loop send only the name and the description's first line; the
    model gets the rest from the built-in ``tool_help`` tool (see ``allm.execution.compact``).
    ``strict`` asks OpenAI to enforce the schema (both OpenAI wires always send ``strict``, false
    unless it is ``True``); other wires ignore it.
    A tool with a handler is not JSON-serializable unless the handler is a module-level function.
    """

    name: str
    description: str
    schema: dict[str, Any]
    handler: Callable[..., Any] | None = None
    manual: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)
    compact: bool = False
    strict: bool | None = None
    cache: bool = False  # a prompt-cache breakpoint after this tool (docs/requests.md)

    def __post_init__(self) -> None:
        if not isinstance(self.manual, bool):
            raise TypeError(f"Tool.manual must be a bool, got {self.manual!r}")
        if not isinstance(self.compact, bool):
            raise TypeError(f"Tool.compact must be a bool, got {self.compact!r}")
        if not isinstance(self.cache, bool):
            raise TypeError(f"Tool.cache must be a bool, got {self.cache!r}")
        if self.strict is not None and not isinstance(self.strict, bool):
            raise TypeError(f"Tool.strict must be a bool or None, got {self.strict!r}")
        if self.handler is not None and not callable(self.handler):
            raise TypeError(f"Tool.handler must be callable or None, got {self.handler!r}")
        object.__setattr__(self, "schema", normalize_schema(self.schema))

    @property
    def handler_arity(self) -> int:
        """How many positional arguments the handler takes (1 or 2); 0 without a handler."""
        if self.handler is None:
            return 0
        return _arity(self.handler)


def _arity(function: Callable[..., Any]) -> int:
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):  # builtins without a signature: assume one argument
        return 1
    positional = [
        p
        for p in parameters
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]
    if any(p.kind is p.VAR_POSITIONAL for p in parameters):
        return 2
    return len(positional)


# -- what a tool handler may return besides a plain value --------------------------------------


@dataclass(frozen=True, slots=True, init=False)
class AskUser:
    """Pause the chat loop and ask the user ``question``; ``opts`` are hints passed through as is
    (``choices``, ``timeout_ms``, ...)."""

    question: str
    opts: dict[str, Any]

    def __init__(self, question: str, opts: Mapping[str, Any] | None = None, **more: Any) -> None:
        object.__setattr__(self, "question", question)
        object.__setattr__(self, "opts", {**(opts or {}), **more})


@dataclass(frozen=True, slots=True)
class Halt:
    """Stop the chat loop with ``reason``; ``result`` is encoded as the tool's answer."""

    reason: str
    result: Any = None


@dataclass(frozen=True, slots=True)
class ToolFailure:
    """A failure the tool reports to the model (unlike raising, which is a crash)."""

    reason: Any
