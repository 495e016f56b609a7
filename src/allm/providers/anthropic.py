"""Anthropic Messages API (``POST /v1/messages``): request building, stream decoding, errors.

What it does: translates a ``Request`` into an Anthropic body (system hoisted to the top-level
``system`` field, tool results batched into one user turn, thinking blocks sent back verbatim,
structured output by a forced synthetic tool) and the answer, streamed (named SSE events) or
whole (compact JSON), back into allm events and a ``Response``. What it does not do: I/O (the
drivers perform the HTTP), or server-side tools (``server_tool_use`` and their result blocks are
surfaced as raw chunks only). Wire quirks and the choices made are in
``docs/design/providers-anthropic.md``.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from .._json import dumps, loads
from ..adapters import Call
from ..adapters.base import HttpAdapter, StreamDecoder, json_or_none, retry_after_ms, text_of
from ..adapters.http import HttpRequest, HttpResult
from ..adapters.sse import SSEEvent
from ..data.messages import Image, ImagePart, Message, Role, TextPart
from ..data.request import Request
from ..data.response import FinishReason, Response, Usage
from ..data.tools import ToolCall
from ..errors import AdapterError, EngineError, ValidationError
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
from ..output import anthropic_output_config

__all__ = [
    "API_VERSION",
    "DEFAULT_MAX_TOKENS",
    "STRUCTURED_TOOL_PREFIX",
    "Anthropic",
    "AnthropicStreamDecoder",
    "classify",
    "finish_reason_for",
    "structured_tool_name",
    "usage_fields",
]

API_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 1024
STRUCTURED_TOOL_PREFIX = "respond_with_json_"
STRUCTURED_TOOL_DESCRIPTION = "Return the final result as a JSON object matching the schema."

# The ``id`` that marks a reasoning block as Anthropic's, so the next turn can send it back.
THINKING_ID = "thinking"
REDACTED_THINKING_ID = "redacted_thinking"

_STOP_REASONS: dict[str, FinishReason] = {
    "end_turn": FinishReason.STOP,
    "stop_sequence": FinishReason.STOP,
    "max_tokens": FinishReason.LENGTH,
    "model_context_window_exceeded": FinishReason.LENGTH,
    "tool_use": FinishReason.TOOL_CALLS,
    "refusal": FinishReason.CONTENT_FILTER,
    "pause_turn": FinishReason.OTHER,
}

_ERROR_TYPES: dict[str, str] = {
    "invalid_request_error": "invalid_request",
    "authentication_error": "authentication_failed",
    "permission_error": "authentication_failed",
    "billing_error": "quota_exhausted",
    "not_found_error": "invalid_request",
    "request_too_large": "invalid_request",
    "rate_limit_error": "rate_limited",
    "api_error": "provider_unavailable",
    "timeout_error": "provider_unavailable",
    "overloaded_error": "provider_unavailable",
}
_SPEND_LIMIT_CODES = frozenset({"enforced_spend_limit_reached"})
_CONTEXT_PHRASES = ("prompt is too long", "context window", "context length", "context limit")
_INVALID_STATUSES = frozenset({400, 404, 413, 422})
_TOOL_CHOICE_TYPES = frozenset({"auto", "any", "none", "tool"})
_FORMAT_TYPES = frozenset({"json_schema", "json_object", "text"})
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")

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


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def usage_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    """``Usage`` keyword arguments from an Anthropic usage object.

    ``input_tokens`` becomes inclusive (uncached + cache writes + cache reads, the raw count is
    kept in ``extra["uncached_input_tokens"]``); there is no provider total, so ``total_tokens``
    is input + output when both are known. Absent counters stay ``None``.
    """
    uncached = _int(raw.get("input_tokens"))
    writes = _int(raw.get("cache_creation_input_tokens"))
    reads = _int(raw.get("cache_read_input_tokens"))
    known = [count for count in (uncached, writes, reads) if count is not None]
    input_tokens = sum(known) if known else None
    output_tokens = _int(raw.get("output_tokens"))
    details = raw.get("output_tokens_details")
    reasoning = _int(details.get("thinking_tokens")) if isinstance(details, Mapping) else None
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
        "tool_usage": dict(server_tools) if isinstance(server_tools, Mapping) else {},
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


def _json_format(response_format: Any) -> tuple[str, dict[str, Any]] | None:
    """(schema name, schema) for a structured ``response_format``, else None."""
    if not isinstance(response_format, Mapping):
        return None
    kind = response_format.get("type")
    if kind == "json_schema":
        schema = response_format.get("schema")
        return str(response_format.get("name") or "response"), dict(schema or {})
    if kind == "json_object":
        return "object", {"type": "object"}
    return None


def structured_tool_name(request: Request) -> str | None:
    """The synthetic tool that carries structured output for ``request``, or None.

    None when the request asks for no JSON, or when an earlier assistant turn already called the
    synthetic tool (it is not injected again, so the user's tools stay callable).
    """
    fmt = _json_format(request.response_format)
    if fmt is None:
        return None
    name = (STRUCTURED_TOOL_PREFIX + _NAME_UNSAFE.sub("_", fmt[0]))[:64]
    for message in request.messages:
        if message.role == Role.ASSISTANT and any(call.name == name for call in message.tool_calls):
            return None
    return name


def _context_overflow(message: str) -> bool:
    lowered = message.lower()
    return any(phrase in lowered for phrase in _CONTEXT_PHRASES)


def classify(
    status: int | None, error_type: str | None, error_code: str | None, message: str
) -> str:
    """The ``AdapterError`` reason for an Anthropic error (``status`` None: in-band)."""
    if error_code in _SPEND_LIMIT_CODES or error_type == "billing_error" or status == 402:
        return "quota_exhausted"
    if status in (401, 403):
        return "authentication_failed"
    if status == 429:
        return "rate_limited"
    if status is not None and status >= 500:
        return "provider_unavailable"
    if status in _INVALID_STATUSES or (status is None and error_type == "invalid_request_error"):
        return "context_length_exceeded" if _context_overflow(message) else "invalid_request"
    return _ERROR_TYPES.get(error_type or "", "unknown")


def _parse_arguments(raw: str) -> tuple[dict[str, Any], str | None]:
    """Parsed tool input and, when it is not a JSON object, why."""
    if not raw.strip():
        return {}, None
    try:
        value = json.loads(raw)
    except ValueError as exc:
        return {}, f"invalid JSON arguments: {exc}"
    if not isinstance(value, dict):
        return {}, "tool arguments are not a JSON object"
    return value, None


def _thinking_enabled(thinking: Any) -> bool:
    return isinstance(thinking, Mapping) and thinking.get("type") in ("enabled", "adaptive")


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
        self.text_parts: list[str] = []
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
        if not isinstance(usage, Mapping):
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
            arguments = dict(given) if isinstance(given, Mapping) else {}
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
        self.parts: list[str] = []
        self.signature: list[str] = []
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
            data = loads(event.data)
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
            if isinstance(delta, Mapping):
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
        if isinstance(message, Mapping):
            if isinstance(message.get("id"), str):
                self.turn.response_id = message["id"]
            if isinstance(message.get("model"), str):
                self.turn.model = message["model"]
        self._open(out)
        if isinstance(message, Mapping):
            usage = self.turn.merge_usage(message.get("usage"))
            if usage is not None:
                out.append(RawChunk(("usage", usage)))

    def _block_start(self, data: Mapping[str, Any], out: list[Event]) -> None:
        block = data.get("content_block")
        if not isinstance(block, Mapping):
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
        if not isinstance(delta, Mapping):
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
        error = error if isinstance(error, Mapping) else {}
        error_type = error.get("type") if isinstance(error.get("type"), str) else None
        message = str(error.get("message") or "error event in the stream")
        details = error.get("details")
        code = details.get("error_code") if isinstance(details, Mapping) else None
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


# -- the adapter ----------------------------------------------------------------------------------


class Anthropic(HttpAdapter):
    """The Anthropic Messages API adapter (streaming and non-streaming).

    Key from ``ANTHROPIC_API_KEY`` (or ``api_key=``); extra headers such as ``anthropic-beta``
    through the ``headers`` option; provider parameters (``thinking``, ``top_k``,
    ``stop_sequences``, ``metadata``, ...) as call keywords, engine params or
    ``request.options``, merged into the body as they are.
    """

    # Forced tools work on every Claude model; output_config.format only on recent ones.
    output_modes: ClassVar[tuple[str, ...]] = ("tool", "native", "prompted")

    name: ClassVar[str] = "anthropic"
    key_provider: ClassVar[str] = "anthropic"
    default_base_url: ClassVar[str] = "https://api.anthropic.com/v1"
    extra_retry_statuses: ClassVar[tuple[int, ...]] = (529,)

    # -- pre-flight -------------------------------------------------------------------------------

    def check(self, request: Request, call: Call) -> None:
        """The image rules, then the tool-choice and structured-output rules."""
        super().check(request, call)
        if not isinstance(request.model, str) or not request.model:
            raise EngineError("missing_model", "Anthropic needs a model name", provider=self.name)
        problems: list[tuple[tuple[str | int, ...], str]] = []
        choice = request.tool_choice
        forcing = choice == "required" or isinstance(choice, tuple)
        if isinstance(choice, str) and choice not in ("auto", "none", "required"):
            forcing = True
        if isinstance(choice, Mapping):
            kind = choice.get("type")
            if kind == "function" and isinstance(choice.get("function"), Mapping):
                kind = "tool"
            if kind not in _TOOL_CHOICE_TYPES:
                problems.append((("tool_choice",), "unsupported_tool_choice"))
            forcing = kind in ("any", "tool")
        if forcing and not request.tools:
            problems.append((("tool_choice",), "forcing_choice_without_tools"))
        fmt = request.response_format
        if isinstance(fmt, Mapping) and fmt.get("type") not in _FORMAT_TYPES:
            problems.append((("response_format",), "unsupported_response_format"))
        synthetic = structured_tool_name(request)
        if synthetic is not None and any(tool.name == synthetic for tool in request.tools):
            problems.append((("tools",), "collides_with_structured_output_tool"))
        if problems:
            raise ValidationError("invalid_request", errors=problems)

    def requires_structured_finalize(self, request: Request) -> bool:
        """Structured output forces a synthetic tool, which would shut out the user's tools: with
        both, the chat loop runs the tools first and asks for the structured answer after."""
        return bool(request.tools) and _json_format(request.response_format) is not None

    # -- request ----------------------------------------------------------------------------------

    def build_request(self, request: Request, call: Call, *, stream: bool) -> HttpRequest:
        """``POST {base}/messages`` with the key, the API version and the JSON body."""
        body = self.build_body(request, call, stream=stream)
        headers = {"x-api-key": self.api_key(call), "anthropic-version": API_VERSION}
        return self.json_request(call, f"{self.base(call)}/messages", body, headers)

    def build_body(self, request: Request, call: Call, *, stream: bool) -> dict[str, Any]:
        """The Messages API body for ``request`` (no key involved: safe to log)."""
        extras: dict[str, Any] = {**call.params, **request.options}
        thinking = extras.get("thinking")
        max_tokens = request.max_tokens
        if max_tokens is None:
            max_tokens = DEFAULT_MAX_TOKENS
            budget = thinking.get("budget_tokens") if isinstance(thinking, Mapping) else None
            if _thinking_enabled(thinking) and isinstance(budget, int) and budget >= max_tokens:
                max_tokens = budget + DEFAULT_MAX_TOKENS  # the budget must stay below max_tokens
        body: dict[str, Any] = {"model": request.model, "max_tokens": max_tokens}
        system = [text_of(m.content) for m in request.messages if m.role == Role.SYSTEM]
        if system:
            body["system"] = "\n\n".join(system)
        body["messages"] = self.wire_messages(request.messages)
        tools = [self.wire_tool(tool.name, tool.description, tool.schema) for tool in request.tools]
        extra_tools = extras.pop("tools", None)  # provider tools (web search, ...) join ours
        if isinstance(extra_tools, list | tuple):
            tools.extend(extra_tools)
        elif extra_tools is not None:
            extras["tools"] = extra_tools
        choice = self.wire_tool_choice(request.tool_choice, bool(tools))
        synthetic = structured_tool_name(request)
        if synthetic is not None:
            fmt = _json_format(request.response_format)
            assert fmt is not None
            tools.append(self.wire_tool(synthetic, STRUCTURED_TOOL_DESCRIPTION, fmt[1]))
            # Thinking refuses a forced tool choice; then the model is only offered the tool.
            forced = not _thinking_enabled(thinking)
            choice = {"type": "tool", "name": synthetic} if forced else {"type": "auto"}
        if tools:
            body["tools"] = tools
        if choice is not None:
            body["tool_choice"] = choice
        if request.temperature is not None:
            body["temperature"] = request.temperature
        body.update(extras)
        output_config = anthropic_output_config(request.response_format)
        if output_config is not None:
            body["output_config"] = {**body.get("output_config", {}), **output_config}
        if stream:
            body["stream"] = True
        else:
            body.pop("stream", None)
        return body

    @staticmethod
    def wire_tool(name: str, description: str, schema: Mapping[str, Any]) -> dict[str, Any]:
        """One tool definition."""
        tool: dict[str, Any] = {"name": name}
        if description:
            tool["description"] = description
        tool["input_schema"] = dict(schema)
        return tool

    @staticmethod
    def wire_tool_choice(choice: Any, has_tools: bool) -> dict[str, Any] | None:
        """``tool_choice`` on the wire: auto/none/any/tool; None when nothing is to be sent."""
        if choice is None:
            return None
        if isinstance(choice, Mapping):
            if choice.get("type") == "function" and isinstance(choice.get("function"), Mapping):
                return {"type": "tool", "name": choice["function"].get("name")}
            return dict(choice)
        if isinstance(choice, tuple):
            return {"type": "tool", "name": choice[1]}
        if choice in ("auto", "none"):
            return {"type": choice} if has_tools else None
        if choice == "required":
            return {"type": "any"}
        return {"type": "tool", "name": choice}

    def wire_messages(self, messages: Sequence[Message]) -> list[dict[str, Any]]:
        """Conversation turns (system messages are hoisted elsewhere). Consecutive tool results
        become ONE user turn of ``tool_result`` blocks, as parallel tool calls require."""
        wire: list[dict[str, Any]] = []
        results: list[dict[str, Any]] | None = None
        for message in messages:
            role = message.role
            if role == Role.SYSTEM:
                continue
            if role == Role.TOOL:
                block = self.tool_result_block(message)
                if results is None:
                    results = [block]
                    wire.append({"role": "user", "content": results})
                else:
                    results.append(block)
                continue
            results = None
            if role == Role.ASSISTANT:
                turn = self.assistant_turn(message)
                if turn is not None:
                    wire.append(turn)
            else:
                wire.append({"role": "user", "content": self.user_content(message.content)})
        return wire

    def user_content(self, content: Any) -> str | list[dict[str, Any]]:
        """A string, or text and image blocks when there is an image."""
        if isinstance(content, str):
            return content
        if not any(isinstance(part, ImagePart) for part in content):
            return text_of(content)
        blocks: list[dict[str, Any]] = []
        for part in content:
            if isinstance(part, TextPart):
                blocks.append({"type": "text", "text": part.text})
            elif isinstance(part, ImagePart):
                blocks.append(self.image_block(part.image))
        return blocks

    @staticmethod
    def image_block(image: Image) -> dict[str, Any]:
        """An image as a URL source or a base64 source (``detail`` has no Anthropic meaning)."""
        source = image.source
        if source.type == "url":
            return {"type": "image", "source": {"type": "url", "url": str(source.value)}}
        if source.type == "base64":
            data = str(source.value)
        else:
            data = base64.b64encode(image.to_bytes()).decode("ascii")
        return {
            "type": "image",
            "source": {"type": "base64", "media_type": image.mime_type, "data": data},
        }

    def tool_result_block(self, message: Message) -> dict[str, Any]:
        """A tool message as a ``tool_result`` block (text, or text and images)."""
        block: dict[str, Any] = {"type": "tool_result", "tool_use_id": message.tool_call_id}
        block["content"] = self.user_content(message.content)
        if message.metadata.get("is_error") is True:
            block["is_error"] = True
        return block

    def assistant_turn(self, message: Message) -> dict[str, Any] | None:
        """Thinking blocks first (verbatim, with their signatures), then text, then ``tool_use``.

        An assistant message with nothing to say is left out: the API rejects empty turns.
        """
        blocks = list(_thinking_blocks(message.metadata.get("reasoning_blocks")))
        text = text_of(message.content)
        if not blocks and not message.tool_calls:
            return {"role": "assistant", "content": text} if text else None
        if text:
            blocks.append({"type": "text", "text": text})
        for call in message.tool_calls:
            blocks.append(
                {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}
            )
        return {"role": "assistant", "content": blocks} if blocks else None

    # -- answers ----------------------------------------------------------------------------------

    def stream_decoder(self, request: Request, call: Call) -> StreamDecoder:
        """A fresh decoder for one stream."""
        return AnthropicStreamDecoder(self.name, call.request_id, structured_tool_name(request))

    def parse_response(self, result: HttpResult, request: Request, call: Call) -> Response:
        """A whole ``message`` object as a ``Response`` (the same fold as the stream)."""
        data = json_or_none(result.body)
        if not isinstance(data, dict) or not isinstance(data.get("content"), list):
            raise self.malformed(
                call, f"unreadable Anthropic message body: {_snippet(result.body)!r}", result
            )
        headers = result.headers
        turn = _Turn(
            structured_tool_name(request), headers.get("request-id") or headers.get("x-request-id")
        )
        turn.response_id = data.get("id") if isinstance(data.get("id"), str) else None
        turn.model = data.get("model") if isinstance(data.get("model"), str) else None
        reasoning: list[str] = []
        for block in data["content"]:
            if not isinstance(block, Mapping):
                continue
            kind = block.get("type")
            if kind == "text" and isinstance(block.get("text"), str):
                turn.text_parts.append(block["text"])
                turn.citations.extend(block.get("citations") or ())
            elif kind == "tool_use":
                turn.tool_call(
                    str(block.get("id") or ""),
                    str(block.get("name") or ""),
                    None,
                    block.get("input"),
                )
            elif kind == "thinking":
                text = str(block.get("thinking") or "")
                reasoning.append(text)
                turn.reasoning(text, block.get("signature") or None, THINKING_ID)
            elif kind == "redacted_thinking":
                reasoning.append("")
                turn.reasoning("", str(block.get("data") or ""), REDACTED_THINKING_ID)
        turn.stop(data)
        usage = turn.merge_usage(data.get("usage"))
        metadata: dict[str, Any] = {}
        if turn.provider_request_id is not None:
            metadata["provider_request_id"] = turn.provider_request_id
        metadata.update(turn.extras())
        if turn.reasoning_blocks:
            metadata["reasoning_blocks"] = tuple(turn.reasoning_blocks)
        message = turn.message()
        return Response(
            id=turn.response_id,
            model=turn.model,
            message=message,
            output_text=message.content if isinstance(message.content, str) else "",
            tool_calls=message.tool_calls,
            finish_reason=turn.finish_reason(),
            raw_finish_reason=turn.stop_reason,
            usage=Usage(**usage) if usage is not None else Usage(),
            raw=data,
            metadata=metadata,
            reasoning="".join(reasoning) if turn.reasoning_blocks else None,
        )

    def classify_error(self, result: HttpResult, call: Call) -> AdapterError:
        """An HTTP error: the JSON envelope ``{type:"error", error:{type, message}, request_id}``,
        or ``malformed_response`` for a body that is not one (an HTML page from a proxy)."""
        headers = result.headers
        header_id = headers.get("request-id") or headers.get("x-request-id")
        data = json_or_none(result.body)
        error = data.get("error") if isinstance(data, dict) else None
        retry_after = retry_after_ms(headers)
        metadata: dict[str, Any] = {}
        if "x-should-retry" in headers:
            metadata["should_retry"] = headers["x-should-retry"].strip().lower() == "true"
        if not isinstance(error, Mapping):
            kind = headers.get("content-type", "unknown content type")
            return AdapterError(
                "malformed_response",
                f"Anthropic answered HTTP {result.status} with an unreadable body ({kind}): "
                f"{_snippet(result.body)!r}",
                provider=self.name,
                status=result.status,
                retry_after_ms=retry_after,
                request_id=header_id or call.request_id,
                metadata=metadata,
            )
        error_type = error.get("type") if isinstance(error.get("type"), str) else None
        message = str(error.get("message") or f"HTTP {result.status} from Anthropic")
        details = error.get("details")
        code = details.get("error_code") if isinstance(details, Mapping) else None
        metadata["anthropic_type"] = error_type
        if code is not None:
            metadata["error_code"] = code
        body_id = data.get("request_id") if isinstance(data, dict) else None
        return AdapterError(
            classify(result.status, error_type, code, message),
            message,
            provider=self.name,
            status=result.status,
            retry_after_ms=retry_after,
            request_id=str(body_id or header_id or call.request_id),
            metadata=metadata,
        )


def _thinking_blocks(blocks: Any) -> Iterable[dict[str, Any]]:
    """Anthropic thinking blocks from an assistant message's ``reasoning_blocks``.

    Blocks this adapter produced (``id`` "thinking" / "redacted_thinking") and native Anthropic
    blocks (with a ``type``) are sent back verbatim; a thinking block without a signature, or a
    block from another provider, is left out (the API would reject it).
    """
    if not isinstance(blocks, Sequence) or isinstance(blocks, str):
        return
    for block in blocks:
        if not isinstance(block, Mapping):
            continue
        kind = block.get("type")
        if kind in (THINKING_ID, REDACTED_THINKING_ID):
            yield dict(block)
            continue
        marker = block.get("id")
        signature = block.get("signature")
        if not isinstance(signature, str) or not signature:
            continue
        if marker == THINKING_ID:
            yield {"type": "thinking", "thinking": block.get("text") or "", "signature": signature}
        elif marker == REDACTED_THINKING_ID:
            yield {"type": "redacted_thinking", "data": signature}


def _snippet(body: bytes, limit: int = 160) -> str:
    text = body[: limit * 4].decode("utf-8", errors="replace")
    return " ".join(text.split())[:limit]
