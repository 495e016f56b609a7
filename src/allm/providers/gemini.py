"""Google Gemini API (Generative Language, ``v1beta``): request building, stream decoding, errors.

What it does: translates a ``Request`` into a ``generateContent`` body (system messages hoisted to
``systemInstruction``, roles ``user``/``model``, tool results as ``functionResponse`` parts named
after the call they answer, thought signatures echoed on the part they came with, schemas cleaned
of keys Gemini rejects) and the answer, streamed (``streamGenerateContent?alt=sse``: every SSE event
is a whole ``GenerateContentResponse``, no terminal marker) or whole, back into allm events and a
``Response``. What it does not do: I/O (the drivers perform the HTTP), URL images (Gemini only
takes inline bytes on this API: rejected before sending), Vertex AI. The wire quirks and the
choices made are in ``docs/design/providers-gemini.md``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, ClassVar

from .._json import dumps, loads
from ..adapters import Call
from ..adapters.base import (
    HttpAdapter,
    StreamDecoder,
    json_or_none,
    raise_image_errors,
    retry_after_ms,
    text_of,
)
from ..adapters.http import HttpRequest, HttpResult
from ..adapters.sse import SSEEvent
from ..adapters.urls import path_segment
from ..data.messages import Image, ImagePart, Message, Role, TextPart
from ..data.request import Request
from ..data.response import FinishReason, Response
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
    ToolCallStarted,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "SKIP_SIGNATURE",
    "TEXT_SIGNATURE_ID",
    "THOUGHT_ID",
    "THOUGHT_SIGNATURE_ID",
    "Gemini",
    "GeminiStreamDecoder",
    "classify",
    "finish_reason_for",
    "generation_config",
    "sanitize_schema",
    "usage_fields",
]

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com/v1beta"
MODEL_PREFIXES = ("models/", "tunedModels/")

# ``ReasoningCompleted.id`` values marking a reasoning block as Gemini's, and where its signature
# goes back on the next turn: on the answer's first text part, or on a thought part of its own.
# A block with another id (another provider's) is never sent to Gemini.
THOUGHT_ID = "gemini:thought"
TEXT_SIGNATURE_ID = "gemini:text"
THOUGHT_SIGNATURE_ID = "gemini:thought_signature"

# The documented placeholder signature for a function call Gemini did not produce (a thread
# carried over from another provider, a hand-written example): base64 of
# "skip_thought_signature_validator". Gemini 3 rejects the first call of a turn without one.
SKIP_SIGNATURE = "c2tpcF90aG91Z2h0X3NpZ25hdHVyZV92YWxpZGF0b3I="

_FINISH_REASONS: dict[str, FinishReason] = {
    "STOP": FinishReason.STOP,
    "MAX_TOKENS": FinishReason.LENGTH,
    "SAFETY": FinishReason.CONTENT_FILTER,
    "RECITATION": FinishReason.CONTENT_FILTER,
    "BLOCKLIST": FinishReason.CONTENT_FILTER,
    "PROHIBITED_CONTENT": FinishReason.CONTENT_FILTER,
    "SPII": FinishReason.CONTENT_FILTER,
    "IMAGE_SAFETY": FinishReason.CONTENT_FILTER,
    "IMAGE_PROHIBITED_CONTENT": FinishReason.CONTENT_FILTER,
    "IMAGE_RECITATION": FinishReason.CONTENT_FILTER,
    "MALFORMED_FUNCTION_CALL": FinishReason.ERROR,
    "MISSING_THOUGHT_SIGNATURE": FinishReason.ERROR,
    "MALFORMED_RESPONSE": FinishReason.ERROR,
}

# generationConfig keys whose snake_case name does not camel-case to the wire name.
_RENAMED = {
    "stop": "stopSequences",
    "stop_sequences": "stopSequences",
    "max_tokens": "maxOutputTokens",
    "max_output_tokens": "maxOutputTokens",
    "n": "candidateCount",
}
# Options that belong at the top level of the body, not in generationConfig.
_TOP_LEVEL = {
    "safety_settings": "safetySettings",
    "safetySettings": "safetySettings",
    "cached_content": "cachedContent",
    "cachedContent": "cachedContent",
    "tool_config": "toolConfig",
    "toolConfig": "toolConfig",
}
_GENERATION_CONFIG_KEYS = frozenset({"generation_config", "generationConfig"})
_THINKING_KEYS = frozenset({"thinking_config", "thinkingConfig"})
# Options that are never body fields (the runner may pass them through as params).
_NOT_BODY = frozenset({"stream", "metadata"})

# JSON Schema keys the Gemini ``Schema`` object rejects.
_SCHEMA_DROP = frozenset(
    {
        "additionalProperties",
        "$schema",
        "$id",
        "$comment",
        "$defs",
        "definitions",
        "examples",
        "patternProperties",
        "unevaluatedProperties",
        "strict",
    }
)
_SCHEMA_MAX_DEPTH = 32

# usageMetadata counters lifted into Usage fields; the rest goes to ``extra`` under its wire name.
_LIFTED_USAGE = frozenset(
    {
        "promptTokenCount",
        "candidatesTokenCount",
        "responseTokenCount",
        "thoughtsTokenCount",
        "cachedContentTokenCount",
        "totalTokenCount",
    }
)

_CONTEXT_PHRASES = ("exceeds the maximum number of tokens", "input token count")
_STATUS_BY_GRPC = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "OUT_OF_RANGE": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "RESOURCE_EXHAUSTED": 429,
    "CANCELLED": 499,
    "INTERNAL": 500,
    "UNKNOWN": 500,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}
_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+)s\s*$")
_TYPE_PREFIX = "type.googleapis.com/google.rpc."


# -- pure helpers ---------------------------------------------------------------------------------


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def _camel_keys(value: Mapping[str, Any]) -> dict[str, Any]:
    return {_camel(str(key)): item for key, item in value.items()}


def sanitize_schema(schema: Any, _depth: int = 0, _defs: Mapping[str, Any] | None = None) -> Any:
    """``schema`` as Gemini's ``Schema`` object accepts it.

    Drops ``additionalProperties``, ``$schema``, ``$defs`` and the other JSON Schema keys Gemini
    rejects; inlines local ``$ref``s (``#/$defs/X``, ``#/definitions/X``); turns ``oneOf`` into
    ``anyOf``, ``const`` into a one-value ``enum`` and ``type: [T, "null"]`` into ``type: T,
    nullable: true``. Property names are never touched.
    """
    if not isinstance(schema, Mapping):
        return schema
    if _defs is None:
        _defs = {**(schema.get("definitions") or {}), **(schema.get("$defs") or {})}
    if _depth > _SCHEMA_MAX_DEPTH:
        return {}
    ref = schema.get("$ref")
    if isinstance(ref, str):
        target = _defs.get(ref.rsplit("/", 1)[-1]) if ref.startswith("#/") else None
        merged = {**(target if isinstance(target, Mapping) else {}), **schema}
        merged.pop("$ref", None)
        return sanitize_schema(merged, _depth + 1, _defs)
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _SCHEMA_DROP or key == "$ref":
            continue
        if key == "properties" and isinstance(value, Mapping):
            out[key] = {
                str(name): sanitize_schema(sub, _depth + 1, _defs) for name, sub in value.items()
            }
        elif key in ("items", "not") and isinstance(value, Mapping):
            out[key] = sanitize_schema(value, _depth + 1, _defs)
        elif key in ("anyOf", "oneOf", "allOf", "prefixItems") and isinstance(value, list):
            name = "anyOf" if key == "oneOf" else key
            out[name] = [sanitize_schema(sub, _depth + 1, _defs) for sub in value]
        elif key == "const":
            out.setdefault("enum", [value])
        elif key == "type" and isinstance(value, list):
            kinds = [kind for kind in value if kind != "null"]
            if len(kinds) == 1:
                out["type"] = kinds[0]
            elif kinds:
                out["anyOf"] = [{"type": kind} for kind in kinds]
            if len(kinds) != len(value):
                out["nullable"] = True
        else:
            out[key] = value
    return out


def _has_parameters(schema: Mapping[str, Any]) -> bool:
    # Gemini rejects an OBJECT schema with no properties: a tool without arguments sends none.
    if not schema:
        return False
    return not (schema.get("type", "object") == "object" and not schema.get("properties"))


def finish_reason_for(raw: str | None, has_calls: bool) -> FinishReason:
    """The normalized finish reason for a candidate ``finishReason`` (FORMATS.md §5)."""
    reason = _FINISH_REASONS.get(raw or "", FinishReason.OTHER)
    if reason is FinishReason.STOP and has_calls:
        return FinishReason.TOOL_CALLS
    return reason


def usage_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    """``usageMetadata`` as ``Usage`` fields: input includes cached tokens, output is candidates
    plus thoughts, total is the provider's; counters not lifted go to ``extra``."""
    fields: dict[str, Any] = {}
    prompt = _int(raw.get("promptTokenCount"))
    candidates = _int(raw.get("candidatesTokenCount"))
    if candidates is None:
        candidates = _int(raw.get("responseTokenCount"))
    thoughts = _int(raw.get("thoughtsTokenCount"))
    if prompt is not None:
        fields["input_tokens"] = prompt
    if candidates is not None or thoughts is not None:
        fields["output_tokens"] = (candidates or 0) + (thoughts or 0)
    if thoughts is not None:
        fields["reasoning_tokens"] = thoughts
    cached = _int(raw.get("cachedContentTokenCount"))
    if cached is not None:
        fields["cached_input_tokens"] = cached
    total = _int(raw.get("totalTokenCount"))
    if total is None and prompt is not None and "output_tokens" in fields:
        total = prompt + fields["output_tokens"]
    if total is not None:
        fields["total_tokens"] = total
    extra = {key: value for key, value in raw.items() if key not in _LIFTED_USAGE}
    if extra:
        fields["extra"] = extra
    return fields


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _duration_ms(value: Any) -> int | None:
    """A protobuf Duration string (``"38s"``, ``"38.601s"``) in milliseconds."""
    if not isinstance(value, str):
        return None
    match = _DURATION.match(value)
    return round(float(match.group(1)) * 1000) if match else None


def _unwrap(body: Any) -> Any:
    # Some Google front ends wrap the document in a one-element array.
    if isinstance(body, list) and len(body) == 1:
        return body[0]
    return body


def _details(error: Mapping[str, Any]) -> dict[str, Any]:
    """The facts worth keeping from ``error.details``: ErrorInfo reason, quota ids, retry delay."""
    found: dict[str, Any] = {}
    details = error.get("details")
    if not isinstance(details, list):
        return found
    for detail in details:
        if not isinstance(detail, Mapping):
            continue
        kind = str(detail.get("@type", ""))
        kind = kind[len(_TYPE_PREFIX) :] if kind.startswith(_TYPE_PREFIX) else kind
        if kind == "ErrorInfo" and isinstance(detail.get("reason"), str):
            found.setdefault("error_reason", detail["reason"])
        elif kind == "QuotaFailure" and isinstance(detail.get("violations"), list):
            ids = [
                str(v["quotaId"])
                for v in detail["violations"]
                if isinstance(v, Mapping) and v.get("quotaId")
            ]
            found.setdefault("quota_ids", []).extend(ids)
        elif kind == "RetryInfo" and isinstance(detail.get("retryDelay"), str):
            found["retry_delay"] = detail["retryDelay"]
    return found


def classify(
    status: int | None, google_status: str | None, message: str, facts: Mapping[str, Any]
) -> str:
    """The ``AdapterError`` reason for a Gemini error (HTTP status, or the in-band ``code``)."""
    if facts.get("error_reason") == "API_KEY_INVALID":
        return "authentication_failed"  # Gemini answers a bad key with 400, not 401
    if status is None:
        status = _STATUS_BY_GRPC.get(google_status or "")
    if status is None:
        return "unknown"
    if status == 429 or google_status == "RESOURCE_EXHAUSTED":
        if any("PerDay" in quota for quota in facts.get("quota_ids", ())):
            return "quota_exhausted"  # a daily quota: waiting seconds does not refill it
        return "rate_limited"
    if status in (401, 403):
        return "authentication_failed"
    if status == 400:
        lowered = message.lower()
        if any(phrase in lowered for phrase in _CONTEXT_PHRASES):
            return "context_length_exceeded"
        return "invalid_request"
    if status in (404, 409, 413, 422):
        return "invalid_request"
    if status == 408:
        return "timeout"
    if status >= 500:
        return "provider_unavailable"
    return "unknown"


def _error_from(
    error: Mapping[str, Any],
    *,
    http_status: int | None,
    headers: Mapping[str, str],
    request_id: str,
) -> AdapterError:
    """An ``AdapterError`` from a Google error object ``{code, message, status, details}``."""
    code = _int(error.get("code"))
    google_status = error.get("status") if isinstance(error.get("status"), str) else None
    message = str(error.get("message") or f"Gemini error {code or google_status or ''}".strip())
    facts = _details(error)
    status_for_reason = http_status if http_status is not None else code
    reason = classify(status_for_reason, google_status, message, facts)
    retry_after = retry_after_ms(headers)
    if retry_after is None:
        retry_after = _duration_ms(facts.get("retry_delay"))
    metadata: dict[str, Any] = {
        "type": google_status,
        "code": google_status,
        "google_status": google_status,
    }
    if code is not None:
        metadata["error_code"] = code
    metadata.update(facts)
    if http_status is None:
        metadata["in_band"] = True
    return AdapterError(
        reason,
        message,
        provider="gemini",
        status=http_status,
        retry_after_ms=retry_after,
        request_id=request_id,
        metadata=metadata,
    )


def _snippet(body: bytes | str, limit: int = 160) -> str:
    text = body[: limit * 4].decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    return " ".join(text[: limit * 4].split())[:limit]


# -- request building -----------------------------------------------------------------------------


def generation_config(request: Request, call: Call) -> tuple[dict[str, Any], dict[str, Any]]:
    """``generationConfig`` and the extra top-level body fields, from the request and options.

    Engine params and call keywords (``call.params``) come first, ``request.options`` over them,
    then the request's own ``max_tokens`` / ``temperature`` / ``response_format``. snake_case
    names are camel-cased (``top_p`` -> ``topP``); ``stop`` -> ``stopSequences``, ``max_tokens`` ->
    ``maxOutputTokens``, ``thinking_config`` -> ``thinkingConfig`` (its keys too),
    ``reasoning_effort`` -> ``thinkingConfig.thinkingLevel``; ``safety_settings``,
    ``cached_content`` and ``tool_config`` go to the top level; a ``generationConfig`` mapping is
    merged verbatim.
    """
    config: dict[str, Any] = {}
    top: dict[str, Any] = {}
    for source in (call.params, request.options):
        for key, value in source.items():
            _apply_option(str(key), value, config, top)
    if request.max_tokens is not None:
        config["maxOutputTokens"] = request.max_tokens
    if request.temperature is not None:
        config["temperature"] = request.temperature
    fmt = request.response_format
    if isinstance(fmt, Mapping):
        kind = fmt.get("type")
        if kind == "json_object":
            config["responseMimeType"] = "application/json"
        elif kind == "json_schema":
            nested = fmt.get("json_schema")
            schema = fmt.get("schema")
            if schema is None and isinstance(nested, Mapping):
                schema = nested.get("schema")
            config["responseMimeType"] = "application/json"
            if isinstance(schema, Mapping):
                config["responseSchema"] = sanitize_schema(schema)
    return config, top


def _apply_option(key: str, value: Any, config: dict[str, Any], top: dict[str, Any]) -> None:
    if key in _NOT_BODY or value is None:
        return
    if key in _GENERATION_CONFIG_KEYS and isinstance(value, Mapping):
        config.update(value)
    elif key in _TOP_LEVEL:
        top[_TOP_LEVEL[key]] = value
    elif key in _THINKING_KEYS and isinstance(value, Mapping):
        config.setdefault("thinkingConfig", {}).update(_camel_keys(value))
    elif key == "reasoning_effort":
        config.setdefault("thinkingConfig", {})["thinkingLevel"] = value
    elif key in ("stop", "stop_sequences", "stopSequences"):
        config["stopSequences"] = [value] if isinstance(value, str) else list(value)
    elif key in ("response_schema", "responseSchema"):
        config["responseSchema"] = sanitize_schema(value)
    else:
        config[_RENAMED.get(key) or _camel(key)] = value


def _tool_config(choice: Any) -> dict[str, Any] | None:
    """``toolConfig`` for a ``tool_choice``: auto/required/none, a tool name, ``("tool", name)``,
    an OpenAI-style ``{"type": "function", "function": {"name"}}``, or a dict passed through."""
    if choice is None:
        return None
    if isinstance(choice, tuple) and len(choice) == 2:
        choice = choice[1]
    if isinstance(choice, Mapping):
        function = choice.get("function")
        if choice.get("type") == "function" and isinstance(function, Mapping):
            choice = function.get("name")
        elif choice.get("type") == "tool" and isinstance(choice.get("name"), str):
            choice = choice["name"]
        else:
            return dict(choice)
    if choice == "auto":
        return {"functionCallingConfig": {"mode": "AUTO"}}
    if choice == "required":
        return {"functionCallingConfig": {"mode": "ANY"}}
    if choice == "none":
        return {"functionCallingConfig": {"mode": "NONE"}}
    if isinstance(choice, str) and choice:
        return {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [choice]}}
    return None


