"""The Fake provider: a deterministic, scripted adapter for testing code that uses allm.

What it is: a real adapter (streaming and non-streaming) that ignores the request and replays a
script from the engine's ``adapter_opts``, so every path of the runner, the chat loop and sessions
can be driven without a network. What it is not: a model of any provider's wire format; the HTTP
adapters are tested on recorded bytes instead.

Scripts, in ``adapter_opts``: ``script=[...]`` (one call), ``scripts=[[...], [...]]`` (one list per
call), ``stream_script`` (streaming calls only; flat or a list of lists). Entries are builders from
this module or tuples::

    text("hi")                 ("text", "hi")
    tool_call(id=, name=, arguments=)  ("tool_call", {"id": ..., "name": ..., "arguments": {...}})
    tool_call_delta(id=, arguments_delta=)  ("tool_call_delta", {"id": ..., "arguments_delta": ...})
    usage(input_tokens=3)      ("usage", {"input_tokens": 3})
    raw_chunk(x)               ("raw_chunk", x)
    reasoning("...")           ("reasoning", "...")
    finish("stop")             ("finish", "stop")
    error("rate_limited")      ("error", "rate_limited")
    delay(50)                  ("delay", 50)        milliseconds

and the conformance harness's entries: ``("text_delta", s)``, ``("ok", {...})``,
``("error", reason, {...})``, ``("preflight_error", reason, {...})``, ``("error_event", reason,
{...})``, ``("stream_error", reason, {...})``.

Other options: ``retry_until_call=n`` (the first n-1 calls fail with a retryable timeout),
``usage`` (applied to every call, winning over script entries), ``record`` (a callable or list that
receives ``(request, call)`` when a call opens), ``cleanup_observer`` (called once when a stream
ends or is abandoned), ``script_cursor`` (a ``ScriptCursor`` shared between engines). Each engine
has its own cursor otherwise.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from .._json import JSONDecodeError, dumps, loads
from ..adapters import Call
from ..data.messages import Message, Role
from ..data.request import Request
from ..data.response import FinishReason, Response, Usage
from ..data.tools import ToolCall
from ..effects import Effect, Sleep
from ..errors import AdapterError, AllmError, ConfigurationError, StreamError
from ..events import (
    ErrorEvent,
    Event,
    MessageCompleted,
    MessageStarted,
    RawChunk,
    ReasoningCompleted,
    ReasoningDelta,
    TextCompleted,
    TextDelta,
    ToolCallCompleted,
    ToolCallDelta,
    ToolCallStarted,
)
from ..retry import NO_RETRY, Fail, Ok, Outcome, Retry, retrying

__all__ = [
    "Delay",
    "Entry",
    "Error",
    "Fake",
    "Finish",
    "HarnessOk",
    "PreflightError",
    "RawChunkEntry",
    "Reasoning",
    "ScriptCursor",
    "Text",
    "ToolCallDeltaEntry",
    "ToolCallEntry",
    "UsageEntry",
    "delay",
    "error",
    "error_event",
    "finish",
    "ok",
    "preflight_error",
    "raw_chunk",
    "reasoning",
    "stream_error",
    "text",
    "tool_call",
    "tool_call_delta",
    "usage",
]

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
class HarnessOk:
    """A whole non-streaming response, given as ``Response`` fields."""

    payload: dict[str, Any]


Entry = (
    Text
    | Reasoning
    | ToolCallEntry
    | ToolCallDeltaEntry
    | UsageEntry
    | RawChunkEntry
    | Finish
    | Error
    | Delay
    | PreflightError
    | HarnessOk
)


def text(value: str) -> Text:
    """Answer text."""
    return Text(value)


def reasoning(value: str, signature: str | None = None) -> Reasoning:
    """Reasoning text."""
    return Reasoning(value, signature)


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


def ok(**payload: Any) -> HarnessOk:
    """A whole non-streaming response."""
    return HarnessOk(payload)


_ENTRY_TYPES = (
    Text,
    Reasoning,
    ToolCallEntry,
    ToolCallDeltaEntry,
    UsageEntry,
    RawChunkEntry,
    Finish,
    Error,
    Delay,
    PreflightError,
    HarnessOk,
)
_warned_sleep = False


def _parse_tool_call(payload: Any, where: str, problems: list[str]) -> Entry | None:
    if not isinstance(payload, Mapping) or not payload.get("id") or not payload.get("name"):
        problems.append(f"{where}: tool_call needs a mapping with 'id' and 'name'")
        return None
    arguments = payload.get("arguments") or {}
    if not isinstance(arguments, Mapping):
        problems.append(f"{where}: tool_call arguments must be a mapping")
        return None
    unknown = set(payload) - {"id", "name", "arguments", "raw_arguments", "metadata"}
    if unknown:
        problems.append(f"{where}: tool_call has unknown key(s) {sorted(unknown)}")
        return None
    return tool_call(
        id=payload["id"],
        name=payload["name"],
        arguments=arguments,
        raw_arguments=payload.get("raw_arguments"),
        metadata=payload.get("metadata"),
    )


def _parse_entry(raw: Any, where: str, problems: list[str]) -> Entry | None:
    global _warned_sleep
    if isinstance(raw, _ENTRY_TYPES):
        entry: Entry = raw
    elif not isinstance(raw, tuple) or not raw or not isinstance(raw[0], str):
        problems.append(f"{where}: not a script entry: {raw!r}")
        return None
    else:
        kind, args = raw[0], raw[1:]
        if kind in ("text", "text_delta") and len(args) == 1 and isinstance(args[0], str):
            entry = Text(args[0])
        elif kind == "reasoning" and len(args) in (1, 2) and isinstance(args[0], str):
            entry = Reasoning(*args)
        elif kind == "tool_call" and len(args) == 1:
            return _parse_tool_call(args[0], where, problems)
        elif kind == "tool_call_delta" and len(args) == 1 and isinstance(args[0], Mapping):
            payload = args[0]
            if not payload.get("id") or not isinstance(payload.get("arguments_delta"), str):
                problems.append(f"{where}: tool_call_delta needs 'id' and 'arguments_delta'")
                return None
            entry = ToolCallDeltaEntry(payload["id"], payload["arguments_delta"])
        elif kind == "usage" and len(args) == 1 and isinstance(args[0], Mapping | Usage):
            values = args[0]
            entry = UsageEntry(_usage_fields(values) if isinstance(values, Usage) else dict(values))
        elif kind == "raw_chunk" and len(args) == 1:
            entry = RawChunkEntry(args[0])
        elif kind == "finish" and len(args) == 1:
            entry = Finish(args[0])
        elif kind == "error" and len(args) == 1:
            entry = Error(args[0])
        elif kind == "error" and len(args) == 2 and isinstance(args[1], Mapping):
            entry = Error(args[0], "adapter", dict(args[1]), scripted=False)
        elif kind in ("error_event", "stream_error", "preflight_error") and len(args) in (1, 2):
            values = dict(args[1]) if len(args) == 2 else {}
            if kind == "preflight_error":
                entry = PreflightError(args[0], values)
            else:
                entry = Error(
                    args[0], "adapter" if kind == "error_event" else "stream", values, False
                )
        elif kind in ("delay", "sleep") and len(args) == 1 and isinstance(args[0], int | float):
            if kind == "sleep" and not _warned_sleep:
                _warned_sleep = True
                warnings.warn(
                    "Fake script entry 'sleep' is deprecated; use 'delay'",
                    DeprecationWarning,
                    stacklevel=4,
                )
            entry = Delay(args[0])
        elif kind == "ok" and len(args) == 1 and isinstance(args[0], Mapping):
            entry = HarnessOk(dict(args[0]))
        else:
            problems.append(f"{where}: unknown or malformed Fake entry {raw!r}")
            return None
    _check_entry(entry, where, problems)
    return entry


def _usage_fields(value: Usage) -> dict[str, Any]:
    return {f: getattr(value, f) for f in _USAGE_FIELDS if getattr(value, f) not in (None, {})}


def _check_entry(entry: Entry, where: str, problems: list[str]) -> None:
    if isinstance(entry, UsageEntry):
        unknown = set(entry.fields) - _USAGE_FIELDS
        if unknown:
            problems.append(f"{where}: usage has unknown field(s) {sorted(unknown)}")
    elif isinstance(entry, Finish):
        if entry.reason is not None and (
            not isinstance(entry.reason, str) or entry.reason not in _FINISH_REASONS
        ):
            problems.append(f"{where}: unknown finish reason {entry.reason!r}")
    elif isinstance(entry, Delay):
        if entry.ms < 0:
            problems.append(f"{where}: delay must not be negative")
    elif isinstance(entry, Error | PreflightError) and not (
        isinstance(entry, Error) and entry.scripted
    ):
        legal = (
            StreamError.reasons
            if getattr(entry, "kind", "adapter") == "stream"
            else AdapterError.reasons
        )
        if not isinstance(entry.reason, str) or entry.reason not in legal:
            problems.append(f"{where}: unknown error reason {entry.reason!r}")


def parse_script(raw: Any, where: str = "script") -> tuple[Entry, ...]:
    """Check a script, listing every problem at once; return its entries."""
    problems: list[str] = []
    if not isinstance(raw, Sequence) or isinstance(raw, str | bytes):
        raise ConfigurationError("invalid_script", problems=[f"{where}: must be a list of entries"])
    entries = []
    for index, item in enumerate(raw):
        entry = _parse_entry(item, f"{where}[{index}]", problems)
        if entry is not None:
            entries.append(entry)
    for index, entry in enumerate(entries):
        if isinstance(entry, PreflightError) and index != 0:
            problems.append(f"{where}[{index}]: preflight_error must be the first entry")
    if problems:
        raise ConfigurationError("invalid_script", problems=problems)
    return tuple(entries)


# ------------------------------------------------------------------------------------ cursor


class ScriptCursor:
    """Which script list comes next. Pass one as ``script_cursor`` to share it between engines."""

    __slots__ = ("_lock", "attempts", "position")

    def __init__(self) -> None:
        self.position = 0
        self.attempts = 0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ScriptCursor(position={self.position}, attempts={self.attempts})"

    def __getstate__(self) -> tuple[int, int]:
        return (self.position, self.attempts)

    def __setstate__(self, state: tuple[int, int]) -> None:
        self.position, self.attempts = state
        self._lock = threading.Lock()


class CursorBook:
    """One ``ScriptCursor`` per engine (keyed by the engine id the runner passes as
    ``cursor_key``), or the caller's own cursor under ``option``. Shared by the fakes."""

    __slots__ = ("_cursors", "_lock", "option")

    def __init__(self, option: str) -> None:
        self.option = option
        self._cursors: dict[str, ScriptCursor] = {}
        self._lock = threading.Lock()

    def __getstate__(self) -> tuple[str, dict[str, ScriptCursor]]:
        return (self.option, self._cursors)

    def __setstate__(self, state: tuple[str, dict[str, ScriptCursor]]) -> None:
        self.option, self._cursors = state
        self._lock = threading.Lock()

    def clear(self) -> None:
        """Forget every cursor."""
        with self._lock:
            self._cursors.clear()

    def for_call(self, call: Call) -> ScriptCursor:
        """The cursor this call advances."""
        explicit = call.opt(self.option)
        if explicit is not None:
            if not isinstance(explicit, ScriptCursor):
                raise ConfigurationError(
                    "invalid_option", problems=[f"{self.option} must be a ScriptCursor"]
                )
            return explicit
        key = str(call.opt("cursor_key", call.engine.id))
        with self._lock:
            found = self._cursors.get(key)
            if found is None:
                found = self._cursors[key] = ScriptCursor()
            return found


