"""Ollama's ``/api/chat`` answers: NDJSON lines (``message.content``, ``message.thinking``, whole
``message.tool_calls``), the last with ``done: true``, ``done_reason`` and the counts; an
``{"error": ...}`` line ends the stream as that error. A whole body is the same object."""

from __future__ import annotations

import hashlib
from typing import Any

from ..._json import dumps
from ..._text import TextBuffer
from ...adapters import Call
from ...adapters.http import HttpResult
from ...adapters.ndjson import NDJSONDecoder
from ...adapters.sse import SSEEvent
from ...data.messages import Message, Role
from ...data.response import FinishReason, Usage
from ...data.tools import ToolCall
from ...errors import AdapterError
from ...events import (
    Event,
    LogprobsDelta,
    MessageCompleted,
    RawChunk,
    ReasoningCompleted,
    ReasoningDelta,
    TextCompleted,
    TextDelta,
    ToolCallCompleted,
    ToolCallDelta,
    ToolCallStarted,
)
from ..logprobs import openai_tokens
from ..openai import OpenAIDecoder, parse_arguments, snippet, usage_fields
from ..wire import as_dict, as_int, as_list, as_str, decode_json

_DURATIONS = ("total_duration", "load_duration", "prompt_eval_duration", "eval_duration")


def ollama_usage(chunk: dict[str, Any]) -> Usage:
    """``prompt_eval_count`` in, ``eval_count`` out; the durations (ns) in ``extra``."""
    prompt, completion = as_int(chunk.get("prompt_eval_count")), as_int(chunk.get("eval_count"))
    total = prompt + completion if prompt is not None and completion is not None else None
    extra = {name: chunk[name] for name in _DURATIONS if as_int(chunk.get(name)) is not None}
    return Usage(input_tokens=prompt, output_tokens=completion, total_tokens=total, extra=extra)


def finish_reason_for(raw: str | None, *, tool_calls: bool) -> FinishReason:
    """``done_reason`` normalized: ``stop`` (tool_calls when calls came), ``length``; ``load``
    and ``unload`` (a request that only loaded or unloaded the model) stop with no output."""
    if raw in (None, "stop", "load", "unload"):
        return FinishReason.TOOL_CALLS if tool_calls else FinishReason.STOP
    if raw == "length":
        return FinishReason.LENGTH
    return FinishReason.OTHER


def tool_call_id(position: int, name: str, raw: str) -> str:
    """A stable id for a call Ollama sent without one: the same call at the same place in the
    answer gets the same id, streamed or whole, however the bytes were cut."""
    digest = hashlib.sha256(f"{position}\0{name}\0{raw}".encode()).hexdigest()[:16]
    return f"call_{digest}"


def stream_error(provider: str, call: Call, error: Any, request_id: str | None) -> AdapterError:
    """An ``{"error": ...}`` line after HTTP 200: the model runner failed mid-answer."""
    message = error if isinstance(error, str) else as_str(as_dict(error).get("message"))
    return AdapterError(
        "provider_unavailable",
        message or "Ollama reported an error",
        provider=provider,
        status=None,
        request_id=request_id or call.request_id,
    )


