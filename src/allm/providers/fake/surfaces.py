"""What the scripted fakes of the non-chat surfaces share (embeddings, moderation).

Without a script a fake answers deterministically (the same input gives the same output). With
one (``adapter_opts[<script option>]``: ``embedding_script``, ``moderation_script``; never the
chat Fake's ``script``, since one engine's adapter options serve all its adapters), each adapter
request consumes the next entry, in the order the requests are made:

    ok(value)                  ("ok", value)         the request's answer
    error("rate_limited")      ("error", reason)     the request fails with AdapterError(reason)
    retry_until_call(n)        ("retry_until_call", n)
                               the next n - 1 requests fail with a retryable rate limit

A request past the end of a script fails with ``AdapterError("no_scripted_response")``.
``adapter_opts[<record option>]`` (a list or a callable) sees every request.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from ...adapters import Call
from ...effects import Effect
from ...errors import AdapterError, ConfigurationError
from .script import CursorBook

__all__ = ["Err", "Ok", "RetryUntil", "ScriptedFake", "error", "ok", "retry_until_call"]

T = TypeVar("T")
_ERROR_FIELDS = frozenset({"message", "status", "retry_after_ms", "metadata"})


@dataclass(frozen=True, slots=True)
class Ok:
    """One request's scripted answer (checked by the fake that serves it)."""

    value: Any


@dataclass(frozen=True, slots=True)
class Err:
    """One request's failure."""

    error: AdapterError


@dataclass(frozen=True, slots=True)
class RetryUntil:
    """Fail the next ``calls - 1`` requests with ``rate_limited``, then serve the next entry."""

    calls: int


Entry = Ok | Err | RetryUntil


def ok(value: Any) -> Ok:
    """A request answered with ``value``."""
    return Ok(value)


def error(reason: str = "unknown", **fields: Any) -> Err:
    """A request that fails with ``AdapterError(reason, **fields)``."""
    problems: list[str] = []
    entry = _error(reason, fields, "error()", problems)
    if entry is None:
        raise ConfigurationError("invalid_script", problems=problems)
    return entry


def retry_until_call(calls: int) -> RetryUntil:
    """Fail the next ``calls - 1`` requests with a retryable ``rate_limited``."""
    if not isinstance(calls, int) or isinstance(calls, bool) or calls < 1:
        raise ConfigurationError(
            "invalid_script", problems=[f"retry_until_call needs a positive int, got {calls!r}"]
        )
    return RetryUntil(calls)


def _error(reason: Any, fields: Mapping[str, Any], where: str, problems: list[str]) -> Err | None:
    if isinstance(reason, AdapterError) and not fields:
        return Err(reason)
    if not isinstance(reason, str) or reason not in AdapterError.reasons:
        problems.append(f"{where}: unknown error reason {reason!r}")
        return None
    unknown = set(fields) - _ERROR_FIELDS
    if unknown:
        problems.append(f"{where}: unknown error field(s) {sorted(unknown)}")
        return None
    return Err(AdapterError(reason, provider="fake", **fields))


def _entry(raw: Any, where: str, problems: list[str]) -> Entry | None:
    if isinstance(raw, Ok | Err | RetryUntil):
        return raw
    if isinstance(raw, tuple) and len(raw) == 2 and raw[0] in ("ok", "error", "retry_until_call"):
        kind, value = raw
        if kind == "ok":
            return Ok(value)
        if kind == "error":
            return _error(value, {}, where, problems)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return RetryUntil(value)
    problems.append(f"{where}: not a script entry: {raw!r}")
    return None


class ScriptedFake(Generic[T]):
    """Base of the surface fakes: script parsing, one cursor per engine, recording.

    A subclass sets the option names and implements ``answer(request, value)`` (a scripted
    value checked and turned into the response) and ``default(request, call)`` (the deterministic
    answer when there is no script).
    """

    name: ClassVar[str] = "fake"
    stand_in: ClassVar[bool] = True  # reads the engine's options whatever its provider (offline)
    script_option: ClassVar[str] = "script"
    record_option: ClassVar[str] = "record"

    def __init__(self) -> None:
        self._cursors = CursorBook(self.script_option + "_cursor")

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def reset(self) -> None:
        """Forget every cursor."""
        self._cursors.clear()

    def answer(self, request: Any, value: Any) -> T:  # pragma: no cover - subclasses override
        """The response for a scripted ``value`` (raise ``ConfigurationError`` if it is wrong)."""
        raise NotImplementedError

    def default(self, request: Any, call: Call) -> T:  # pragma: no cover - subclasses override
        """The deterministic response when there is no script."""
        raise NotImplementedError

    def entries(self, call: Call) -> tuple[Entry, ...] | None:
        """The call's script, checked (every problem at once), or None without one."""
        raw = call.opt(self.script_option)
        where = self.script_option
        if raw is None:
            return None
        if not isinstance(raw, Sequence) or isinstance(raw, str | bytes):
            raise ConfigurationError("invalid_script", problems=[f"{where}: must be a list"])
        problems: list[str] = []
        found = [_entry(item, f"{where}[{i}]", problems) for i, item in enumerate(raw)]
        if problems:
            raise ConfigurationError("invalid_script", problems=problems)
        return tuple(entry for entry in found if entry is not None)

    def serve(self, request: Any, call: Call) -> Generator[Effect, Any, T]:
        """Record the request and take its entry now; return the plan (no I/O)."""
        entries = self.entries(call)
        sink = call.opt(self.record_option)
        if callable(sink):
            sink(request, call)
        elif sink is not None:
            sink.append((request, call))
        outcome: T | AdapterError
        if entries is None:
            outcome = self.default(request, call)
        else:
            taken = self._advance(call, entries)
            outcome = taken if isinstance(taken, AdapterError) else self.answer(request, taken)
        return self._plan(outcome)

    @staticmethod
    def _plan(outcome: Any) -> Generator[Effect, Any, T]:
        yield from ()
        if isinstance(outcome, AdapterError):
            raise outcome
        return outcome  # type: ignore[no-any-return]

    def _advance(self, call: Call, entries: tuple[Entry, ...]) -> Any:
        cursor = self._cursors.for_call(call)
        with cursor._lock:
            while cursor.position < len(entries):
                entry = entries[cursor.position]
                if not isinstance(entry, RetryUntil):
                    break
                if cursor.attempts < entry.calls - 1:
                    cursor.attempts += 1
                    return AdapterError(
                        "rate_limited",
                        "scripted transient rate limit",
                        provider="fake",
                        status=429,
                        retry_after_ms=0,
                    )
                cursor.attempts = 0
                cursor.position += 1
            if cursor.position >= len(entries):
                return AdapterError(
                    "no_scripted_response",
                    f"no scripted answer: all {len(entries)} entries used",
                    provider="fake",
                )
            entry = entries[cursor.position]
            cursor.position += 1
        if isinstance(entry, Err):
            return entry.error
        assert isinstance(entry, Ok)  # the loop above stepped over every RetryUntil
        return entry.value