def _no_script(call: Call, message: str) -> AdapterError:
    return AdapterError(
        "no_scripted_response", message, provider="fake", request_id=call.request_id
    )


def _is_list_of_lists(value: Any) -> bool:
    return bool(value) and all(isinstance(item, list) for item in value)


# ------------------------------------------------------------------------------------ adapter


class Fake:
    """The scripted test adapter. One instance keeps one cursor per engine (by engine id)."""

    name = "fake"
    output_modes = ("native", "tool", "prompted")

    def __init__(self) -> None:
        self._cursors = CursorBook("script_cursor")

    def __repr__(self) -> str:
        return "Fake()"

    def reset(self) -> None:
        """Forget every cursor."""
        self._cursors.clear()

    def cursor(self, call: Call) -> ScriptCursor:
        """The cursor this call advances."""
        return self._cursors.for_call(call)

    def _scripts(self, call: Call, streaming: bool) -> list[Any] | None:
        opts = call.adapter_opts
        if "script" in opts and "scripts" in opts:
            raise ConfigurationError(
                "invalid_script", problems=["set either 'script' or 'scripts', not both"]
            )
        if streaming and opts.get("stream_script") is not None:
            value = opts["stream_script"]
            return list(value) if _is_list_of_lists(value) else [value]
        if opts.get("scripts") is not None:
            scripts = opts["scripts"]
            if not isinstance(scripts, Sequence) or not all(
                isinstance(s, Sequence) for s in scripts
            ):
                raise ConfigurationError(
                    "invalid_script", problems=["scripts must be a list of lists"]
                )
            return list(scripts)
        if opts.get("script") is not None:
            return [opts["script"]]
        return None

    def _next_script(self, call: Call, streaming: bool) -> tuple[Entry, ...] | None:
        """The script for this call, or None when ``retry_until_call`` makes this call fail."""
        scripts = self._scripts(call, streaming)
        fail_until = call.opt("retry_until_call")
        if fail_until is not None and (not isinstance(fail_until, int) or fail_until < 1):
            raise ConfigurationError(
                "invalid_option", problems=["retry_until_call must be a positive int"]
            )
        cursor = self.cursor(call)
        with cursor._lock:
            if fail_until is not None and cursor.attempts < fail_until - 1:
                cursor.attempts += 1
                return None
            if scripts is None:
                raise _no_script(
                    call, "no scripted response: the engine's adapter_opts has no script"
                )
            if cursor.position >= len(scripts):
                raise _no_script(call, f"no scripted response: all {len(scripts)} script(s) used")
            index = cursor.position
            entries = parse_script(
                scripts[index], f"scripts[{index}]" if len(scripts) > 1 else "script"
            )
            cursor.position += 1
        return entries

    def _usage_override(self, call: Call) -> dict[str, Any] | None:
        value = call.opt("usage")
        if value is None:
            return None
        if isinstance(value, Usage):
            return _usage_fields(value)
        if isinstance(value, Mapping):
            unknown = set(value) - _USAGE_FIELDS
            if unknown:
                raise ConfigurationError(
                    "invalid_option", problems=[f"usage has unknown field(s) {sorted(unknown)}"]
                )
            return dict(value)
        raise ConfigurationError("invalid_option", problems=["usage must be a Usage or a mapping"])

    def _record(self, request: Request, call: Call) -> None:
        sink = call.opt("record")
        if sink is None:
            return
        if callable(sink):
            sink(request, call)
        else:
            sink.append((request, call))

    # -- streaming ------------------------------------------------------------------------------

    def stream(self, request: Request, call: Call) -> Iterator[Event | Effect]:
        """Pick this call's script now (failing now if there is none); replay it lazily."""
        usage_override = self._usage_override(call)
        entries = self._next_script(call, streaming=True)
        if entries and isinstance(entries[0], PreflightError):
            first = entries[0]
            raise AdapterError(first.reason, provider="fake", **_error_fields(first.fields))
        observer = call.opt("cleanup_observer")
        if observer is not None and not callable(observer):
            raise ConfigurationError(
                "invalid_option", problems=["cleanup_observer must be callable"]
            )
        return self._replay(request, call, entries, usage_override, observer)

    def _replay(
        self,
        request: Request,
        call: Call,
        entries: tuple[Entry, ...] | None,
        usage_override: dict[str, Any] | None,
        observer: Callable[[], Any] | None,
    ) -> Iterator[Event | Effect]:
        try:
            self._record(request, call)
            if entries is None:
                yield MessageStarted(Message(Role.ASSISTANT, ""))
                yield ErrorEvent(
                    AdapterError("timeout", "scripted transient timeout", provider="fake")
                )
                return
            yield from _stream_entries(entries, usage_override)
        finally:
            if observer is not None:
                observer()

    # -- non-streaming --------------------------------------------------------------------------

    def generate(self, request: Request, call: Call) -> Generator[Effect, Any, Response]:
        """Replay the script as one whole response, under the call's retry policy."""
        usage_override = self._usage_override(call)
        scripts = self._scripts(call, streaming=False)  # fails now on a script/scripts clash
        fail_until = call.opt("retry_until_call")
        cursor = self.cursor(call)
        failing = isinstance(fail_until, int) and cursor.attempts < fail_until - 1
        if not failing and (scripts is None or cursor.position >= len(scripts)):
            # Out of script is a pre-flight failure, exactly as on the streaming path.
            raise _no_script(call, "no scripted response: the script is used up or missing")
        return self._generate(request, call, usage_override)

    def _generate(
        self, request: Request, call: Call, usage_override: dict[str, Any] | None
    ) -> Generator[Effect, Any, Response]:
        self._record(request, call)

        def attempt(number: int) -> Generator[Effect, Any, Outcome[Response]]:
            try:
                entries = self._next_script(call, streaming=False)
            except AdapterError as exc:
                return Fail(exc)
            if entries is None:
                return Retry(
                    AdapterError("timeout", "scripted transient timeout", provider="fake"), 0
                )
            return (yield from _build_response(entries, call, usage_override))

        policy = call.retry or NO_RETRY
        meta = {"provider": "fake", "request_id": call.request_id}
        outcome = yield from retrying(policy, meta, attempt)
        if isinstance(outcome, Ok):
            return outcome.value
        raise outcome.error


