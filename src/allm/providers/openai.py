"""OpenAI: Chat Completions and Responses, and any server speaking the Chat Completions wire.

``OpenAI`` talks to ``https://api.openai.com/v1``. The endpoint comes from the ``endpoint``
adapter option (``"chat_completions"`` or ``"responses"``), else from the model name: ``gpt-5*``
and ``o1``..``o9*`` use Responses, everything else Chat Completions. ``OpenAICompatible`` speaks
Chat Completions at a required ``base_url`` (Ollama, vLLM, llama.cpp, Groq, OpenRouter, ...),
sends no ``Authorization`` header when no key is configured, and forgives what those servers
leave out (usage, ``finish_reason``, ``[DONE]`` after a finish, tool-call indexes).

Adapters never do I/O: this module builds requests and decodes bytes. The Responses wire lives
in ``allm.providers.openai_responses``; this module holds the adapters, the Chat Completions
wire and what both share (errors, usage, the read loop). Wire quirks and how each is handled:
``docs/design/providers-openai.md``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any, ClassVar

from .._json import dumps, loads
from ..adapters import Call
from ..adapters.base import HttpAdapter, StreamDecoder, raise_image_errors, retry_after_ms
from ..adapters.http import HttpRequest, HttpResult
from ..adapters.sse import SSEEvent
from ..data.messages import ImagePart, Message, Role, TextPart
from ..data.request import Request
from ..data.response import FinishReason, Response, Usage
from ..data.tools import Tool, ToolCall
from ..errors import AdapterError, ConfigurationError
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

__all__ = ["CHAT_COMPLETIONS", "RESPONSES", "OpenAI", "OpenAICompatible"]

_log = logging.getLogger("allm.providers.openai")

CHAT_COMPLETIONS = "chat_completions"
RESPONSES = "responses"
_PATHS = {CHAT_COMPLETIONS: "/chat/completions", RESPONSES: "/responses"}

# Design §20.1: gpt-5* and the o-series default to Responses.
_RESPONSES_MODELS = re.compile(r"^(gpt-5|o[1-9])")
# Chat Completions models that reject `max_tokens` (FORMATS §1: reasoning models need
# `max_completion_tokens`; §20.1 names gpt-4o/4.1/5, the o-series rejects it too).
_COMPLETION_TOKEN_MODELS = re.compile(r"^(gpt-(4o|4\.1|5)|o[1-9])")
_REASONING_MODELS = re.compile(r"^(gpt-5|o[1-9])")
_VERBOSITY_MODELS = re.compile(r"^gpt-5")

REASONING_EFFORTS = frozenset({"none", "minimal", "low", "medium", "high", "xhigh"})
REASONING_SUMMARIES = frozenset({"auto", "concise", "detailed"})
VERBOSITIES = frozenset({"low", "medium", "high"})
_REASONING_PARAMS = ("reasoning_effort", "reasoning_summary", "verbosity")
# Call keywords this adapter reads itself: never copied into a request body.
_OWN_PARAMS = (*_REASONING_PARAMS, "max_line_bytes")

_STREAM_ENDED = "stream ended before its terminal event"
_decode = loads  # the scanner-direct parser of allm._json
_SNIPPET = 200


# -- small JSON helpers ---------------------------------------------------------------------------


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def snippet(body: bytes | str) -> str:
    """The start of a body for an error message, whitespace collapsed."""
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    text = " ".join(text.split())
    return text if len(text) <= _SNIPPET else text[:_SNIPPET] + "..."


def parse_arguments(raw: str) -> dict[str, Any]:
    """A tool call's arguments: the parsed JSON object, or ``{}`` when it is not one."""
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def wire_arguments(call: ToolCall) -> str:
    """The argument string to send back: the model's own when it is valid JSON."""
    raw = call.raw_arguments
    if raw:
        try:
            json.loads(raw)
        except ValueError:
            pass
        else:
            return raw
    return dumps(call.arguments)


def usage_fields(usage: Usage) -> dict[str, Any]:
    """A ``Usage`` as the payload of a usage ``RawChunk``."""
    return asdict(usage)


def _total(reported: Any, input_tokens: int | None, output_tokens: int | None) -> int | None:
    total = _int(reported)
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
    inputs = _dict(raw.get(input_details))
    outputs = _dict(raw.get(output_details))
    input_tokens = _int(raw.get(f"{input_name}_tokens"))
    output_tokens = _int(raw.get(f"{output_name}_tokens"))
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
        cached_input_tokens=_int(inputs.get("cached_tokens")),
        cache_write_input_tokens=_int(inputs.get("cache_write_tokens")),
        reasoning_tokens=_int(outputs.get("reasoning_tokens")),
        total_tokens=_total(raw.get("total_tokens"), input_tokens, output_tokens),
        extra=extra,
    )


