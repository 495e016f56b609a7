"""Decoding shared by both OpenAI wires: usage, finish reasons, tool arguments, the SSE read loop."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ..._json import loads as json_loads
from ...adapters import Call
from ...adapters.base import StreamDecoder
from ...adapters.http import HttpResult
from ...adapters.sse import SSEEvent
from ...data.messages import Message, Role
from ...data.response import FinishReason, Response, Usage
from ...errors import AdapterError
from ...events import (
    ErrorEvent,
    Event,
    LogprobsDelta,
    MessageCompleted,
    MessageStarted,
    RawChunk,
    ReasoningCompleted,
    TextCompleted,
    ToolCallCompleted,
    ToolCallStarted,
)
from ..wire import as_dict, as_int
from .errors import api_error, snippet

_STREAM_ENDED = "stream ended before its terminal event"


def parse_arguments(raw: str) -> dict[str, Any]:
    """A tool call's arguments: the parsed JSON object, or ``{}`` when it is not one."""
    if not raw.strip():
        return {}
    try:
        value = json_loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def usage_fields(usage: Usage) -> dict[str, Any]:
    """A ``Usage`` as the payload of a usage ``RawChunk``."""
    return asdict(usage)


def _total(reported: Any, input_tokens: int | None, output_tokens: int | None) -> int | None:
    total = as_int(reported)
    if total is not None:
        return total
    if input_tokens is not None and output_tokens is not None:
        return input_tokens + output_tokens
    return None


def _extras(details: dict[str, Any], prefix: str, lifted: frozenset[str]) -> dict[str, Any]:
    return {
        f"{prefix}{key}": value
        for key, value in details.items()
        if key not in lifted and isinstance(value, int | float) and not isinstance(value, bool)
    }


def wire_usage(raw: dict[str, Any], input_name: str, output_name: str) -> Usage:
    """OpenAI usage, either wire: ``<input_name>_tokens`` include cached tokens and
    ``<output_name>_tokens`` include reasoning; details sit in ``<name>_tokens_details``.
    Counters not lifted into a named field are kept in ``extra``."""
    input_details, output_details = f"{input_name}_tokens_details", f"{output_name}_tokens_details"
    inputs = as_dict(raw.get(input_details))
    outputs = as_dict(raw.get(output_details))
    input_tokens = as_int(raw.get(f"{input_name}_tokens"))
    output_tokens = as_int(raw.get(f"{output_name}_tokens"))
    lifted = frozenset(
        {
            f"{input_name}_tokens",
            f"{output_name}_tokens",
            "total_tokens",
            input_details,
            output_details,
        }
    )
    extra = _extras(raw, "", lifted)
    extra.update(
        _extras(inputs, f"{input_name}_", frozenset({"cached_tokens", "cache_write_tokens"}))
    )
    extra.update(_extras(outputs, f"{output_name}_", frozenset({"reasoning_tokens"})))
    return Usage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cached_input_tokens=as_int(inputs.get("cached_tokens")),
        cache_write_input_tokens=as_int(inputs.get("cache_write_tokens")),
        reasoning_tokens=as_int(outputs.get("reasoning_tokens")),
        total_tokens=_total(raw.get("total_tokens"), input_tokens, output_tokens),
        extra=extra,
    )


def chat_usage(raw: dict[str, Any]) -> Usage:
    """Chat Completions usage (``prompt_tokens`` / ``completion_tokens``)."""
    return wire_usage(raw, "prompt", "completion")


# -- the read loop and the decoder base ------------------------------------------------------------


def finish_reason_for(raw: str | None, *, tool_calls: bool, refusal: bool) -> FinishReason:
    """Chat Completions ``finish_reason`` normalized (FORMATS §5): a refusal is content_filter,
    stop with tool calls is tool_calls, a missing reason finishes as stop."""
    if raw in (None, "stop"):
        if refusal:
            return FinishReason.CONTENT_FILTER
        return FinishReason.TOOL_CALLS if tool_calls else FinishReason.STOP
    if raw in ("length", "model_length"):  # model_length: Mistral's context limit
        return FinishReason.LENGTH
    if raw in ("tool_calls", "function_call"):
        return FinishReason.TOOL_CALLS
    if raw == "content_filter":
        return FinishReason.CONTENT_FILTER
    return FinishReason.OTHER