def _error_fields(values: Mapping[str, Any]) -> dict[str, Any]:
    kwargs = {k: values[k] for k in ("status", "retry_after_ms", "request_id") if k in values}
    if "message" in values:
        kwargs["message"] = values["message"]
    return kwargs


def _make_error(entry: Error) -> AllmError:
    if entry.kind == "stream":
        kwargs = {k: v for k, v in _error_fields(entry.fields).items() if k == "message"}
        return StreamError(entry.reason, provider="fake", **kwargs)
    if isinstance(entry.reason, str) and entry.reason in AdapterError.reasons:
        return AdapterError(entry.reason, provider="fake", **_error_fields(entry.fields))
    return AdapterError("unknown", provider="fake", cause=entry.reason)


class _ToolCallBuffer:
    """The Fake's own view of the calls in a script, for the message it completes."""

    def __init__(self) -> None:
        self.calls: dict[str, ToolCall] = {}

    def add(self, entry: ToolCallEntry) -> ToolCall:
        raw = entry.raw_arguments if entry.raw_arguments is not None else dumps(entry.arguments)
        call = ToolCall(entry.id, entry.name, entry.arguments, raw, entry.metadata)
        self.calls[entry.id] = call
        return call

    def add_delta(self, entry: ToolCallDeltaEntry) -> None:
        current = self.calls.get(entry.id) or ToolCall(entry.id, "", {}, "")
        raw = (current.raw_arguments or "") + entry.arguments_delta
        self.calls[entry.id] = ToolCall(
            current.id, current.name, current.arguments, raw, current.metadata
        )

    def finished(self) -> tuple[ToolCall, ...]:
        result = []
        for call in self.calls.values():
            arguments = call.arguments
            if not arguments and call.raw_arguments:
                try:
                    parsed = loads(call.raw_arguments)
                except (JSONDecodeError, ValueError):
                    parsed = None
                if isinstance(parsed, dict):
                    arguments = parsed
            result.append(
                ToolCall(call.id, call.name, arguments, call.raw_arguments, call.metadata)
            )
        return tuple(result)