def chat_usage(raw: dict[str, Any]) -> Usage:
    """Chat Completions usage (``prompt_tokens`` / ``completion_tokens``)."""
    return wire_usage(raw, "prompt", "completion")


# -- errors ---------------------------------------------------------------------------------------

_QUOTA_CODES = frozenset(
    {"insufficient_quota", "billing_hard_limit_reached", "billing_not_active", "quota_exceeded"}
)
_RATE_TYPES = frozenset({"tokens", "requests", "rate_limit_error", "rate_limit_exceeded"})
_SERVER_CODES = frozenset({"server_error", "api_error", "overloaded_error", "vector_store_timeout"})
_AUTH_CODES = frozenset({"invalid_api_key", "authentication_error", "permission_denied"})
_CONTENT_CODES = frozenset({"content_filter", "content_policy_violation", "bio_policy"})
_GO_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)")
_GO_UNITS = {"h": 3_600_000.0, "m": 60_000.0, "s": 1000.0, "ms": 1.0, "us": 1e-3, "µs": 1e-3}


def go_duration_ms(value: str | None) -> int | None:
    """A Go duration (``375ms``, ``1.846s``, ``6m0s``) in milliseconds, or None."""
    if not value:
        return None
    text = value.strip()
    total, position = 0.0, 0
    for match in _GO_DURATION.finditer(text):
        if match.start() != position:
            return None
        total += float(match.group(1)) * _GO_UNITS.get(match.group(2), 1e-6)
        position = match.end()
    if position != len(text) or position == 0:
        return None
    return round(total)


def _rate_limit_reset_ms(headers: Mapping[str, str], error_type: str | None) -> int | None:
    tokens = go_duration_ms(headers.get("x-ratelimit-reset-tokens"))
    requests = go_duration_ms(headers.get("x-ratelimit-reset-requests"))
    if error_type == "tokens":
        chosen = tokens
    elif error_type == "requests":
        chosen = requests
    else:
        chosen = max((v for v in (tokens, requests) if v is not None), default=None)
    return chosen if chosen else None


def error_reason(status: int | None, error_type: str | None, code: str | None) -> str:
    """The closed ``AdapterError`` reason for an OpenAI error (an HTTP one or an in-band one)."""
    names = {name.lower() for name in (error_type, code) if name}
    if names & _QUOTA_CODES or status == 402:
        return "quota_exhausted"
    if "context_length_exceeded" in names:
        return "context_length_exceeded"
    if status in (401, 403) or names & _AUTH_CODES:
        return "authentication_failed"
    if names & _CONTENT_CODES or any("content_filter" in name for name in names):
        return "content_filter"
    if status == 429 or names & _RATE_TYPES:
        return "rate_limited"
    if status == 408:
        return "timeout"
    if (status is not None and status >= 500) or names & _SERVER_CODES:
        return "provider_unavailable"
    if status in (400, 404, 409, 413, 422) or "invalid_request_error" in names:
        return "invalid_request"
    if names & {"invalid_prompt", "data_residency_mismatch"} or any(
        name.startswith(("invalid_image", "image_")) for name in names
    ):
        return "invalid_request"
    return "unknown"


