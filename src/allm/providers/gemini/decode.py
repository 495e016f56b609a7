"""Gemini answers: finish reasons, usage and the stream decoder (every SSE event a whole response)."""

from __future__ import annotations

from collections.abc import Mapping
from hashlib import sha256 as _sha256
from typing import Any, TypeGuard

from ..._json import dumps, loads_wire
from ..._text import TextBuffer
from ...adapters.base import StreamDecoder, json_or_none
from ...adapters.http import HttpResult
from ...adapters.sse import SSEEvent
from ...data.messages import Message, Role
from ...data.response import FinishReason
from ...data.tools import ToolCall
from ...errors import AdapterError
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
    ToolCallStarted,
)
from ..logprobs import gemini_tokens
from ..parts import assistant_content
from ..wire import as_int
from .errors import _error_from, _snippet, _unwrap
from .server import GeminiExtras
from .settings import TEXT_SIGNATURE_ID, THOUGHT_ID, THOUGHT_SIGNATURE_ID

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
    "LANGUAGE": FinishReason.CONTENT_FILTER,
    "MODEL_ARMOR": FinishReason.CONTENT_FILTER,  # Vertex AI's Model Armor screening
    "MALFORMED_FUNCTION_CALL": FinishReason.ERROR,
    "UNEXPECTED_TOOL_CALL": FinishReason.ERROR,
    "TOO_MANY_TOOL_CALLS": FinishReason.ERROR,
    "MISSING_THOUGHT_SIGNATURE": FinishReason.ERROR,
    "MALFORMED_RESPONSE": FinishReason.ERROR,
    # Documented, and none of the above: FINISH_REASON_UNSPECIFIED, OTHER, IMAGE_OTHER, NO_IMAGE.
}

# usageMetadata counters lifted into Usage fields; the rest goes to ``extra`` under its wire name.
_LIFTED_USAGE = frozenset(
    {
        "promptTokenCount",
        "toolUsePromptTokenCount",
        "candidatesTokenCount",
        "responseTokenCount",
        "thoughtsTokenCount",
        "cachedContentTokenCount",
        "totalTokenCount",
    }
)


def finish_reason_for(raw: str | None, has_calls: bool) -> FinishReason:
    """The normalized finish reason for a candidate ``finishReason`` (FORMATS.md §5)."""
    reason = _FINISH_REASONS.get(raw or "", FinishReason.OTHER)
    if reason is FinishReason.STOP and has_calls:
        return FinishReason.TOOL_CALLS
    return reason