def _stream_entries(
    entries: tuple[Entry, ...], usage_override: dict[str, Any] | None
) -> Iterator[Event | Effect]:
    started = False
    text_parts: list[str] = []
    reasoning_parts: list[str] = []
    signature: str | None = None
    completed: dict[str, ToolCall] = {}
    buffer = _ToolCallBuffer()
    finish_reason: str | None = None
    finished = False
    for entry in entries:
        if type(entry) is Delay:
            yield Sleep(entry.ms / 1000)
            continue
        if not started:
            started = True
            yield MessageStarted(Message(Role.ASSISTANT, ""))
        kind = type(entry)
        if kind is Text:
            text_parts.append(entry.text)  # type: ignore[union-attr]
            yield TextDelta(entry.text)  # type: ignore[union-attr]
        elif kind is Reasoning:
            reasoning_parts.append(entry.text)  # type: ignore[union-attr]
            signature = entry.signature or signature  # type: ignore[union-attr]
            yield ReasoningDelta(entry.text)  # type: ignore[union-attr]
        elif kind is ToolCallEntry:
            assert isinstance(entry, ToolCallEntry)
            call = buffer.add(entry)
            completed[call.id] = call
            yield ToolCallStarted(call.id, call.name)
            yield ToolCallCompleted(
                call.id, call.name, call.arguments, call.raw_arguments, call.metadata
            )
        elif kind is ToolCallDeltaEntry:
            assert isinstance(entry, ToolCallDeltaEntry)
            buffer.add_delta(entry)
            yield ToolCallDelta(entry.id, entry.arguments_delta)
        elif kind is UsageEntry:
            if usage_override is None:
                yield RawChunk(("usage", dict(entry.fields)))  # type: ignore[union-attr]
        elif kind is RawChunkEntry:
            yield RawChunk(entry.data)  # type: ignore[union-attr]
        elif kind is Error:
            assert isinstance(entry, Error)
            yield ErrorEvent(_make_error(entry))
        elif kind is Finish:
            finish_reason = entry.reason  # type: ignore[union-attr]
            finished = True
            break
    if not started:
        yield MessageStarted(Message(Role.ASSISTANT, ""))
    if reasoning_parts:
        yield ReasoningCompleted("".join(reasoning_parts), signature)
    full_text = "".join(text_parts)
    if text_parts:
        yield TextCompleted(full_text)
    if usage_override is not None:
        yield RawChunk(("usage", dict(usage_override)))
    message = Message(Role.ASSISTANT, full_text, tool_calls=tuple(completed.values()))
    yield MessageCompleted(
        message, FinishReason(finish_reason) if finished and finish_reason else None
    )


