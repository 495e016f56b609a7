"""Anthropic answers: usage, stop reasons, the turn being assembled and the named-event stream decoder."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..._json import dumps, loads_wire
from ..._json import loads as json_loads
from ..._text import TextBuffer
from ...adapters.base import StreamDecoder
from ...adapters.http import HttpResult
from ...adapters.sse import SSEEvent
from ...data.messages import Message, Role
from ...data.response import FinishReason
from ...data.tools import ToolCall
from ...errors import AdapterError
from ...events import (
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
from ..wire import as_int
from .errors import classify
from .settings import REDACTED_THINKING_ID, THINKING_ID

_STOP_REASONS: dict[str, FinishReason] = {
    "end_turn": FinishReason.STOP,
    "stop_sequence": FinishReason.STOP,
    "max_tokens": FinishReason.LENGTH,
    "model_context_window_exceeded": FinishReason.LENGTH,
    "tool_use": FinishReason.TOOL_CALLS,
    "refusal": FinishReason.CONTENT_FILTER,
    "pause_turn": FinishReason.OTHER,
}

# Usage keys lifted into Usage fields; every other counter goes to ``extra``.
_LIFTED_USAGE = frozenset(
    {
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
        "output_tokens_details",
        "server_tool_use",
    }
)


# -- pure helpers ---------------------------------------------------------------------------------


def usage_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    """``Usage`` keyword arguments from an Anthropic usage object.

    ``input_tokens`` becomes inclusive (uncached + cache writes + cache reads, the raw count is
    kept in ``extra["uncached_input_tokens"]``); there is no provider total, so ``total_tokens``
    is input + output when both are known. Absent counters stay ``None``.
    """
    uncached = as_int(raw.get("input_tokens"))
    writes = as_int(raw.get("cache_creation_input_tokens"))
    reads = as_int(raw.get("cache_read_input_tokens"))
    known = [count for count in (uncached, writes, reads) if count is not None]
    input_tokens = sum(known) if known else None
    output_tokens = as_int(raw.get("output_tokens"))
    details = raw.get("output_tokens_details")
    reasoning = (
        as_int(details.get("thinking_tokens"))
        if (type(details) is dict or isinstance(details, Mapping))
        else None
    )
    total = (
        input_tokens + output_tokens
        if input_tokens is not None and output_tokens is not None
        else None
    )
    extra = {key: value for key, value in raw.items() if key not in _LIFTED_USAGE}
    if uncached is not None:
        extra["uncached_input_tokens"] = uncached
    server_tools = raw.get("server_tool_use")
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cached_input_tokens": reads,
        "cache_write_input_tokens": writes,
        "reasoning_tokens": reasoning,
        "total_tokens": total,
        "tool_usage": dict(server_tools)
        if (type(server_tools) is dict or isinstance(server_tools, Mapping))
        else {},
        "extra": extra,
    }


def finish_reason_for(
    raw: str | None, *, tool_calls: bool, structured: bool = False
) -> FinishReason | None:
    """The normalized finish reason for a ``stop_reason``.

    A stop with tool calls is promoted to ``tool_calls``; the forced structured-output tool is
    not a tool call, so a ``tool_use`` stop caused by it alone is a plain ``stop``.
    """
    if raw is None:
        return None
    reason = _STOP_REASONS.get(raw, FinishReason.OTHER)
    if reason is FinishReason.TOOL_CALLS and structured and not tool_calls:
        return FinishReason.STOP
    if reason is FinishReason.STOP and tool_calls:
        return FinishReason.TOOL_CALLS
    return reason


def _parse_arguments(raw: str) -> tuple[dict[str, Any], str | None]:
    """Parsed tool input and, when it is not a JSON object, why."""
    if not raw.strip():
        return {}, None
    try:
        value = json_loads(raw)
    except ValueError as exc:
        return {}, f"invalid JSON arguments: {exc}"
    if not isinstance(value, dict):
        return {}, "tool arguments are not a JSON object"
    return value, None


# -- the turn being assembled (shared by the stream decoder and the whole-body parser) -----------


class _Turn:
    """What one assistant turn produced so far, and the final message built from it."""

    __slots__ = (
        "citations",
        "model",
        "provider_request_id",
        "raw_usage",
        "reasoning_blocks",
        "response_id",
        "stop_details",
        "stop_reason",
        "stop_sequence",
        "structured",
        "structured_text",
        "text_parts",
        "tool_calls",
    )

    def __init__(self, structured: str | None, provider_request_id: str | None) -> None:
        self.structured = structured
        self.provider_request_id = provider_request_id
        self.response_id: str | None = None
        self.model: str | None = None
        self.text_parts: TextBuffer = TextBuffer()
        self.tool_calls: list[ToolCall] = []
        self.structured_text: str | None = None
        self.reasoning_blocks: list[dict[str, Any]] = []
        self.citations: list[Any] = []
        self.raw_usage: dict[str, Any] = {}
        self.stop_reason: str | None = None
        self.stop_sequence: str | None = None
        self.stop_details: Any = None

    def merge_usage(self, usage: Any) -> dict[str, Any] | None:
        """Fold a usage object (cumulative: present values replace); the Usage fields after it."""
        if not (type(usage) is dict or isinstance(usage, Mapping)):
            return None
        for key, value in usage.items():
            if value is not None:
                self.raw_usage[key] = value
        return usage_fields(self.raw_usage)

    def tool_call(
        self, call_id: str, name: str, raw: str | None, given: Any = None
    ) -> ToolCall | None:
        """Record a finished ``tool_use`` block; None when it was the structured-output tool."""
        if raw is None:
            arguments = dict(given) if (type(given) is dict or isinstance(given, Mapping)) else {}
            problem = None
        else:
            arguments, problem = _parse_arguments(raw)
        if self.structured is not None and name == self.structured:
            if problem is None:
                self.structured_text = dumps(arguments)
            else:
                self.structured_text = raw or ""
            return None
        metadata = {"arguments_error": problem} if problem else {}
        call = ToolCall(call_id, name, arguments, raw, metadata)
        self.tool_calls.append(call)
        return call

    def reasoning(self, text: str, signature: str | None, block_id: str) -> None:
        self.reasoning_blocks.append({"text": text, "signature": signature, "id": block_id})

    def stop(self, delta: Mapping[str, Any]) -> None:
        if delta.get("stop_reason") is not None:
            self.stop_reason = delta["stop_reason"]
        if delta.get("stop_sequence") is not None:
            self.stop_sequence = delta["stop_sequence"]
        if delta.get("stop_details") is not None:
            self.stop_details = delta["stop_details"]

    @property
    def text(self) -> str:
        if self.structured_text is not None:
            return self.structured_text
        return "".join(self.text_parts)

    @property
    def has_text(self) -> bool:
        return self.structured_text is not None or any(self.text_parts)

    def finish_reason(self) -> FinishReason | None:
        return finish_reason_for(
            self.stop_reason,
            tool_calls=bool(self.tool_calls),
            structured=self.structured_text is not None,
        )

    def identity(self) -> dict[str, Any]:
        """The provider facts known so far (ids and model), without ``None`` values."""
        facts = {
            "response_id": self.response_id,
            "model": self.model,
            "provider_request_id": self.provider_request_id,
        }
        return {key: value for key, value in facts.items() if value is not None}

    def extras(self) -> dict[str, Any]:
        """Metadata beyond the identity: stop details, refusal, structured output, citations."""
        extras: dict[str, Any] = {}
        if self.stop_sequence is not None:
            extras["stop_sequence"] = self.stop_sequence
        if self.stop_details is not None:
            extras["stop_details"] = self.stop_details
            if isinstance(self.stop_details, Mapping) and self.stop_details.get("explanation"):
                extras["refusal"] = self.stop_details["explanation"]
        if self.structured_text is not None:
            extras["structured_output_tool"] = True
        if self.citations:
            extras["citations"] = tuple(self.citations)
        return extras

    def message(self) -> Message:
        metadata: dict[str, Any] = {}
        if self.reasoning_blocks:
            metadata["reasoning_blocks"] = tuple(self.reasoning_blocks)
        return Message(
            Role.ASSISTANT, self.text, tool_calls=tuple(self.tool_calls), metadata=metadata
        )

    def completed(self) -> MessageCompleted:
        metadata = {**self.identity(), **self.extras(), "raw_finish_reason": self.stop_reason}
        return MessageCompleted(self.message(), self.finish_reason(), metadata)


# -- streaming ------------------------------------------------------------------------------------


class _Block:
    __slots__ = ("data", "id", "input", "kind", "name", "parts", "signature")

    def __init__(self, kind: str, block_id: str = "", name: str = "") -> None:
        self.kind = kind
        self.id = block_id
        self.name = name
        self.parts: TextBuffer = TextBuffer()
        self.signature: TextBuffer = TextBuffer()
        self.data: str | None = None
        self.input: Any = None


class AnthropicStreamDecoder(StreamDecoder):
    """Named Anthropic SSE events in, allm events out.

    ``message_start`` opens the message (with its id and model; a stream that fails before it
    still opens one), blocks are tracked by their index, ``message_stop`` is the terminal event,
    ``event: error`` ends the stream as an ``ErrorEvent``, ``ping`` and unknown events are
    skipped (unknown ones surface as raw chunks).
    """

    def __init__(self, provider: str, request_id: str, structured: str | None) -> None:
        self.provider = provider
        self.request_id = request_id
        self.turn = _Turn(structured, None)
        self.blocks: dict[Any, _Block] = {}
        self.started = False
        self.done = False

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self, result: HttpResult) -> list[Event]:
        """Remember the provider request id; the message opens with ``message_start``."""
        headers = result.headers
        self.turn.provider_request_id = headers.get("request-id") or headers.get("x-request-id")
        return []

    def _open(self, out: list[Event]) -> None:
        if not self.started:
            self.started = True
            out.append(MessageStarted(Message(Role.ASSISTANT, "", metadata=self.turn.identity())))

    def _error(self, error: AdapterError) -> list[Event]:
        out: list[Event] = []
        self._open(out)
        out.append(ErrorEvent(error))
        self.done = True
        return out

    def finish(self) -> list[Event]:
        """The body ended: without ``message_stop`` that is an error, never a short answer."""
        if self.done:
            return []
        return self._error(
            AdapterError(
                "network_error",
                "stream ended before its terminal event (message_stop)",
                provider=self.provider,
                request_id=self.turn.provider_request_id or self.request_id,
            )
        )

    def fail(self, error: AdapterError) -> list[Event]:
        """The transport broke: what came stays, the error ends the stream."""
        if self.done:
            return []
        return self._error(error)

    # -- events -----------------------------------------------------------------------------------

    def feed(self, event: SSEEvent) -> list[Event]:
        """Events for one SSE event."""
        try:
            data = loads_wire(event.data)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return self._error(
                AdapterError(
                    "malformed_response",
                    f"unreadable JSON in a {event.event!r} event: {event.data[:120]!r}",
                    provider=self.provider,
                    request_id=self.turn.provider_request_id or self.request_id,
                )
            )
        kind = data.get("type") or event.event
        out: list[Event] = []
        if kind == "content_block_delta":
            self._open(out)
            self._delta(data, out)
        elif kind == "ping":
            pass
        elif kind == "message_start":
            self._message_start(data, out)
        elif kind == "content_block_start":
            self._open(out)
            self._block_start(data, out)
        elif kind == "content_block_stop":
            self._open(out)
            self._block_stop(data, out)
        elif kind == "message_delta":
            self._open(out)
            delta = data.get("delta")
            if type(delta) is dict or isinstance(delta, Mapping):
                self.turn.stop(delta)
            usage = self.turn.merge_usage(data.get("usage"))
            if usage is not None:
                out.append(RawChunk(("usage", usage)))
        elif kind == "message_stop":
            self._open(out)
            if self.turn.has_text:
                out.append(TextCompleted(self.turn.text))
            out.append(self.turn.completed())
            self.done = True
        elif kind == "error":
            return out + self._in_band_error(data)
        else:
            self._open(out)
            out.append(RawChunk(("anthropic_event", kind, data)))
        return out

    def _message_start(self, data: Mapping[str, Any], out: list[Event]) -> None:
        message = data.get("message")
        if type(message) is dict or isinstance(message, Mapping):
            if isinstance(message.get("id"), str):
                self.turn.response_id = message["id"]
            if isinstance(message.get("model"), str):
                self.turn.model = message["model"]
        self._open(out)
        if type(message) is dict or isinstance(message, Mapping):
            usage = self.turn.merge_usage(message.get("usage"))
            if usage is not None:
                out.append(RawChunk(("usage", usage)))

    def _block_start(self, data: Mapping[str, Any], out: list[Event]) -> None:
        block = data.get("content_block")
        if not (type(block) is dict or isinstance(block, Mapping)):
            return
        kind = block.get("type")
        index = data.get("index")
        if kind == "text":
            state = _Block("text")
            text = block.get("text")
            if isinstance(text, str) and text:
                self.turn.text_parts.append(text)
                out.append(TextDelta(text))
        elif kind == "tool_use":
            name = str(block.get("name") or "")
            state = _Block("tool_use", str(block.get("id") or ""), name)
            state.input = block.get("input")
            if name != self.turn.structured:
                out.append(ToolCallStarted(state.id, name))
        elif kind == "thinking":
            state = _Block("thinking")
            text = block.get("thinking")
            if isinstance(text, str) and text:
                state.parts.append(text)
                out.append(ReasoningDelta(text))
            signature = block.get("signature")
            if isinstance(signature, str) and signature:
                state.signature.append(signature)
        elif kind == "redacted_thinking":
            state = _Block("redacted_thinking")
            state.data = str(block.get("data") or "")
        else:
            state = _Block("other")
            out.append(RawChunk(("anthropic_block", dict(block))))
        self.blocks[index] = state

    def _delta(self, data: Mapping[str, Any], out: list[Event]) -> None:
        delta = data.get("delta")
        if type(delta) is not dict and not isinstance(delta, Mapping):  # parsed JSON: a dict
            return
        kind = delta.get("type")
        block = self.blocks.get(data.get("index"))
        if kind == "text_delta":
            text = delta.get("text")
            if isinstance(text, str) and text:
                self.turn.text_parts.append(text)
                out.append(TextDelta(text))
        elif kind == "input_json_delta":
            fragment = delta.get("partial_json")
            if block is None or block.kind != "tool_use" or not isinstance(fragment, str):
                return
            block.parts.append(fragment)
            if not fragment:
                return
            if block.name == self.turn.structured:
                out.append(TextDelta(fragment))
            else:
                out.append(ToolCallDelta(block.id, fragment))
        elif kind == "thinking_delta":
            text = delta.get("thinking")
            if block is not None and isinstance(text, str) and text:
                block.parts.append(text)
                out.append(ReasoningDelta(text))
        elif kind == "signature_delta":
            signature = delta.get("signature")
            if block is not None and isinstance(signature, str):
                block.signature.append(signature)
        elif kind == "citations_delta":
            self.turn.citations.append(delta.get("citation"))

    def _block_stop(self, data: Mapping[str, Any], out: list[Event]) -> None:
        block = self.blocks.pop(data.get("index"), None)
        if block is None:
            return
        if block.kind == "tool_use":
            raw = "".join(block.parts) if block.parts else None
            call = self.turn.tool_call(block.id, block.name, raw, block.input)
            if call is not None:
                out.append(
                    ToolCallCompleted(
                        call.id, call.name, call.arguments, call.raw_arguments, call.metadata
                    )
                )
        elif block.kind == "thinking":
            text = "".join(block.parts)
            signature = "".join(block.signature) or None
            self.turn.reasoning(text, signature, THINKING_ID)
            out.append(ReasoningCompleted(text, signature, THINKING_ID))
        elif block.kind == "redacted_thinking":
            self.turn.reasoning("", block.data, REDACTED_THINKING_ID)
            out.append(ReasoningCompleted("", block.data, REDACTED_THINKING_ID))

    def _in_band_error(self, data: Mapping[str, Any]) -> list[Event]:
        error = data.get("error")
        error = error if (type(error) is dict or isinstance(error, Mapping)) else {}
        error_type = error.get("type") if isinstance(error.get("type"), str) else None
        message = str(error.get("message") or "error event in the stream")
        details = error.get("details")
        code = (
            details.get("error_code")
            if (type(details) is dict or isinstance(details, Mapping))
            else None
        )
        reason = classify(None, error_type, code, message)
        if reason == "unknown" and error_type is None:
            reason = "provider_unavailable"
        request_id = data.get("request_id") or self.turn.provider_request_id or self.request_id
        metadata: dict[str, Any] = {"anthropic_type": error_type, "in_band": True}
        if code is not None:
            metadata["error_code"] = code
        return self._error(
            AdapterError(
                reason,
                message,
                provider=self.provider,
                request_id=str(request_id),
                metadata=metadata,
            )
        )