class OpenAIDecoder(StreamDecoder):
    """What the Chat Completions and Responses decoders share: facts from the head, failures
    that keep usage, and a body that is not an event stream at all."""

    def __init__(self, provider: str, call: Call) -> None:
        self.provider = provider
        self.call = call
        self.done = False
        self.provider_request_id: str | None = None
        self.usage: Usage | None = None
        self.response_id: str | None = None
        self.model: str | None = None
        self.fed = False  # whether any SSE event came
        self.raw_body = False  # True when the 200 body is JSON or HTML, not an event stream
        self.content_type = ""

    def start(self, result: HttpResult) -> list[Event]:
        """``MessageStarted`` with the provider's request id; notes a non-SSE body."""
        self.provider_request_id = result.headers.get("x-request-id")
        self.content_type = result.headers.get("content-type", "")
        # Only a body that says it is JSON or HTML is read whole; anything else (text/plain,
        # octet-stream, no content-type) is given the benefit of the doubt and parsed as SSE.
        lowered = self.content_type.lower()
        self.raw_body = "event-stream" not in lowered and ("json" in lowered or "html" in lowered)
        metadata: dict[str, Any] = {}
        if self.provider_request_id:
            metadata["provider_request_id"] = self.provider_request_id
        return [MessageStarted(Message(Role.ASSISTANT, "", metadata=metadata))]

    def feed(self, event: SSEEvent) -> list[Event]:
        """Events for one SSE event; an unexpected payload shape is a malformed response."""
        data = event.data
        self.fed = True
        if self.done or not data or (data[0].isspace() and not data.strip()):
            return []
        try:
            return self.handle(event)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            return self.failed(
                self.malformed(f"unexpected stream event ({exc}): {snippet(event.data)}")
            )

    def handle(self, event: SSEEvent) -> list[Event]:  # pragma: no cover - overridden
        """Events for one SSE event (subclasses)."""
        raise NotImplementedError

    def finish_body(self, body: bytes) -> list[Event]:  # pragma: no cover - overridden
        """Events for a whole non-SSE body served to a streaming request (subclasses)."""
        raise NotImplementedError

    def fail(self, error: AdapterError) -> list[Event]:
        """The transport broke: keep what came, end with the error."""
        return self.failed(error)

    def identity(self) -> dict[str, Any]:
        """The response id and model seen so far."""
        facts = {"response_id": self.response_id, "model": self.model}
        return {key: value for key, value in facts.items() if value is not None}

    def failed(self, error: AdapterError) -> list[Event]:
        """The id and model and usage seen so far (if any), then the error; the stream is over."""
        self.done = True
        events: list[Event] = []
        if self.usage is not None:
            events.append(RawChunk(("usage", usage_fields(self.usage))))
        for key, value in self.identity().items():
            error.metadata.setdefault(key, value)
        events.append(ErrorEvent(error))
        return events

    def truncated(self) -> list[Event]:
        """The body ended before the terminal event (nothing at all from a body that does not say
        it is an event stream: not this wire)."""
        if not self.fed and "event-stream" not in self.content_type.lower():
            return self.not_sse(b"")
        return self.failed(
            AdapterError(
                "network_error",
                _STREAM_ENDED,
                provider=self.provider,
                status=None,
                request_id=self.provider_request_id or self.call.request_id,
            )
        )

    def malformed(self, message: str) -> AdapterError:
        """A ``malformed_response`` error for this stream."""
        return AdapterError(
            "malformed_response",
            message,
            provider=self.provider,
            status=200,
            request_id=self.provider_request_id or self.call.request_id,
        )

    def in_band(self, error: Any) -> list[Event]:
        """An error reported inside the stream after HTTP 200."""
        headers = {"x-request-id": self.provider_request_id} if self.provider_request_id else None
        return self.failed(api_error(self.provider, self.call, error, status=None, headers=headers))

    def not_sse(self, body: bytes) -> list[Event]:
        """A body that is neither an event stream nor a JSON document we understand."""
        return self.failed(
            self.malformed(
                f"expected an event stream, got {self.content_type or 'no content-type'}:"
                f" {snippet(body)}"
            )
        )


def events_from_response(response: Response) -> list[Event]:
    """The events a whole Chat Completions response stands for (a JSON body served to a
    streaming request)."""
    events: list[Event] = []
    if response.usage != Usage():
        events.append(RawChunk(("usage", usage_fields(response.usage))))
    if response.reasoning:
        events.append(ReasoningCompleted(response.reasoning))
    for call in response.tool_calls:
        events.append(ToolCallStarted(call.id, call.name))
        events.append(
            ToolCallCompleted(
                call.id, call.name, call.arguments, call.raw_arguments, dict(call.metadata)
            )
        )
    if response.logprobs:
        events.append(LogprobsDelta(response.logprobs))
    if response.output_text:
        events.append(TextCompleted(response.output_text))
    metadata = dict(response.metadata)
    for key, value in (
        ("response_id", response.id),
        ("model", response.model),
        ("raw_finish_reason", response.raw_finish_reason),
    ):
        if value is not None:
            metadata[key] = value
    message = response.message or Message(
        Role.ASSISTANT, response.output_text or "", tool_calls=response.tool_calls
    )
    events.append(MessageCompleted(message, response.finish_reason, metadata))
    return events