def api_error(
    provider: str,
    call: Call,
    error: Any,
    *,
    status: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> AdapterError:
    """An ``AdapterError`` from an OpenAI error object (``{message, type, code, param}``).

    Accepts the flat Responses ``error`` event and bare strings (some compatible servers send
    ``{"error": "text"}``).
    """
    headers = headers or {}
    if isinstance(error, str):
        error = {"message": error}
    error = _dict(error)
    error_type = _str(error.get("type"))
    code = error.get("code")
    code = str(code) if isinstance(code, str | int) and not isinstance(code, bool) else None
    param = _str(error.get("param"))
    reason = error_reason(status, error_type, code)
    message = _str(error.get("message")) or (
        f"HTTP {status}" if status is not None else "the provider reported an error"
    )
    metadata = {
        key: value
        for key, value in (
            ("openai_type", error_type),
            ("openai_code", code),
            ("openai_param", param),
        )
        if value is not None
    }
    retry_ms = retry_after_ms(headers)
    if retry_ms is None and reason == "rate_limited":
        retry_ms = _rate_limit_reset_ms(headers, error_type)
    return AdapterError(
        reason,
        message,
        provider=provider,
        status=status,
        retry_after_ms=retry_ms,
        request_id=headers.get("x-request-id") or call.request_id,
        metadata=metadata,
    )


def unreadable_error(
    provider: str, call: Call, status: int, headers: Mapping[str, str], body: bytes
) -> AdapterError:
    """An error status whose body is not an OpenAI error document (an HTML page from a proxy).

    401/403 and 429 keep their meaning; anything else is ``malformed_response`` (its status is
    kept, so a 502/503 page is still retried by the engine's policy).
    """
    reason = {401: "authentication_failed", 403: "authentication_failed", 429: "rate_limited"}
    content_type = headers.get("content-type", "")
    return AdapterError(
        reason.get(status, "malformed_response"),
        f"HTTP {status} with a body that is not an API error document"
        f" ({content_type or 'no content-type'}): {snippet(body)}",
        provider=provider,
        status=status,
        retry_after_ms=retry_after_ms(headers),
        request_id=headers.get("x-request-id") or call.request_id,
        metadata={"content_type": content_type, "body_unreadable": True},
    )


def classify_http_error(provider: str, result: HttpResult, call: Call) -> AdapterError:
    """An HTTP error status and its body as an ``AdapterError``."""
    try:
        parsed = json.loads(result.body)
    except (ValueError, UnicodeDecodeError):
        parsed = None
    if isinstance(parsed, list) and len(parsed) == 1:
        parsed = parsed[0]
    if isinstance(parsed, dict):
        if "error" in parsed and parsed["error"] is not None:
            return api_error(
                provider, call, parsed["error"], status=result.status, headers=result.headers
            )
        if isinstance(parsed.get("message") or parsed.get("detail"), str):
            # FastAPI-style and bare bodies from compatible servers.
            message = parsed.get("message") or parsed.get("detail")
            return api_error(
                provider, call, {"message": message}, status=result.status, headers=result.headers
            )
    return unreadable_error(provider, call, result.status, result.headers, result.body)


# -- the read loop and the decoder base ------------------------------------------------------------


def finish_reason_for(raw: str | None, *, tool_calls: bool, refusal: bool) -> FinishReason:
    """Chat Completions ``finish_reason`` normalized (FORMATS §5): a refusal is content_filter,
    stop with tool calls is tool_calls, a missing reason finishes as stop."""
    if raw in (None, "stop"):
        if refusal:
            return FinishReason.CONTENT_FILTER
        return FinishReason.TOOL_CALLS if tool_calls else FinishReason.STOP
    if raw == "length":
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

    def failed(self, error: AdapterError) -> list[Event]:
        """Usage seen so far (if any), then the error; the stream is over."""
        self.done = True
        events: list[Event] = []
        if self.usage is not None:
            events.append(RawChunk(("usage", usage_fields(self.usage))))
        events.append(ErrorEvent(error))
        return events

    def truncated(self) -> list[Event]:
        """The body ended before the terminal event."""
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


# -- request pieces shared by both endpoints ------------------------------------------------------


def merge_extras(
    body: dict[str, Any], request: Request, call: Call, consumed: tuple[str, ...]
) -> None:
    """``request.options`` then ``call.params`` onto the body (a ``None`` value removes a key)."""
    for source in (request.options, call.params):
        for key, value in source.items():
            if key in consumed:
                continue
            if value is None:
                body.pop(key, None)
            else:
                body[key] = value


def tool_schema(tool: Tool) -> dict[str, Any]:
    """A tool's parameters schema."""
    return dict(tool.schema)


def strict_of(tool: Tool) -> bool | None:
    """``Tool.metadata["strict"]`` when it is a bool."""
    strict = tool.metadata.get("strict")
    return strict if isinstance(strict, bool) else None


def forced_tool(choice: Any) -> str | None:
    """The tool name a ``tool_choice`` forces, if it names one."""
    if isinstance(choice, tuple) and len(choice) == 2 and choice[0] == "tool":
        return str(choice[1])
    if isinstance(choice, str) and choice not in ("auto", "none", "required"):
        return choice
    return None


def image_url(part: ImagePart) -> str:
    """The URL OpenAI fetches, or a ``data:`` URI for local bytes."""
    if part.image.source.type == "url":
        return str(part.image.source.value)
    return part.image.to_data_uri()


def content_text(content: Any) -> str:
    """A message's text (string content, or its text parts joined by newlines)."""
    if isinstance(content, str):
        return content
    return "\n".join(part.text for part in content if isinstance(part, TextPart))


def has_image(content: Any) -> bool:
    """Whether content holds an image part."""
    return not isinstance(content, str) and any(isinstance(p, ImagePart) for p in content)


def json_schema_format(response_format: Any) -> dict[str, Any] | None:
    """A ``json_schema`` response format as ``{name, schema, strict}``, or None."""
    if not isinstance(response_format, Mapping) or response_format.get("type") != "json_schema":
        return None
    nested = response_format.get("json_schema")
    source = nested if isinstance(nested, Mapping) else response_format
    found: dict[str, Any] = {"name": source.get("name"), "schema": source.get("schema")}
    if source.get("strict") is not None:
        found["strict"] = source.get("strict")
    if source.get("description") is not None:
        found["description"] = source.get("description")
    return found


def _choice(value: Any, allowed: frozenset[str], name: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ConfigurationError(
            "invalid_option",
            problems=[f"{name} must be one of {sorted(allowed)}, got {value!r}"],
        )
    return value


def reasoning_params(call: Call, *, validate: bool) -> dict[str, str]:
    """The reasoning controls among the call's params (validated for api.openai.com)."""
    found: dict[str, str] = {}
    allowed = {
        "reasoning_effort": REASONING_EFFORTS,
        "reasoning_summary": REASONING_SUMMARIES,
        "verbosity": VERBOSITIES,
    }
    for name in _REASONING_PARAMS:
        value = call.params.get(name)
        if value is None:
            continue
        found[name] = _choice(value, allowed[name], name) if validate else str(value)
    return found


# -- Chat Completions: request --------------------------------------------------------------------


def chat_content(message: Message) -> Any:
    """User content: a string, or text/image blocks when an image is present."""
    if not has_image(message.content):
        return content_text(message.content)
    blocks: list[dict[str, Any]] = []
    for part in message.content:
        if isinstance(part, TextPart):
            blocks.append({"type": "text", "text": part.text})
        elif isinstance(part, ImagePart):
            blocks.append(
                {"type": "image_url", "image_url": {"url": image_url(part), "detail": part.detail}}
            )
    return blocks


def chat_messages(request: Request) -> list[dict[str, Any]]:
    """The ``messages`` array (design §20.2)."""
    out: list[dict[str, Any]] = []
    for message in request.messages:
        role = message.role
        item: dict[str, Any]
        if role == Role.SYSTEM:
            item = {"role": "system", "content": content_text(message.content)}
        elif role == Role.USER:
            item = {"role": "user", "content": chat_content(message)}
        elif role == Role.ASSISTANT:
            text = content_text(message.content)
            item = {"role": "assistant", "content": text}
            if message.tool_calls:
                item["content"] = text or None
                item["tool_calls"] = [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {"name": call.name, "arguments": wire_arguments(call)},
                    }
                    for call in message.tool_calls
                ]
        else:
            item = {
                "role": "tool",
                "tool_call_id": message.tool_call_id,
                "content": content_text(message.content),
            }
        if message.name and role in (Role.USER, Role.ASSISTANT, Role.SYSTEM):
            item["name"] = message.name
        out.append(item)
    return out


def chat_tools(tools: tuple[Tool, ...]) -> list[dict[str, Any]]:
    """Tool definitions, nested under ``function``."""
    out = []
    for tool in tools:
        function: dict[str, Any] = {
            "name": tool.name,
            "description": tool.description,
            "parameters": tool_schema(tool),
        }
        strict = strict_of(tool)
        if strict is not None:
            function["strict"] = strict
        out.append({"type": "function", "function": function})
    return out


def chat_tool_choice(choice: Any) -> Any:
    """``tool_choice`` on the Chat Completions wire."""
    name = forced_tool(choice)
    if name is not None:
        return {"type": "function", "function": {"name": name}}
    if isinstance(choice, Mapping):
        if choice.get("type") == "function" and "name" in choice and "function" not in choice:
            return {"type": "function", "function": {"name": choice["name"]}}
        return dict(choice)
    return choice


def chat_response_format(response_format: Any) -> dict[str, Any] | None:
    """``response_format`` on the Chat Completions wire (json_schema nested); text is omitted."""
    if not isinstance(response_format, Mapping) or response_format.get("type") == "text":
        return None
    schema = json_schema_format(response_format)
    if schema is not None:
        return {"type": "json_schema", "json_schema": schema}
    return dict(response_format)


# -- Chat Completions: stream ---------------------------------------------------------------------


class _ChatCall:
    __slots__ = ("id", "name", "parts", "started")

    def __init__(self, call_id: str, name: str | None) -> None:
        self.id = call_id
        self.name = name
        self.parts: list[str] = []
        self.started = False


class ChatStreamDecoder(OpenAIDecoder):
    """Chat Completions chunks to events (FORMATS §1). ``lenient`` serves compatible servers:
    a stream that ends after a ``finish_reason`` without ``[DONE]`` is complete."""

    def __init__(self, provider: str, call: Call, *, lenient: bool = False) -> None:
        super().__init__(provider, call)
        self.lenient = lenient
        self.text: list[str] = []
        self.refusal: list[str] = []
        self.reasoning: list[str] = []
        self.calls: list[_ChatCall] = []
        self.by_key: dict[Any, _ChatCall] = {}
        self.raw_finish: str | None = None
        self.response_id: str | None = None
        self.model: str | None = None

    def handle(self, event: SSEEvent) -> list[Event]:
        data = event.data
        if data[0] != "{" and data.strip() == "[DONE]":
            return self.complete()
        try:
            chunk = _decode(data)
        except ValueError:
            return self.failed(self.malformed(f"a stream event is not JSON: {snippet(data)}"))
        if not isinstance(chunk, dict):
            return self.failed(self.malformed(f"a stream event is not an object: {snippet(data)}"))
        if chunk.get("error") is not None and not chunk.get("choices"):
            return self.in_band(chunk["error"])
        if self.response_id is None:
            self.response_id = _str(chunk.get("id"))
        if self.model is None:
            self.model = _str(chunk.get("model"))
        events: list[Event] = []
        for choice in _list(chunk.get("choices")):
            if not isinstance(choice, dict) or choice.get("index", 0) not in (0, None):
                continue
            delta = _dict(choice.get("delta"))
            self._delta(delta, events)
            finish = _str(choice.get("finish_reason"))
            if finish:
                self.raw_finish = finish
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            self.usage = chat_usage(usage)
        return events

    def _delta(self, delta: dict[str, Any], events: list[Event]) -> None:
        # Key checks first: most deltas carry one of these fields and none of the others.
        if "reasoning_content" in delta or "reasoning" in delta:
            reasoning = delta.get("reasoning_content") or delta.get("reasoning")
            if isinstance(reasoning, str) and reasoning:
                self.reasoning.append(reasoning)
                events.append(ReasoningDelta(reasoning))
        content = delta.get("content")
        if content and isinstance(content, str):
            self.text.append(content)
            events.append(TextDelta(content))
        refusal = delta.get("refusal")
        if refusal and isinstance(refusal, str):
            self.refusal.append(refusal)
        tool_calls = delta.get("tool_calls")
        if tool_calls and isinstance(tool_calls, list):
            for position, fragment in enumerate(tool_calls):
                if isinstance(fragment, dict):
                    self._tool_fragment(fragment, position, events)

    def _tool_fragment(self, fragment: dict[str, Any], position: int, events: list[Event]) -> None:
        if "id" not in fragment:
            # The hot path of a long call: only an index and an arguments fragment.
            call = self.by_key.get(("index", fragment.get("index")))
            function = fragment.get("function")
            if (
                call is not None
                and call.started
                and type(function) is dict
                and "name" not in function
            ):
                arguments = function.get("arguments")
                if type(arguments) is str:
                    if arguments:
                        call.parts.append(arguments)
                        events.append(ToolCallDelta(call.id, arguments))
                    return
        index = _int(fragment.get("index"))
        wire_id = _str(fragment.get("id")) or None
        function = _dict(fragment.get("function"))
        name = _str(function.get("name")) or None
        arguments = function.get("arguments")
        key: Any = ("index", index if index is not None else position)
        if index is None and wire_id is not None:
            key = ("id", wire_id)
        call = self.by_key.get(key)
        if call is not None and wire_id is not None and wire_id != call.id:
            call = None  # a new call reusing the slot (seen on lenient servers)
        if call is None:
            call = _ChatCall(wire_id or f"call_{len(self.calls)}", name)
            self.calls.append(call)
            self.by_key[key] = call
        elif name and not call.name:
            call.name = name
        if call.name and not call.started:
            call.started = True
            events.append(ToolCallStarted(call.id, call.name))
        if isinstance(arguments, str) and arguments:
            call.parts.append(arguments)
            events.append(ToolCallDelta(call.id, arguments))
        elif isinstance(arguments, dict):  # some servers send the object itself
            raw = dumps(arguments)
            call.parts.append(raw)
            events.append(ToolCallDelta(call.id, raw))

    def complete(self) -> list[Event]:
        """``[DONE]``: close reasoning, tool calls and text, then the message."""
        self.done = True
        events: list[Event] = []
        if self.usage is not None:
            events.append(RawChunk(("usage", usage_fields(self.usage))))
        reasoning = "".join(self.reasoning)
        if reasoning:
            events.append(ReasoningCompleted(reasoning))
        calls = []
        for call in self.calls:
            raw = "".join(call.parts)
            name = call.name or ""
            if not call.started:
                events.append(ToolCallStarted(call.id, name))
            events.append(ToolCallCompleted(call.id, name, parse_arguments(raw), raw, {}))
            calls.append(ToolCall(call.id, name, parse_arguments(raw), raw))
        text = "".join(self.text)
        if text:
            events.append(TextCompleted(text))
        refusal = "".join(self.refusal)
        finish = finish_reason_for(self.raw_finish, tool_calls=bool(calls), refusal=bool(refusal))
        metadata: dict[str, Any] = {}
        for key, value in (
            ("response_id", self.response_id),
            ("model", self.model),
            ("raw_finish_reason", self.raw_finish),
            ("provider_request_id", self.provider_request_id),
            ("refusal", refusal or None),
        ):
            if value is not None:
                metadata[key] = value
        message_metadata = {"refusal": refusal} if refusal else {}
        message = Message(Role.ASSISTANT, text, tool_calls=tuple(calls), metadata=message_metadata)
        events.append(MessageCompleted(message, finish, metadata))
        return events

    def finish(self) -> list[Event]:
        """End of body without ``[DONE]``: an error, unless a lenient server already finished."""
        if self.done:
            return []
        if self.lenient and self.raw_finish is not None:
            return self.complete()
        return self.truncated()

    def finish_body(self, body: bytes) -> list[Event]:
        """A JSON document served to a streaming request (a server that ignored ``stream``)."""
        try:
            parsed = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return self.not_sse(body)
        if not isinstance(parsed, dict):
            return self.not_sse(body)
        if parsed.get("error") is not None and not parsed.get("choices"):
            return self.in_band(parsed["error"])
        try:
            response = parse_chat_body(parsed, self.provider, self.call, self.provider_request_id)
        except AdapterError as exc:
            return self.failed(exc)
        self.done = True
        return events_from_response(response)


def parse_chat_body(
    body: dict[str, Any], provider: str, call: Call, provider_request_id: str | None
) -> Response:
    """A whole ``chat.completion`` object as a ``Response`` (design §20.4)."""
    choices = [c for c in _list(body.get("choices")) if isinstance(c, dict)]
    if not choices:
        raise AdapterError(
            "malformed_response",
            "the completion has no choices",
            provider=provider,
            status=200,
            request_id=provider_request_id or call.request_id,
        )
    choice = next((c for c in choices if c.get("index", 0) in (0, None)), choices[0])
    message = _dict(choice.get("message"))
    content = message.get("content")
    if isinstance(content, list):
        text = "".join(
            str(part.get("text") or "")
            for part in content
            if isinstance(part, dict) and part.get("type") in ("text", "output_text")
        )
    else:
        text = content if isinstance(content, str) else ""
    reasoning = message.get("reasoning_content")
    if not isinstance(reasoning, str):
        reasoning = message.get("reasoning")
    refusal = _str(message.get("refusal")) or None
    calls: list[ToolCall] = []
    for position, item in enumerate(_list(message.get("tool_calls"))):
        if not isinstance(item, dict):
            continue
        function = _dict(item.get("function"))
        raw_args = function.get("arguments")
        raw = raw_args if isinstance(raw_args, str) else dumps(raw_args or {})
        call_id = _str(item.get("id")) or f"call_{position}"
        calls.append(ToolCall(call_id, _str(function.get("name")) or "", parse_arguments(raw), raw))
    legacy = message.get("function_call")
    if not calls and isinstance(legacy, dict):
        raw = _str(legacy.get("arguments")) or ""
        calls.append(ToolCall("call_0", _str(legacy.get("name")) or "", parse_arguments(raw), raw))
    raw_finish = _str(choice.get("finish_reason"))
    usage = body.get("usage")
    metadata: dict[str, Any] = {}
    if provider_request_id:
        metadata["provider_request_id"] = provider_request_id
    if refusal:
        metadata["refusal"] = refusal
    return Response(
        id=_str(body.get("id")),
        model=_str(body.get("model")),
        message=Message(
            Role.ASSISTANT,
            text,
            tool_calls=tuple(calls),
            metadata={"refusal": refusal} if refusal else {},
        ),
        output_text=text,
        tool_calls=tuple(calls),
        finish_reason=finish_reason_for(raw_finish, tool_calls=bool(calls), refusal=bool(refusal)),
        raw_finish_reason=raw_finish,
        usage=chat_usage(usage) if isinstance(usage, dict) else Usage(),
        raw=body,
        metadata=metadata,
        reasoning=reasoning if isinstance(reasoning, str) and reasoning else None,
    )


# -- the adapters ---------------------------------------------------------------------------------


class _OpenAIWire(HttpAdapter):
    """What ``OpenAI`` and ``OpenAICompatible`` share: endpoints, the read loop, errors."""

    lenient: ClassVar[bool] = False
    validate_reasoning: ClassVar[bool] = True
    default_endpoint: ClassVar[str | None] = None

    def __init__(
        self,
        *,
        endpoint: str | None = None,
        max_line_bytes: int | None = None,
        organization: str | None = None,
        project: str | None = None,
        **settings: Any,
    ) -> None:
        super().__init__(**settings)
        self.endpoint = endpoint
        self.max_line_bytes = max_line_bytes
        self.organization = organization
        self.project = project

    # -- configuration ---------------------------------------------------------------------------

    def endpoint_for(self, request: Request, call: Call) -> str:
        """``chat_completions`` or ``responses`` (a ConfigurationError for anything else)."""
        chosen = self.setting(call, "endpoint")
        if chosen is None:
            if self.default_endpoint is not None:
                return self.default_endpoint
            model = str(request.model or "")
            return RESPONSES if _RESPONSES_MODELS.match(model) else CHAT_COMPLETIONS
        if chosen not in _PATHS:
            raise ConfigurationError(
                "invalid_option",
                problems=[f"endpoint must be 'chat_completions' or 'responses', got {chosen!r}"],
            )
        return str(chosen)

    def line_limit(self, call: Call) -> int:
        """The longest SSE line accepted: ``max_line_bytes`` (also as a call keyword), else the
        base's ``max_sse_line_bytes``."""
        value = call.params.get("max_line_bytes") or self.setting(call, "max_line_bytes")
        if isinstance(value, int) and value > 0:
            return value
        return super().line_limit(call)

    def requires_structured_finalize(self, request: Request) -> bool:
        """Tools combined with a json_schema format take the two-pass finalize (design §20.6)."""
        return bool(request.tools) and json_schema_format(request.response_format) is not None

    def check(self, request: Request, call: Call) -> None:
        """Images, the endpoint and the reasoning controls, before any key or I/O."""
        raise_image_errors(request)
        self.endpoint_for(request, call)
        reasoning_params(call, validate=self.validate_reasoning)

    def auth_headers(self, call: Call) -> dict[str, str]:
        """``Authorization`` (and organization/project) headers."""
        headers = {"authorization": f"Bearer {self.api_key(call)}"}
        if self.organization:
            headers["openai-organization"] = self.organization
        if self.project:
            headers["openai-project"] = self.project
        return headers

    # -- the four pieces --------------------------------------------------------------------------

    def build_request(self, request: Request, call: Call, *, stream: bool) -> HttpRequest:
        """The HTTP request for the chosen endpoint (the key is resolved here, after checks)."""
        endpoint = self.endpoint_for(request, call)
        if endpoint == RESPONSES:
            from . import openai_responses

            body = openai_responses.build_body(
                request, call, stream=stream, validate=self.validate_reasoning
            )
        else:
            body = self.chat_body(request, call, stream=stream)
        url = self.base(call) + _PATHS[endpoint]
        return self.json_request(call, url, body, self.auth_headers(call))

    def chat_body(self, request: Request, call: Call, *, stream: bool) -> dict[str, Any]:
        """The Chat Completions body (design §20.2)."""
        model = str(request.model or "")
        body: dict[str, Any] = {"model": model, "messages": chat_messages(request)}
        if request.tools:
            body["tools"] = chat_tools(request.tools)
        if request.tool_choice is not None:
            body["tool_choice"] = chat_tool_choice(request.tool_choice)
        response_format = chat_response_format(request.response_format)
        if response_format is not None:
            body["response_format"] = response_format
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if request.max_tokens is not None:
            body[self.max_tokens_field(model)] = request.max_tokens
        body.update(self.chat_reasoning(model, call))
        if stream:
            body["stream"] = True
            if "stream_options" not in request.options and "stream_options" not in call.params:
                body["stream_options"] = {"include_usage": True}
        merge_extras(body, request, call, _OWN_PARAMS)
        return body

    def max_tokens_field(self, model: str) -> str:
        """``max_completion_tokens`` for the models that reject ``max_tokens``."""
        return "max_completion_tokens" if _COMPLETION_TOKEN_MODELS.match(model) else "max_tokens"

    def chat_reasoning(self, model: str, call: Call) -> dict[str, Any]:
        """Reasoning controls on Chat Completions: effort (and verbosity on gpt-5), else dropped."""
        found = reasoning_params(call, validate=True)
        out: dict[str, Any] = {}
        if "reasoning_effort" in found:
            if _REASONING_MODELS.match(model):
                out["reasoning_effort"] = found["reasoning_effort"]
            else:
                _log.debug("reasoning_effort dropped: %s is not a reasoning model", model)
        if "verbosity" in found:
            if _VERBOSITY_MODELS.match(model):
                out["verbosity"] = found["verbosity"]
            else:
                _log.debug("verbosity dropped: %s does not take it", model)
        if "reasoning_summary" in found:
            _log.debug("reasoning_summary dropped: Chat Completions has no reasoning summary")
        return out

    def stream_decoder(self, request: Request, call: Call) -> StreamDecoder:
        """A fresh decoder for the chosen endpoint."""
        if self.endpoint_for(request, call) == RESPONSES:
            from . import openai_responses

            return openai_responses.ResponsesStreamDecoder(self.name, call)
        return ChatStreamDecoder(self.name, call, lenient=self.lenient)

    def parse_response(self, result: HttpResult, request: Request, call: Call) -> Response:
        """A whole non-streaming body (``malformed_response`` when it cannot be read)."""
        provider_request_id = result.headers.get("x-request-id")
        try:
            body = json.loads(result.body)
        except (ValueError, UnicodeDecodeError):
            raise unreadable_error(
                self.name, call, result.status, result.headers, result.body
            ) from None
        if not isinstance(body, dict):
            raise unreadable_error(self.name, call, result.status, result.headers, result.body)
        endpoint = self.endpoint_for(request, call)
        if (
            body.get("error") is not None
            and not body.get("choices")
            and not body.get("output")
            and (endpoint == CHAT_COMPLETIONS or body.get("object") != "response")
        ):
            raise api_error(self.name, call, body["error"], status=None, headers=result.headers)
        if endpoint == RESPONSES:
            from . import openai_responses

            return openai_responses.parse_body(body, self.name, call, provider_request_id)
        return parse_chat_body(body, self.name, call, provider_request_id)

    def classify_error(self, result: HttpResult, call: Call) -> AdapterError:
        """An HTTP error status and body as an ``AdapterError``."""
        return classify_http_error(self.name, result, call)

    # -- the read loop -----------------------------------------------------------------------------


class OpenAI(_OpenAIWire):
    """OpenAI's API: Chat Completions and Responses (chosen per call, see the module doc).

    Constructor settings (each also an ``adapter_opts`` key, which wins): ``base_url``,
    ``headers``, ``timeout``, ``stream_timeout``, ``http_client``, ``async_http_client``,
    ``endpoint``, ``max_line_bytes``; plus ``organization`` / ``project`` headers.
    """

    name: ClassVar[str] = "openai"
    key_provider: ClassVar[str] = "openai"
    default_base_url: ClassVar[str] = "https://api.openai.com/v1"


class OpenAICompatible(_OpenAIWire):
    """A server speaking the Chat Completions wire at ``base_url`` (required).

    The key is optional (``OPENAI_COMPATIBLE_API_KEY`` or ``api_key=``): without one no
    ``Authorization`` header is sent. Lenient where such servers differ: missing usage, missing
    ``finish_reason`` (stop, or tool_calls when calls came), EOF after a finish without
    ``[DONE]``, ``delta.reasoning_content`` / ``delta.reasoning`` as reasoning, tool-call deltas
    without ``index``. ``max_tokens`` is sent as ``max_tokens``; reasoning controls pass through
    unvalidated (the server decides). ``endpoint="responses"`` is honoured when configured.
    """

    name: ClassVar[str] = "openai_compatible"
    key_provider: ClassVar[str] = "openai_compatible"
    default_base_url: ClassVar[str] = ""
    requires_key: ClassVar[bool] = False
    lenient: ClassVar[bool] = True
    validate_reasoning: ClassVar[bool] = False
    default_endpoint: ClassVar[str | None] = CHAT_COMPLETIONS

    def check(self, request: Request, call: Call) -> None:
        """A ``base_url`` is required; then the shared checks."""
        if not self.setting(call, "base_url"):
            raise ConfigurationError(
                "invalid_option",
                problems=[
                    "openai_compatible needs a base_url (adapter_opts, the constructor or the"
                    " base_url= call keyword), e.g. 'http://localhost:11434/v1'"
                ],
            )
        super().check(request, call)

    def auth_headers(self, call: Call) -> dict[str, str]:
        """``Authorization`` only when a key is configured."""
        key = self.optional_api_key(call)
        headers = {"authorization": f"Bearer {key}"} if key else {}
        if self.organization:
            headers["openai-organization"] = self.organization
        if self.project:
            headers["openai-project"] = self.project
        return headers

    def max_tokens_field(self, model: str) -> str:
        """Compatible servers take ``max_tokens``."""
        return "max_tokens"

    def chat_reasoning(self, model: str, call: Call) -> dict[str, Any]:
        """Reasoning effort and verbosity pass through as given; no summary on this wire."""
        found = reasoning_params(call, validate=False)
        return {k: v for k, v in found.items() if k in ("reasoning_effort", "verbosity")}
