"""Reading scripts: tuples and builders to entries (every problem listed), and the cursors that pick one per call."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from ...adapters import Call
from ...data.response import Usage
from ...errors import AdapterError, ConfigurationError, StreamError
from .entries import (
    _ENTRY_TYPES,
    _FINISH_REASONS,
    _USAGE_FIELDS,
    Delay,
    Entry,
    Error,
    Finish,
    HarnessOk,
    LogprobsEntry,
    PreflightError,
    RawChunkEntry,
    Reasoning,
    Text,
    ToolCallDeltaEntry,
    UsageEntry,
    token_logprobs,
    tool_call,
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
        elif kind == "logprobs" and len(args) == 1 and isinstance(args[0], list | tuple):
            try:
                entry = LogprobsEntry(token_logprobs(args[0]))
            except TypeError as exc:
                problems.append(f"{where}: logprobs: {exc}")
                return None
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


def record(call: Call, option: str, request: Any) -> None:
    """Hand ``(request, call)`` to the sink in ``call``'s ``option``, a list or a callable (none
    set: nothing happens). Every fake records what it was asked through this."""
    sink = call.opt(option)
    if sink is None:
        return
    if callable(sink):
        sink(request, call)
    elif hasattr(sink, "append"):
        sink.append((request, call))
    else:
        raise ConfigurationError(
            "invalid_option", problems=[f"{option} must be a list or a callable"]
        )


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


def _is_list_of_lists(value: Any) -> bool:
    return bool(value) and all(isinstance(item, list) for item in value)