def _inline_data(image: Image) -> dict[str, Any]:
    if image.source.type == "base64":
        data = str(image.source.value)
    else:
        import base64

        data = base64.b64encode(image.to_bytes()).decode("ascii")
    return {"inlineData": {"mimeType": image.mime_type, "data": data}}


def _user_parts(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"text": content}]
    parts: list[dict[str, Any]] = []
    for part in content:
        if isinstance(part, TextPart):
            parts.append({"text": part.text})
        elif isinstance(part, ImagePart):
            parts.append(_inline_data(part.image))
    return parts or [{"text": ""}]


def _tool_response(content: Any) -> dict[str, Any]:
    """A tool message's content as ``functionResponse.response`` (a JSON object): the tool's
    JSON object when the content is one, else ``{"output": text}``."""
    text = text_of(content)
    if text.startswith("{"):
        try:
            value = loads(text)
        except ValueError:
            value = None
        if isinstance(value, dict):
            return value
    return {"output": text}


def _signatures(metadata: Mapping[str, Any]) -> tuple[str | None, list[dict[str, Any]]]:
    """The answer-text signature and the signed thought parts kept on an assistant message."""
    text_signature: str | None = None
    thought_parts: list[dict[str, Any]] = []
    blocks = metadata.get("reasoning_blocks")
    if isinstance(blocks, Sequence) and not isinstance(blocks, str):
        for block in blocks:
            if not isinstance(block, Mapping):
                continue
            signature = block.get("signature")
            if not isinstance(signature, str) or not signature:
                continue
            marker = block.get("id")
            if marker == TEXT_SIGNATURE_ID and text_signature is None:
                text_signature = signature
            elif marker == THOUGHT_SIGNATURE_ID:
                thought_parts.append(
                    {
                        "text": str(block.get("text") or ""),
                        "thought": True,
                        "thoughtSignature": signature,
                    }
                )
    explicit = metadata.get("thought_signature")
    if isinstance(explicit, str) and explicit:
        text_signature = explicit
    return text_signature, thought_parts