class OllamaStreamDecoder(OpenAIDecoder):
    """NDJSON lines (as ``SSEEvent`` data) to events. One instance per call."""

    def __init__(self, provider: str, call: Call) -> None:
        super().__init__(provider, call)
        self.text: TextBuffer = TextBuffer()
        self.reasoning: TextBuffer = TextBuffer()
        self.calls: list[ToolCall] = []
        self.raw_finish: str | None = None

    def start(self, result: HttpResult) -> list[Event]:
        """``MessageStarted``; a JSON document or an HTML page is read whole (NDJSON streams)."""
        events = super().start(result)
        lowered = self.content_type.lower()
        self.raw_body = "html" in lowered or lowered.startswith("application/json")
        return events

    def handle(self, event: SSEEvent) -> list[Event]:
        try:
            chunk = decode_json(event.data)
        except ValueError:
            return self.failed(self.malformed(f"a stream line is not JSON: {snippet(event.data)}"))
        if not isinstance(chunk, dict):
            return self.failed(
                self.malformed(f"a stream line is not an object: {snippet(event.data)}")
            )
        return self.chunk(chunk)

    def chunk(self, chunk: dict[str, Any]) -> list[Event]:
        """Events for one parsed line (or a whole answer)."""
        if self.model is None:
            self.model = as_str(chunk.get("model")) or None
        if chunk.get("error") is not None:
            return self.in_band(chunk["error"])
        events: list[Event] = []
        message = as_dict(chunk.get("message"))
        thinking = message.get("thinking")
        if isinstance(thinking, str) and thinking:
            self.reasoning.append(thinking)
            events.append(ReasoningDelta(thinking))
        content = message.get("content")
        if isinstance(content, str) and content:
            self.text.append(content)
            events.append(TextDelta(content))
        for item in as_list(message.get("tool_calls")):
            self._tool_call(as_dict(item), events)
        if chunk.get("logprobs"):  # only when the call asked for them
            tokens = openai_tokens(chunk["logprobs"])
            if tokens:
                events.append(LogprobsDelta(tokens))
        if chunk.get("done") is True:
            self.raw_finish = as_str(chunk.get("done_reason"))
            self.usage = ollama_usage(chunk)
            events.extend(self.complete())
        return events

    def _tool_call(self, item: dict[str, Any], events: list[Event]) -> None:
        function = as_dict(item.get("function"))
        name = as_str(function.get("name")) or ""
        arguments = function.get("arguments")
        raw = arguments if isinstance(arguments, str) else dumps(arguments or {})
        if not name and not raw.strip("{} "):
            return  # an empty call is no call
        call_id = as_str(item.get("id")) or tool_call_id(len(self.calls), name, raw)
        self.calls.append(ToolCall(call_id, name, parse_arguments(raw), raw))
        events.append(ToolCallStarted(call_id, name))
        events.append(ToolCallDelta(call_id, raw))

    def complete(self) -> list[Event]:
        """``done: true``: usage, reasoning, tool calls and text, then the message."""
        self.done = True
        events: list[Event] = []
        if self.usage is not None:
            events.append(RawChunk(("usage", usage_fields(self.usage))))
        reasoning = "".join(self.reasoning)
        if reasoning:
            events.append(ReasoningCompleted(reasoning))
        for call in self.calls:
            events.append(
                ToolCallCompleted(call.id, call.name, call.arguments, call.raw_arguments, {})
            )
        text = "".join(self.text)
        if text:
            events.append(TextCompleted(text))
        metadata: dict[str, Any] = {}
        for key, value in (
            ("model", self.model),
            ("raw_finish_reason", self.raw_finish),
            ("provider_request_id", self.provider_request_id),
        ):
            if value is not None:
                metadata[key] = value
        finish = finish_reason_for(self.raw_finish, tool_calls=bool(self.calls))
        message = Message(Role.ASSISTANT, text, tool_calls=tuple(self.calls))
        events.append(MessageCompleted(message, finish, metadata))
        return events

    def in_band(self, error: Any) -> list[Event]:
        return self.failed(stream_error(self.provider, self.call, error, self.provider_request_id))

    def finish(self) -> list[Event]:
        """End of body without ``done: true``: the stream was cut."""
        return [] if self.done else self.truncated()

    def finish_body(self, body: bytes) -> list[Event]:
        """A body read whole: one JSON answer (``stream: false`` ignored), NDJSON under a JSON
        content type, or not this wire at all (an HTML page)."""
        if "html" in self.content_type.lower():
            return self.not_sse(body)
        try:
            parsed = decode_json(body)
        except (ValueError, UnicodeDecodeError):
            parsed = None
        if isinstance(parsed, dict):
            self.fed = True
            return self.chunk(parsed) + ([] if self.done else self.truncated())
        lines = NDJSONDecoder(max(len(body), 1))
        events: list[Event] = []
        for line in [*lines.feed(body), *lines.finish()]:
            events.extend(self.feed(line))
            if self.done:
                return events
        return events + (self.truncated() if self.fed else self.not_sse(body))
