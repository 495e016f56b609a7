"""Chat Completions answers: the stream decoder and the whole-body parser."""

from __future__ import annotations

from typing import Any

from ..._json import dumps
from ..._json import loads_wire as json_loads
from ..._text import TextBuffer
from ...adapters import Call
from ...adapters.sse import SSEEvent
from ...data.messages import Message, Role
from ...data.response import Response, Usage
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
from ..parts import Extras, url_citation
from ..wire import as_dict, as_int, as_list, as_str, decode_json
from .decode import (
    OpenAIDecoder,
    chat_usage,
    events_from_response,
    finish_reason_for,
    parse_arguments,
    usage_fields,
)
from .errors import snippet

# -- Chat Completions: stream ---------------------------------------------------------------------


_LEGACY_SLOT = -1  # the slot of a legacy ``function_call`` delta


class _ChatCall:
    __slots__ = ("id", "name", "parts", "started")

    def __init__(self, call_id: str, name: str | None) -> None:
        self.id = call_id
        self.name = name
        self.parts: TextBuffer = TextBuffer()
        self.started = False


class ChatStreamDecoder(OpenAIDecoder):
    """Chat Completions chunks to events (FORMATS §1). ``lenient`` serves compatible servers:
    a stream that ends after a ``finish_reason`` without ``[DONE]`` is complete."""

    def __init__(self, provider: str, call: Call, *, lenient: bool = False) -> None:
        super().__init__(provider, call)
        self.lenient = lenient
        self.text: TextBuffer = TextBuffer()
        self.refusal: TextBuffer = TextBuffer()
        self.reasoning: TextBuffer = TextBuffer()
        self.calls: list[_ChatCall] = []
        self.by_key: dict[Any, _ChatCall] = {}
        self.raw_finish: str | None = None
        self.extras = Extras()

    def handle(self, event: SSEEvent) -> list[Event]:
        data = event.data
        if data[0] != "{" and data.strip() == "[DONE]":
            return self.complete()
        try:
            chunk = decode_json(data)
        except ValueError:
            return self.failed(self.malformed(f"a stream event is not JSON: {snippet(data)}"))
        if not isinstance(chunk, dict):
            return self.failed(self.malformed(f"a stream event is not an object: {snippet(data)}"))
        # Azure's first chunk (``prompt_filter_results``, no choices) has an empty id and model.
        if self.response_id is None:
            self.response_id = as_str(chunk.get("id")) or None
        if self.model is None:
            self.model = as_str(chunk.get("model")) or None
        if chunk.get("error") is not None:
            # Gateways (OpenRouter) send the error beside a ``choices`` list that ends the turn.
            return self.in_band(chunk["error"])
        events: list[Event] = []
        for choice in as_list(chunk.get("choices")):
            if not isinstance(choice, dict) or choice.get("index", 0) not in (0, None):
                continue
            delta = as_dict(choice.get("delta"))
            self._delta(delta, events)
            logprobs = choice.get("logprobs")
            if logprobs:  # null unless the call asked for them
                tokens = openai_tokens(as_dict(logprobs).get("content"))
                if tokens:
                    events.append(LogprobsDelta(tokens))
            finish = as_str(choice.get("finish_reason"))
            if finish:
                self.raw_finish = finish
        usage = chunk.get("usage")
        if not isinstance(usage, dict) and "x_groq" in chunk:
            usage = as_dict(chunk["x_groq"]).get("usage")  # Groq's place for the stream's usage
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
        annotations = delta.get("annotations")
        if annotations and isinstance(annotations, list):
            for note in annotations:
                added = self.extras.add_citation(url_citation(note))
                if added is not None:
                    events.append(added)
        tool_calls = delta.get("tool_calls")
        if tool_calls and isinstance(tool_calls, list):
            for position, fragment in enumerate(tool_calls):
                if isinstance(fragment, dict):
                    self._tool_fragment(fragment, position, events)
        legacy = delta.get("function_call")
        if legacy and isinstance(legacy, dict) and (legacy.get("name") or legacy.get("arguments")):
            # The legacy single-call form: one call in a slot of its own.
            self._tool_fragment({"index": _LEGACY_SLOT, "function": legacy}, 0, events)

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
        index = as_int(fragment.get("index"))
        wire_id = as_str(fragment.get("id")) or None
        function = as_dict(fragment.get("function"))
        name = as_str(function.get("name")) or None
        arguments = function.get("arguments")
        key: Any = ("index", index if index is not None else position)
        if index is None and wire_id is not None:
            key = ("id", wire_id)
        call = self.by_key.get(key)
        if call is None and wire_id is not None and index is not None:
            # Servers that repeat the id (and name) in every chunk, sometimes without a stable
            # index: the same id is the same call.
            call = next((known for known in self.calls if known.id == wire_id), None)
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
            if not name and not raw:
                continue  # an empty fragment (``{"name": "", "arguments": ""}``) is no call
            if not call.started:
                events.append(ToolCallStarted(call.id, name))
            events.append(ToolCallCompleted(call.id, name, parse_arguments(raw), raw, {}))
            calls.append(ToolCall(call.id, name, parse_arguments(raw), raw))
        text = "".join(self.text)
        refusal = "".join(self.refusal)
        if self.raw_finish is None and not (text or refusal or reasoning or calls):
            # A role chunk, then ``[DONE]``: the server cut the stream, it is no empty answer.
            return self.failed(
                self.malformed("the stream ended without a finish reason and without any output")
            )
        if text:
            events.append(TextCompleted(text))
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
            parsed = json_loads(body)
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
    choices = [c for c in as_list(body.get("choices")) if isinstance(c, dict)]
    if not choices:
        raise AdapterError(
            "malformed_response",
            "the completion has no choices",
            provider=provider,
            status=200,
            request_id=provider_request_id or call.request_id,
        )
    choice = next((c for c in choices if c.get("index", 0) in (0, None)), choices[0])
    message = as_dict(choice.get("message"))
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
    refusal = as_str(message.get("refusal")) or None
    calls: list[ToolCall] = []
    for position, item in enumerate(as_list(message.get("tool_calls"))):
        if not isinstance(item, dict):
            continue
        function = as_dict(item.get("function"))
        raw_args = function.get("arguments")
        raw = raw_args if isinstance(raw_args, str) else dumps(raw_args or {})
        call_id = as_str(item.get("id")) or f"call_{position}"
        calls.append(
            ToolCall(call_id, as_str(function.get("name")) or "", parse_arguments(raw), raw)
        )
    legacy = message.get("function_call")
    if not calls and isinstance(legacy, dict) and (legacy.get("name") or legacy.get("arguments")):
        raw = as_str(legacy.get("arguments")) or ""
        calls.append(
            ToolCall("call_0", as_str(legacy.get("name")) or "", parse_arguments(raw), raw)
        )
    raw_finish = as_str(choice.get("finish_reason"))
    usage = body.get("usage")
    logprobs = openai_tokens(as_dict(choice.get("logprobs")).get("content"))
    metadata: dict[str, Any] = {}
    if provider_request_id:
        metadata["provider_request_id"] = provider_request_id
    if refusal:
        metadata["refusal"] = refusal
    citations = tuple(
        found for found in map(url_citation, as_list(message.get("annotations"))) if found
    )
    return Response(
        id=as_str(body.get("id")),
        model=as_str(body.get("model")),
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
        logprobs=logprobs or None,
        citations=citations,
    )
