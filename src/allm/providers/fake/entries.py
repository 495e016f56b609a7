"""Script entries and their builders (``text``, ``tool_call``, ``finish``, ...): what a Fake call replays."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from ...data.response import FinishReason, TokenLogprob, Usage
from ...data.server_tools import Citation, ServerToolCall

_USAGE_FIELDS = frozenset(f.name for f in fields(Usage))
_FINISH_REASONS = frozenset(reason.value for reason in FinishReason)


# ------------------------------------------------------------------------------------ entries


@dataclass(frozen=True, slots=True)
class Text:
    """Answer text: a ``TextDelta`` when streaming, appended to the output otherwise."""

    text: str


@dataclass(frozen=True, slots=True)
class Reasoning:
    """Reasoning text: a ``ReasoningDelta``; one ``ReasoningCompleted`` closes them at the finish."""

    text: str
    signature: str | None = None


@dataclass(frozen=True, slots=True)
class LogprobsEntry:
    """Token log probabilities: one ``LogprobsDelta`` when streaming, ``Response.logprobs``."""

    items: tuple[TokenLogprob, ...]


@dataclass(frozen=True, slots=True)
class ToolCallEntry:
    """A whole tool call: ``ToolCallStarted`` then ``ToolCallCompleted``."""

    id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    raw_arguments: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ToolCallDeltaEntry:
    """A fragment of a tool call's arguments."""

    id: str
    arguments_delta: str


@dataclass(frozen=True, slots=True)
class UsageEntry:
    """Token usage (``Usage`` field names)."""

    fields: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RawChunkEntry:
    """An opaque raw chunk."""

    data: Any


@dataclass(frozen=True, slots=True)
class Finish:
    """The end of the message, with its finish reason. Later entries are ignored."""

    reason: str | None


@dataclass(frozen=True, slots=True)
class Error:
    """A failure. Streaming: an ``ErrorEvent`` (the stream goes on). Non-streaming: the call fails.

    ``kind`` is ``"adapter"`` or ``"stream"``; ``scripted`` marks the plain ``("error", term)``
    form, whose non-streaming failure is ``AdapterError("unknown", cause=term)``.
    """

    reason: Any
    kind: str = "adapter"
    fields: dict[str, Any] = field(default_factory=dict)
    scripted: bool = True


@dataclass(frozen=True, slots=True)
class Delay:
    """Wait ``ms`` milliseconds before the next entry."""

    ms: float


@dataclass(frozen=True, slots=True)
class PreflightError:
    """The call fails before any stream exists (must be the first entry)."""

    reason: str
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ServerEntry:
    """A provider tool's run (``ServerToolCall``) or a ``Citation`` the answer reports."""

    value: ServerToolCall | Citation


@dataclass(frozen=True, slots=True)
class HarnessOk:
    """A whole non-streaming response, given as ``Response`` fields."""

    payload: dict[str, Any]


Entry = (
    Text
    | Reasoning
    | LogprobsEntry
    | ToolCallEntry
    | ToolCallDeltaEntry
    | UsageEntry
    | RawChunkEntry
    | Finish
    | Error
    | Delay
    | PreflightError
    | HarnessOk
    | ServerEntry
)


def text(value: str) -> Text:
    """Answer text."""
    return Text(value)


def reasoning(value: str, signature: str | None = None) -> Reasoning:
    """Reasoning text."""
    return Reasoning(value, signature)


def logprobs(*items: TokenLogprob | tuple[str, float]) -> LogprobsEntry:
    """Log probabilities of the next tokens: ``TokenLogprob`` values or ``(token, logprob)``."""
    return LogprobsEntry(token_logprobs(items))


def token_logprobs(items: Any) -> tuple[TokenLogprob, ...]:
    """``items`` as ``TokenLogprob`` values (a ``(token, logprob)`` pair is one without
    alternatives); a ``TypeError`` names the first item that is neither."""
    out = []
    for item in items:
        if isinstance(item, TokenLogprob):
            out.append(item)
        elif (
            isinstance(item, tuple)
            and len(item) == 2
            and isinstance(item[0], str)
            and isinstance(item[1], int | float)
            and not isinstance(item[1], bool)
        ):
            out.append(TokenLogprob(item[0], float(item[1])))
        else:
            raise TypeError(f"not a TokenLogprob or a (token, logprob) pair: {item!r}")
    return tuple(out)


def tool_call(
    *,
    id: str,
    name: str,
    arguments: Mapping[str, Any] | None = None,
    raw_arguments: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> ToolCallEntry:
    """A whole tool call."""
    return ToolCallEntry(id, name, dict(arguments or {}), raw_arguments, dict(metadata or {}))


def tool_call_delta(*, id: str, arguments_delta: str) -> ToolCallDeltaEntry:
    """A fragment of a tool call's arguments."""
    return ToolCallDeltaEntry(id, arguments_delta)


def usage(**values: Any) -> UsageEntry:
    """Token usage."""
    return UsageEntry(values)


def raw_chunk(data: Any) -> RawChunkEntry:
    """An opaque raw chunk."""
    return RawChunkEntry(data)


def finish(reason: str | None = "stop") -> Finish:
    """The end of the message."""
    return Finish(reason)


def error(reason: Any = "unknown", **values: Any) -> Error:
    """A failure with an ``AdapterError`` reason (or any term)."""
    return Error(reason, "adapter", values, scripted=not values)


def error_event(reason: str, **values: Any) -> Error:
    """A mid-stream ``AdapterError`` with fields such as ``retry_after_ms``."""
    return Error(reason, "adapter", values, scripted=False)


def stream_error(reason: str, **values: Any) -> Error:
    """A mid-stream ``StreamError``."""
    return Error(reason, "stream", values, scripted=False)


def delay(ms: float) -> Delay:
    """Wait ``ms`` milliseconds before the next entry."""
    return Delay(ms)


def preflight_error(reason: str, **values: Any) -> PreflightError:
    """Fail the call before any stream exists."""
    return PreflightError(reason, values)


def server_tool_call(
    id: str, name: str, arguments: dict[str, Any] | None = None, result: Any = None
) -> ServerEntry:
    """A provider tool's run, reported as a ``ServerToolCallCompleted``."""
    return ServerEntry(ServerToolCall(id, name, dict(arguments or {}), result))


def citation(kind: str = "url", **fields: Any) -> ServerEntry:
    """A citation, reported as a ``CitationAdded``."""
    return ServerEntry(Citation(kind, **fields))


def ok(**payload: Any) -> HarnessOk:
    """A whole non-streaming response."""
    return HarnessOk(payload)


_ENTRY_TYPES = (
    Text,
    Reasoning,
    LogprobsEntry,
    ToolCallEntry,
    ToolCallDeltaEntry,
    UsageEntry,
    RawChunkEntry,
    Finish,
    Error,
    Delay,
    PreflightError,
    HarnessOk,
    ServerEntry,
)