def _build_response(
    entries: tuple[Entry, ...], call: Call, usage_override: dict[str, Any] | None
) -> Generator[Effect, Any, Outcome[Response]]:
    text_parts: list[str] = []
    reasoning_parts: list[str] = []
    buffer = _ToolCallBuffer()
    usage_fields: dict[str, Any] | None = None
    finish_reason = "stop"
    for entry in entries:
        kind = type(entry)
        if kind is Delay:
            yield Sleep(entry.ms / 1000)  # type: ignore[union-attr]
        elif kind is Text:
            text_parts.append(entry.text)  # type: ignore[union-attr]
        elif kind is Reasoning:
            reasoning_parts.append(entry.text)  # type: ignore[union-attr]
        elif kind is ToolCallEntry:
            buffer.add(entry)  # type: ignore[arg-type]
        elif kind is ToolCallDeltaEntry:
            buffer.add_delta(entry)  # type: ignore[arg-type]
        elif kind is UsageEntry:
            usage_fields = dict(entry.fields)  # type: ignore[union-attr]
        elif kind is Error:
            assert isinstance(entry, Error)
            if entry.scripted:
                return Fail(
                    AdapterError(
                        "unknown",
                        "scripted error",
                        provider="fake",
                        cause=entry.reason,
                        request_id=call.request_id,
                    )
                )
            return Fail(_make_error(entry))
        elif kind is HarnessOk:
            assert isinstance(entry, HarnessOk)
            return Ok(_harness_response(entry.payload, call, usage_override))
        elif kind is Finish:
            finish_reason = entry.reason or "stop"  # type: ignore[union-attr]
            break
    if usage_override is not None:
        usage_fields = usage_override
    output = "".join(text_parts)
    calls = buffer.finished()
    return Ok(
        Response(
            request_id=call.request_id,
            message=Message(Role.ASSISTANT, output, tool_calls=calls),
            output_text=output,
            tool_calls=calls,
            finish_reason=FinishReason(finish_reason),
            usage=Usage(**usage_fields) if usage_fields else Usage(),
            metadata={} if entries else {"empty_script": True},
            reasoning="".join(reasoning_parts) if reasoning_parts else None,
        )
    )


def _harness_response(
    payload: Mapping[str, Any], call: Call, usage_override: dict[str, Any] | None
) -> Response:
    output = payload.get("output_text", payload.get("text"))
    usage_value = payload.get("usage")
    if usage_override is not None:
        usage_value = usage_override
    if isinstance(usage_value, Mapping):
        usage_value = Usage(**usage_value)
    calls = tuple(payload.get("tool_calls", ()))
    return Response(
        id=payload.get("id"),
        request_id=payload.get("request_id", call.request_id),
        model=payload.get("model"),
        message=payload.get("message") or Message(Role.ASSISTANT, output or "", tool_calls=calls),
        output_text=output,
        tool_calls=calls,
        finish_reason=FinishReason(payload.get("finish_reason", "stop")),
        usage=usage_value or Usage(),
        raw=payload.get("raw"),
        metadata=dict(payload.get("metadata", {})),
    )