def _model_parts(message: Message, synthetic: set[str]) -> list[dict[str, Any]]:
    text_signature, parts = _signatures(message.metadata)
    text = text_of(message.content)
    if text or text_signature:
        part: dict[str, Any] = {"text": text}
        if text_signature:
            part["thoughtSignature"] = text_signature
        parts.append(part)
    call_parts: list[dict[str, Any]] = []
    foreign = True
    for call in message.tool_calls:
        function: dict[str, Any] = {"name": call.name, "args": dict(call.arguments or {})}
        if call.id not in synthetic:
            function["id"] = call.id
        part = {"functionCall": function}
        signature = call.metadata.get("thought_signature")
        if isinstance(signature, str) and signature:
            part["thoughtSignature"] = signature
            foreign = False
        if call.metadata.get("synthetic_id"):
            foreign = False
        call_parts.append(part)
    if call_parts and foreign:
        call_parts[0]["thoughtSignature"] = SKIP_SIGNATURE
    return parts + call_parts


def _contents(
    messages: Sequence[Message],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``systemInstruction`` parts and ``contents`` for a conversation."""
    system: list[dict[str, Any]] = []
    contents: list[dict[str, Any]] = []
    names: dict[str, str] = {}
    synthetic: set[str] = set()
    problems: list[tuple[tuple[str | int, ...], str]] = []
    results_open = False  # the last content holds tool results: later ones join it
    for index, message in enumerate(messages):
        role = message.role
        if role == Role.SYSTEM:
            system.append({"text": text_of(message.content)})
            continue
        if role == Role.TOOL:
            call_id = message.tool_call_id or ""
            name = names.get(call_id) or message.name
            if not name:
                problems.append((("messages", index, "tool_call_id"), "unknown_tool_call_id"))
                continue
            response: dict[str, Any] = {"name": name, "response": _tool_response(message.content)}
            if call_id and call_id not in synthetic:
                response["id"] = call_id
            part = {"functionResponse": response}
            if results_open:
                contents[-1]["parts"].append(part)
            else:
                contents.append({"role": "user", "parts": [part]})
                results_open = True
            continue
        results_open = False
        if role == Role.ASSISTANT:
            for call in message.tool_calls:
                names[call.id] = call.name
                if call.metadata.get("synthetic_id"):
                    synthetic.add(call.id)
            parts = _model_parts(message, synthetic)
            if parts:
                contents.append({"role": "model", "parts": parts})
        else:
            contents.append({"role": "user", "parts": _user_parts(message.content)})
    if problems:
        raise ValidationError(
            "invalid_message",
            "a tool result answers no earlier tool call, so Gemini cannot name it",
            errors=problems,
        )
    return system, contents


# -- stream decoding ------------------------------------------------------------------------------


class GeminiStreamDecoder(StreamDecoder):
    """``streamGenerateContent?alt=sse`` events (each a whole ``GenerateContentResponse``) to allm
    events. Also folds a non-streaming body, fed as one payload, so both paths agree.

    Completion is a candidate ``finishReason`` or a ``promptFeedback.blockReason``; the body ending
    without either is a truncated stream.
    """

    def __init__(self, provider: str, request_id: str) -> None:
        self.provider = provider
        self.request_id = request_id
        self.done = False
        self.response_id: str | None = None
        self.model: str | None = None
        self.provider_request_id: str | None = None
        self._content_type = ""
        self._payloads = 0
        self._text: list[str] = []
        self._thoughts: list[str] = []
        self._thinking = False
        self._calls: list[ToolCall] = []
        self._call_index = 0
        self._blocks: list[dict[str, Any]] = []
        self._usage: Any = None
        self._safety_ratings: Any = None
        self._finish_message: str | None = None

    # -- the StreamDecoder contract ---------------------------------------------------------------

    def start(self, result: HttpResult) -> list[Event]:
        """``MessageStarted`` (with the request id header, if a proxy added one)."""
        headers = result.headers
        self._content_type = headers.get("content-type", "")
        self.provider_request_id = headers.get("x-request-id") or headers.get("request-id")
        metadata: dict[str, Any] = {}
        if self.provider_request_id:
            metadata["provider_request_id"] = self.provider_request_id
        return [MessageStarted(Message(Role.ASSISTANT, "", metadata=metadata))]

    def feed(self, event: SSEEvent) -> list[Event]:
        """Events for one SSE event: one JSON document."""
        if self.done:
            return []
        data = event.data
        if data == "[DONE]":  # an OpenAI-style sentinel from a gateway: not Gemini's, ignore
            return []
        try:
            payload = loads(data)
        except ValueError:
            return self._fail(
                AdapterError(
                    "malformed_response",
                    f"Gemini sent an event that is not JSON: {_snippet(data)!r}",
                    provider=self.provider,
                    request_id=self._error_request_id(),
                )
            )
        return self.payload(payload)

    def finish(self) -> list[Event]:
        """The body ended: fine after the terminal chunk, a truncated stream otherwise."""
        if self.done:
            return []
        if not self._payloads and "event-stream" not in self._content_type:
            error = AdapterError(
                "malformed_response",
                "Gemini answered a stream request with "
                f"{self._content_type or 'no content type'} instead of an event stream",
                provider=self.provider,
                request_id=self._error_request_id(),
            )
        else:
            error = AdapterError(
                "network_error",
                "stream ended before its terminal event",
                provider=self.provider,
                request_id=self._error_request_id(),
                metadata={"truncated": True},
            )
        return self._fail(error)

    def fail(self, error: AdapterError) -> list[Event]:
        """The transport broke: keep what came, end with the error."""
        if self.done:
            return []
        return self._fail(error)

    # -- one GenerateContentResponse --------------------------------------------------------------

    def payload(self, payload: Any) -> list[Event]:
        """Events for one parsed ``GenerateContentResponse`` (or an in-band error)."""
        self._payloads += 1
        payload = _unwrap(payload)
        if not isinstance(payload, dict):
            return self._fail(
                AdapterError(
                    "malformed_response",
                    f"Gemini sent a JSON {type(payload).__name__} instead of an object",
                    provider=self.provider,
                    request_id=self._error_request_id(),
                )
            )
        error = payload.get("error")
        if isinstance(error, Mapping):
            return self._fail(
                _error_from(
                    error, http_status=None, headers={}, request_id=self._error_request_id()
                )
            )
        out: list[Event] = []
        response_id = payload.get("responseId")
        if isinstance(response_id, str):
            self.response_id = response_id
        model = payload.get("modelVersion")
        if isinstance(model, str):
            self.model = model
        finish: str | None = None
        candidate = _first_candidate(payload.get("candidates"))
        if candidate is not None:
            content = candidate.get("content")
            parts = content.get("parts") if isinstance(content, Mapping) else None
            if isinstance(parts, list):
                for part in parts:
                    if isinstance(part, Mapping):
                        self._part(part, out)
            ratings = candidate.get("safetyRatings")
            if ratings:
                self._safety_ratings = ratings
            if isinstance(candidate.get("finishMessage"), str):
                self._finish_message = candidate["finishMessage"]
            raw_finish = candidate.get("finishReason")
            if isinstance(raw_finish, str) and raw_finish:
                finish = raw_finish
        usage = payload.get("usageMetadata")
        if isinstance(usage, Mapping) and usage != self._usage:
            self._usage = usage
            out.append(RawChunk(("usage", usage_fields(usage))))
        if finish is not None:
            self._complete(finish, out)
            return out
        feedback = payload.get("promptFeedback")
        block = feedback.get("blockReason") if isinstance(feedback, Mapping) else None
        if isinstance(block, str) and block:
            assert isinstance(feedback, Mapping)
            self._blocked(block, feedback, out)
        return out

    def _part(self, part: Mapping[str, Any], out: list[Event]) -> None:
        signature = part.get("thoughtSignature")
        signature = signature if isinstance(signature, str) and signature else None
        function = part.get("functionCall")
        if isinstance(function, Mapping):
            self._close_thoughts(None, out)
            self._function_call(function, signature, out)
            return
        text = part.get("text")
        if part.get("thought") is True:
            self._thinking = True
            if isinstance(text, str) and text:
                self._thoughts.append(text)
                out.append(ReasoningDelta(text))
            if signature:
                self._close_thoughts(signature, out, THOUGHT_SIGNATURE_ID)
            return
        if not isinstance(text, str):
            return  # inlineData, executableCode, ...: not part of a text answer
        if self._thinking or signature:
            self._close_thoughts(signature, out, TEXT_SIGNATURE_ID)
        if text:
            self._text.append(text)
            out.append(TextDelta(text))

    def _close_thoughts(
        self, signature: str | None, out: list[Event], marker: str = THOUGHT_ID
    ) -> None:
        """End the open reasoning block (with the signature that closed it, if any)."""
        if not self._thinking and signature is None:
            return
        text = "".join(self._thoughts)
        block_id = marker if signature else THOUGHT_ID
        out.append(ReasoningCompleted(text, signature=signature, id=block_id))
        self._blocks.append({"text": text, "signature": signature, "id": block_id})
        self._thoughts = []
        self._thinking = False

    def _function_call(
        self, function: Mapping[str, Any], signature: str | None, out: list[Event]
    ) -> None:
        name = str(function.get("name") or "")
        args = function.get("args")
        arguments = dict(args) if isinstance(args, Mapping) else {}
        raw = dumps(args if args is not None else {})
        metadata: dict[str, Any] = {}
        call_id = function.get("id")
        if not isinstance(call_id, str) or not call_id:
            seed = f"{self.response_id}|{self._call_index}|{name}|{raw}"
            call_id = "fc_" + hashlib.sha256(seed.encode("utf-8")).hexdigest()[:24]
            metadata["synthetic_id"] = True
        if signature:
            metadata["thought_signature"] = signature
        self._call_index += 1
        call = ToolCall(call_id, name, arguments, raw, metadata)
        self._calls.append(call)
        out.append(ToolCallStarted(call_id, name))
        out.append(ToolCallCompleted(call_id, name, arguments, raw, metadata))

    # -- endings ----------------------------------------------------------------------------------

    def _identity(self) -> dict[str, Any]:
        metadata: dict[str, Any] = {"response_id": self.response_id, "model": self.model}
        if self.provider_request_id:
            metadata["provider_request_id"] = self.provider_request_id
        return metadata

    def _message(self, text: str) -> Message:
        metadata: dict[str, Any] = {}
        if self._blocks:
            metadata["reasoning_blocks"] = tuple(self._blocks)
        return Message(Role.ASSISTANT, text, tool_calls=tuple(self._calls), metadata=metadata)

    def _end(self, out: list[Event]) -> str:
        self._close_thoughts(None, out)
        text = "".join(self._text)
        if text:
            out.append(TextCompleted(text))
        self.done = True
        return text

    def _complete(self, raw: str, out: list[Event]) -> None:
        text = self._end(out)
        reason = finish_reason_for(raw, bool(self._calls))
        metadata = {**self._identity(), "raw_finish_reason": raw}
        if self._safety_ratings:
            metadata["safety_ratings"] = self._safety_ratings
        if self._finish_message:
            metadata["finish_message"] = self._finish_message
        if reason is FinishReason.ERROR:
            detail = f": {self._finish_message}" if self._finish_message else ""
            metadata["error"] = AdapterError(
                "malformed_response",
                f"Gemini stopped with finishReason {raw}{detail}",
                provider=self.provider,
                request_id=self._error_request_id(),
                metadata={"finish_reason": raw},
            )
        out.append(MessageCompleted(self._message(text), reason, metadata))

    def _blocked(self, block: str, feedback: Mapping[str, Any], out: list[Event]) -> None:
        text = self._end(out)
        metadata = {
            **self._identity(),
            "raw_finish_reason": block,
            "prompt_block_reason": block,
        }
        ratings = feedback.get("safetyRatings")
        if ratings:
            metadata["safety_ratings"] = ratings
        out.append(MessageCompleted(self._message(text), FinishReason.CONTENT_FILTER, metadata))

    def _fail(self, error: AdapterError) -> list[Event]:
        out: list[Event] = []
        self._close_thoughts(None, out)
        out.append(ErrorEvent(error))
        self.done = True
        return out

    def _error_request_id(self) -> str:
        return self.response_id or self.provider_request_id or self.request_id

    @property
    def has_content(self) -> bool:
        """Whether any answer content was seen (a whole body without any is unreadable)."""
        return self.done or bool(self._text or self._calls or self._thinking or self._blocks)

    def complete_without_finish(self) -> list[Event]:
        """End a whole body whose candidate carried no ``finishReason``: keep what it says,
        finish ``"other"`` (a stream would call this truncated; a whole body is complete)."""
        out: list[Event] = []
        text = self._end(out)
        out.append(MessageCompleted(self._message(text), FinishReason.OTHER, self._identity()))
        return out


def _first_candidate(candidates: Any) -> Mapping[str, Any] | None:
    if not isinstance(candidates, list) or not candidates:
        return None
    for candidate in candidates:
        if isinstance(candidate, Mapping) and candidate.get("index", 0) == 0:
            return candidate
    first = candidates[0]
    return first if isinstance(first, Mapping) else None


# -- the adapter ----------------------------------------------------------------------------------


class Gemini(HttpAdapter):
    """The Google Gemini API adapter (streaming and non-streaming).

    Key from ``GEMINI_API_KEY`` (then ``GOOGLE_API_KEY``) or ``api_key=``, sent in the
    ``x-goog-api-key`` header (never in the URL). Provider parameters (``top_p``, ``top_k``,
    ``stop``, ``thinking_config``, ``safety_settings``, ...) as call keywords, engine params or
    ``request.options``; see ``generation_config`` for the renaming.
    """

    name: ClassVar[str] = "gemini"
    key_provider: ClassVar[str] = "gemini"
    default_base_url: ClassVar[str] = DEFAULT_BASE_URL

    # -- pre-flight -------------------------------------------------------------------------------

    def check(self, request: Request, call: Call) -> None:
        """The image rules, a model name, and no URL images (this API takes inline bytes only)."""
        raise_image_errors(request)
        if not isinstance(request.model, str) or not request.model:
            raise EngineError("missing_model", "Gemini needs a model name", provider=self.name)
        path_segment(request.model, provider=self.name, prefixes=MODEL_PREFIXES)
        urls: list[list[str | int]] = []
        for index, message in enumerate(request.messages):
            if not isinstance(message.content, tuple):
                continue
            for part_index, part in enumerate(message.content):
                if isinstance(part, ImagePart) and part.image.source.type == "url":
                    urls.append(["messages", index, "content", part_index])
        if urls:
            raise AdapterError(
                "unsupported_feature",
                "the Gemini API takes images as inline data only; "
                "load the image (ImagePart.from_bytes / from_file) instead of passing a URL",
                provider=self.name,
                request_id=call.request_id,
                metadata={"paths": urls, "feature": "image_url"},
            )

    # -- request ----------------------------------------------------------------------------------

    def url(self, request: Request, call: Call, *, stream: bool) -> str:
        """``{base}/models/{model}:generateContent`` or ``:streamGenerateContent?alt=sse``."""
        model = path_segment(request.model, provider=self.name, prefixes=MODEL_PREFIXES)
        if not model.startswith(MODEL_PREFIXES):
            model = f"models/{model}"
        path = f"{self.base(call)}/{model}"
        return f"{path}:streamGenerateContent?alt=sse" if stream else f"{path}:generateContent"

    def build_request(self, request: Request, call: Call, *, stream: bool) -> HttpRequest:
        """The POST with the JSON body; the key is resolved after the body was built."""
        body = self.build_body(request, call)
        headers = {"x-goog-api-key": self.api_key(call)}
        return self.json_request(call, self.url(request, call, stream=stream), body, headers)

    def build_body(self, request: Request, call: Call) -> dict[str, Any]:
        """The ``generateContent`` body (the same for both endpoints)."""
        system, contents = _contents(request.messages)
        body: dict[str, Any] = {"contents": contents}
        if system:
            body["systemInstruction"] = {"parts": system}
        config, top = generation_config(request, call)
        if config:
            body["generationConfig"] = config
        if request.tools:
            declarations = []
            for tool in request.tools:
                declaration: dict[str, Any] = {"name": tool.name, "description": tool.description}
                if _has_parameters(tool.schema):
                    declaration["parameters"] = sanitize_schema(tool.schema)
                declarations.append(declaration)
            body["tools"] = [{"functionDeclarations": declarations}]
            tool_config = _tool_config(request.tool_choice)
            if tool_config is not None:
                body["toolConfig"] = tool_config
        body.update(top)
        return body

    # -- answers ----------------------------------------------------------------------------------

    def stream_decoder(self, request: Request, call: Call) -> GeminiStreamDecoder:
        """A fresh decoder for one stream."""
        return GeminiStreamDecoder(self.name, call.request_id)

    def parse_response(self, result: HttpResult, request: Request, call: Call) -> Response:
        """A whole ``generateContent`` body, decoded by the stream decoder and folded, so the
        non-streaming path gives the same ``Response`` as the stream would."""
        from ..execution.collector import StreamCollector

        body = json_or_none(result.body)
        if body is None:
            raise self._unreadable(result, call, "a body that is not JSON")
        decoder = GeminiStreamDecoder(self.name, call.request_id)
        events = decoder.start(result)
        events.extend(decoder.payload(body))
        if not decoder.done:
            if not decoder.has_content:
                raise self._unreadable(
                    result, call, "a body with neither candidates nor promptFeedback.blockReason"
                )
            events.extend(decoder.complete_without_finish())
        collector = StreamCollector(request_id=call.request_id)
        collector.apply_all(events)
        if collector.error is not None:
            raise collector.error
        return replace(collector.to_response(), raw=body)

    def _unreadable(self, result: HttpResult, call: Call, what: str) -> AdapterError:
        kind = result.headers.get("content-type", "unknown content type")
        return AdapterError(
            "malformed_response",
            f"Gemini answered HTTP {result.status} with {what} ({kind}): {_snippet(result.body)!r}",
            provider=self.name,
            status=result.status,
            retry_after_ms=retry_after_ms(result.headers),
            request_id=call.request_id,
            metadata={"content_type": kind},
        )

    def classify_error(self, result: HttpResult, call: Call) -> AdapterError:
        """An HTTP error: ``{"error": {code, message, status, details}}`` (possibly wrapped in a
        one-element array), or ``malformed_response`` for a body that is not one."""
        data = _unwrap(json_or_none(result.body))
        error = data.get("error") if isinstance(data, dict) else None
        if not isinstance(error, Mapping):
            return self._unreadable(result, call, "an unreadable body")
        return _error_from(
            error, http_status=result.status, headers=result.headers, request_id=call.request_id
        )
