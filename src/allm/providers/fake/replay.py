"""Replaying entries: the event stream of a streamed call and the ``Response`` of a whole one."""

from __future__ import annotations

from collections.abc import Generator, Iterator, Mapping
from typing import Any

from ..._json import JSONDecodeError, dumps, loads
from ...adapters import Call
from ...data.messages import Message, Role
from ...data.response import FinishReason, Response, TokenLogprob, Usage
from ...data.tools import ToolCall
from ...effects import Effect, Sleep
from ...errors import AdapterError, AllmError, StreamError
from ...events import (
    ErrorEvent,
    Event,
    LogprobsDelta,
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
from ...retry import Fail, Ok, Outcome
from ..parts import Extras
from .entries import (
    Delay,
    Entry,
    Error,
    Finish,
    HarnessOk,
    LogprobsEntry,
    RawChunkEntry,
    Reasoning,
    ServerEntry,
    Text,
    ToolCallDeltaEntry,
    ToolCallEntry,
    UsageEntry,
)


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
    found = Extras()
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
        elif kind is LogprobsEntry:
            yield LogprobsDelta(entry.items)  # type: ignore[union-attr]
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
        elif kind is ServerEntry:
            assert isinstance(entry, ServerEntry)
            event = found.add(entry.value)
            if event is not None:
                yield event
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
    message = Message(
        Role.ASSISTANT,
        full_text,
        tool_calls=tuple(completed.values()),
        metadata=found.message_metadata(),
    )
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
    logprobs: list[TokenLogprob] | None = None
    finish_reason = "stop"
    found = Extras()
    for entry in entries:
        kind = type(entry)
        if kind is Delay:
            yield Sleep(entry.ms / 1000)  # type: ignore[union-attr]
        elif kind is Text:
            text_parts.append(entry.text)  # type: ignore[union-attr]
        elif kind is Reasoning:
            reasoning_parts.append(entry.text)  # type: ignore[union-attr]
        elif kind is LogprobsEntry:
            logprobs = logprobs if logprobs is not None else []
            logprobs.extend(entry.items)  # type: ignore[union-attr]
        elif kind is ToolCallEntry:
            buffer.add(entry)  # type: ignore[arg-type]
        elif kind is ToolCallDeltaEntry:
            buffer.add_delta(entry)  # type: ignore[arg-type]
        elif kind is UsageEntry:
            usage_fields = dict(entry.fields)  # type: ignore[union-attr]
        elif kind is ServerEntry:
            found.add(entry.value)  # type: ignore[union-attr]
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
            message=Message(
                Role.ASSISTANT, output, tool_calls=calls, metadata=found.message_metadata()
            ),
            output_text=output,
            tool_calls=calls,
            finish_reason=FinishReason(finish_reason),
            usage=Usage(**usage_fields) if usage_fields else Usage(),
            metadata={} if entries else {"empty_script": True},
            reasoning="".join(reasoning_parts) if reasoning_parts else None,
            logprobs=None if logprobs is None else tuple(logprobs),
            **found.response_fields(),
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