def usage_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    """``usageMetadata`` as ``Usage`` fields: input includes cached and tool-use prompt tokens,
    output is candidates
    plus thoughts, total is the provider's; counters not lifted go to ``extra``."""
    fields: dict[str, Any] = {}
    prompt = as_int(raw.get("promptTokenCount"))
    tool_prompt = as_int(raw.get("toolUsePromptTokenCount"))
    if tool_prompt is not None:  # the results of tools the model ran itself are input too
        prompt = (prompt or 0) + tool_prompt
    candidates = as_int(raw.get("candidatesTokenCount"))
    if candidates is None:
        candidates = as_int(raw.get("responseTokenCount"))
    thoughts = as_int(raw.get("thoughtsTokenCount"))
    if prompt is not None:
        fields["input_tokens"] = prompt
    if candidates is not None or thoughts is not None:
        fields["output_tokens"] = (candidates or 0) + (thoughts or 0)
    if thoughts is not None:
        fields["reasoning_tokens"] = thoughts
    cached = as_int(raw.get("cachedContentTokenCount"))
    if cached is not None:
        fields["cached_input_tokens"] = cached
    total = as_int(raw.get("totalTokenCount"))
    if total is None and prompt is not None and "output_tokens" in fields:
        total = prompt + fields["output_tokens"]
    if total is not None:
        fields["total_tokens"] = total
    extra = {key: value for key, value in raw.items() if key not in _LIFTED_USAGE}
    if extra:
        fields["extra"] = extra
    return fields


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
        self.raw_body = False
        self._payloads = 0
        self._text: TextBuffer = TextBuffer()
        self._thoughts: TextBuffer = TextBuffer()
        self._thinking = False
        self._calls: list[ToolCall] = []
        self._call_index = 0
        self._blocks: list[dict[str, Any]] = []
        self._usage: Any = None
        self._safety_ratings: Any = None
        self._finish_message: str | None = None
        self.found = GeminiExtras()

    # -- the StreamDecoder contract ---------------------------------------------------------------

    def start(self, result: HttpResult) -> list[Event]:
        """``MessageStarted`` (with the request id header, if a proxy added one)."""
        headers = result.headers
        self._content_type = headers.get("content-type", "")
        lowered = self._content_type.lower()
        self.raw_body = "event-stream" not in lowered and ("json" in lowered or "html" in lowered)
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
            payload = loads_wire(data)
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

    def finish_body(self, body: bytes) -> list[Event]:
        """A whole JSON body served to a streaming request: one ``GenerateContentResponse`` or
        the JSON array ``streamGenerateContent`` returns without ``alt=sse``; anything else (an
        HTML page) is ``malformed_response``."""
        parsed = json_or_none(body)
        payloads = parsed if isinstance(parsed, list) and len(parsed) != 1 else [parsed]
        if parsed is None or not payloads or not all(isinstance(p, dict) for p in payloads):
            return self._fail(
                AdapterError(
                    "malformed_response",
                    f"Gemini answered a stream request with {self._content_type}: "
                    f"{_snippet(body)!r}",
                    provider=self.provider,
                    status=200,
                    request_id=self._error_request_id(),
                )
            )
        out: list[Event] = []
        for payload in payloads:
            if not self.done:
                out.extend(self.payload(payload))
        if not self.done:
            out.extend(self.finish())
        return out

    def fail(self, error: AdapterError) -> list[Event]:
        """The transport broke: keep what came, end with the error."""
        if self.done:
            return []
        return self._fail(error)

    # -- one GenerateContentResponse --------------------------------------------------------------

    def payload(self, payload: Any) -> list[Event]:
        """Events for one parsed ``GenerateContentResponse`` (or an in-band error)."""
        self._payloads += 1
        if type(payload) is not dict:  # parsed JSON: an object is always a dict
            payload = _unwrap(payload)
            if not _is_map(payload):
                return self._fail(
                    AdapterError(
                        "malformed_response",
                        f"Gemini sent a JSON {type(payload).__name__} instead of an object",
                        provider=self.provider,
                        request_id=self._error_request_id(),
                    )
                )
        get = payload.get
        error = get("error")
        if error is not None and _is_map(error):
            return self._fail(
                _error_from(
                    error,
                    http_status=None,
                    headers={},
                    request_id=self._error_request_id(),
                    provider=self.provider,
                )
            )
        out: list[Event] = []
        response_id = get("responseId")
        if isinstance(response_id, str):
            self.response_id = response_id
        model = get("modelVersion")
        if isinstance(model, str):
            self.model = model
        finish: str | None = None
        candidate = _first_candidate(get("candidates"))
        if candidate is not None:
            content = candidate.get("content")
            parts = content.get("parts") if _is_map(content) else None
            if isinstance(parts, list):
                part_of = self._part
                for part in parts:
                    if _is_map(part):
                        part_of(part, out)
            logprobs = candidate.get("logprobsResult")
            if logprobs:  # absent unless the call asked for them
                tokens = gemini_tokens(logprobs)
                if tokens:
                    out.append(LogprobsDelta(tokens))
            self.found.candidate(candidate)
            ratings = candidate.get("safetyRatings")
            if ratings:
                self._safety_ratings = ratings
            message = candidate.get("finishMessage")
            if isinstance(message, str):
                self._finish_message = message
            raw_finish = candidate.get("finishReason")
            if isinstance(raw_finish, str) and raw_finish:
                finish = raw_finish
        usage = get("usageMetadata")
        if usage is not None and _is_map(usage) and usage != self._usage:
            self._usage = usage
            out.append(RawChunk(("usage", usage_fields(usage))))
        if finish is not None:
            self._complete(finish, out)
            return out
        feedback = get("promptFeedback")
        if feedback is not None and _is_map(feedback):
            block = feedback.get("blockReason")
            if isinstance(block, str) and block:
                self._blocked(block, feedback, out)
        return out

    def _part(self, part: Mapping[str, Any], out: list[Event]) -> None:
        get = part.get
        text = get("text")
        if type(text) is str and len(part) == 1:  # the common chunk: text and nothing else
            if self._thinking:
                self._close_thoughts(None, out, TEXT_SIGNATURE_ID)
            if text:
                self._text.append(text)
                out.append(TextDelta(text))
            return
        signature = get("thoughtSignature")
        signature = signature if isinstance(signature, str) and signature else None
        function = get("functionCall")
        if function is not None and _is_map(function):
            if self._thinking:
                self._close_thoughts(None, out)
            self._function_call(function, signature, out)
            return
        if get("thought") is True:
            self._thinking = True
            if isinstance(text, str) and text:
                self._thoughts.append(text)
                out.append(ReasoningDelta(text))
            if signature:
                self._close_thoughts(signature, out, THOUGHT_SIGNATURE_ID)
            return
        if not isinstance(text, str):
            self.found.part(part, out)  # code execution, images: not part of the text
            return
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
        self._thoughts = TextBuffer()
        self._thinking = False

    def _function_call(
        self, function: Mapping[str, Any], signature: str | None, out: list[Event]
    ) -> None:
        get = function.get
        name = get("name")
        if type(name) is not str:
            name = str(name or "")
        args = get("args")
        if type(args) is dict:  # parsed JSON, ours alone: no copy
            arguments: dict[str, Any] = args
        else:
            arguments = dict(args) if isinstance(args, Mapping) else {}
        raw = dumps(args if args is not None else {})
        call_id = get("id")
        if call_id and isinstance(call_id, str):
            metadata: dict[str, Any] = {}
        else:
            # Deterministic across processes (a replayed turn gets the same id; Python's own
            # hash is salted per process), unique in the response by the index and, by the
            # response id and the call, across the turns of a conversation.
            seed = f"{self.response_id}|{self._call_index}|{name}|{raw}"
            call_id = "fc_" + _sha256(seed.encode("utf-8")).hexdigest()[:24]
            metadata = {"synthetic_id": True}
        if signature:
            metadata["thought_signature"] = signature
        self._call_index += 1
        self._calls.append(ToolCall(call_id, name, arguments, raw, metadata))
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
        metadata.update(self.found.message_metadata())
        content = assistant_content(text, self.found.images)
        return Message(Role.ASSISTANT, content, tool_calls=tuple(self._calls), metadata=metadata)

    def _end(self, out: list[Event]) -> str:
        self._close_thoughts(None, out)
        text = "".join(self._text)
        if text:
            out.append(TextCompleted(text))
        self.found.finish(out)
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
        for key in ("response_id", "model"):  # the id and model seen before the failure
            value = getattr(self, key)
            if value is not None:
                error.metadata.setdefault(key, value)
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


def _is_map(value: Any) -> TypeGuard[Mapping[str, Any]]:
    """A JSON object: a dict, tested without the ABC check first (parsed JSON is a dict)."""
    return type(value) is dict or isinstance(value, Mapping)


def _first_candidate(candidates: Any) -> Mapping[str, Any] | None:
    if not isinstance(candidates, list) or not candidates:
        return None
    first = candidates[0]
    if len(candidates) == 1 or (type(first) is dict and first.get("index", 0) == 0):
        return first if _is_map(first) else None
    for candidate in candidates:
        if _is_map(candidate) and candidate.get("index", 0) == 0:
            return candidate
    return first if _is_map(first) else None
