"""Responses answers: the stream decoder and the whole-body parser. There is no finish reason on
this wire: it is derived from ``status`` (+ ``incomplete_details.reason``) and the output items."""

from __future__ import annotations

from typing import Any

from ..._json import loads_wire as json_loads
from ..._text import TextBuffer
from ...adapters import Call
from ...adapters.sse import SSEEvent
from ...data.messages import Message, Role
from ...data.response import FinishReason, Response, TokenLogprob, Usage
from ...data.server_tools import Citation, ServerToolCall
from ...data.tools import ToolCall
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
from ..parts import Extras, assistant_content, image_part, url_citation
from ..wire import as_dict, as_int, as_list, as_str, decode_json
from .decode import OpenAIDecoder, parse_arguments, usage_fields, wire_usage
from .errors import api_error, snippet

# -- the response object ---------------------------------------------------------------------------


def responses_usage(raw: dict[str, Any]) -> Usage:
    """Responses usage (``input_tokens`` / ``output_tokens``)."""
    return wire_usage(raw, "input", "output")


def _function_call(item: dict[str, Any]) -> ToolCall:
    raw = item.get("arguments")
    raw = raw if isinstance(raw, str) else ""
    call_id = as_str(item.get("call_id")) or as_str(item.get("id")) or ""
    metadata = {"item_id": item["id"]} if isinstance(item.get("id"), str) else {}
    return ToolCall(call_id, as_str(item.get("name")) or "", parse_arguments(raw), raw, metadata)


def message_metadata(refusal: str | None, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """An assistant message's metadata: its refusal and its reasoning items (the shape
    ``responses_request.reasoning_items`` sends back)."""
    metadata: dict[str, Any] = {}
    if refusal:
        metadata["refusal"] = refusal
    if blocks:
        metadata["reasoning_blocks"] = tuple(blocks)
    return metadata


def reasoning_blocks(item: dict[str, Any]) -> list[dict[str, Any]]:
    """One block per summary part (or raw reasoning text part) of a reasoning item; one empty
    block when it has neither, so the item can still be sent back."""
    item_id = as_str(item.get("id"))
    signature = as_str(item.get("encrypted_content"))
    texts = [
        part["text"]
        for part in as_list(item.get("summary"))
        if isinstance(part, dict) and isinstance(part.get("text"), str)
    ]
    if not texts:
        texts = [
            part["text"]
            for part in as_list(item.get("content"))
            if isinstance(part, dict)
            and part.get("type") == "reasoning_text"
            and isinstance(part.get("text"), str)
        ]
    return [{"text": text, "signature": signature, "id": item_id} for text in texts or [""]]


# Hosted tool items: (neutral name, the keys that say what was asked, the key of the result).
_HOSTED: dict[str, tuple[str, tuple[str, ...], str | None]] = {
    "web_search_call": ("web_search", ("action",), None),
    "code_interpreter_call": ("code_execution", ("code", "container_id"), "outputs"),
    "file_search_call": ("file_search", ("queries",), "results"),
}


def hosted_call(item: dict[str, Any]) -> ServerToolCall:
    """A hosted tool item (``web_search_call``, ...) as a ``ServerToolCall``."""
    name, asked, result_key = _HOSTED[str(item.get("type"))]
    arguments = {key: item[key] for key in asked if item.get(key) is not None}
    if name == "web_search":
        action = as_dict(item.get("action"))
        arguments = {key: value for key, value in action.items() if key != "sources"}
        result: Any = action.get("sources")
    else:
        result = item.get(result_key) if result_key else None
    metadata = {"status": item.get("status"), "item": dict(item)}
    return ServerToolCall(str(item.get("id") or ""), name, arguments, result, metadata)


def file_citation(raw: Any, offset: int) -> Citation | None:
    """A ``file_citation`` annotation (file search) as a document citation."""
    if not isinstance(raw, dict) or raw.get("type") != "file_citation":
        return None
    index = raw.get("index")
    return Citation(
        "document",
        title=as_str(raw.get("filename")),
        source=as_str(raw.get("file_id")),
        start=index + offset if isinstance(index, int) else None,
    )


class Output:
    """What a response's ``output`` list holds, normalized (the ``output_text`` parts' token
    log probabilities too, unless ``logprobs`` is false: a stream already sent them)."""

    __slots__ = ("calls", "extras", "logprobs", "reasoning", "refusal", "text")

    def __init__(self, output: Any, *, logprobs: bool = True) -> None:
        text: list[str] = []
        refusal: list[str] = []
        self.calls: list[ToolCall] = []
        self.reasoning: list[dict[str, Any]] = []
        self.logprobs: list[TokenLogprob] = []
        self.extras = Extras()
        for item in as_list(output):
            if not isinstance(item, dict):
                continue
            kind = item.get("type")
            if kind == "message":
                for part in as_list(item.get("content")):
                    if not isinstance(part, dict):
                        continue
                    if part.get("type") == "output_text" and isinstance(part.get("text"), str):
                        offset = sum(len(piece) for piece in text)
                        for note in as_list(part.get("annotations")):
                            found = url_citation(note, offset=offset) or file_citation(note, offset)
                            self.extras.add_citation(found)
                        text.append(part["text"])
                        if logprobs and part.get("logprobs"):
                            self.logprobs.extend(openai_tokens(part["logprobs"]))
                    elif part.get("type") == "refusal" and isinstance(part.get("refusal"), str):
                        refusal.append(part["refusal"])
            elif kind == "function_call":
                self.calls.append(_function_call(item))
            elif kind == "reasoning":
                self.reasoning.extend(reasoning_blocks(item))
            elif kind in _HOSTED:
                self.extras.add_call(hosted_call(item))
            elif kind == "image_generation_call" and isinstance(item.get("result"), str):
                mime = f"image/{as_str(item.get('output_format')) or 'png'}"
                image = image_part(
                    item["result"], mime, revised_prompt=as_str(item.get("revised_prompt"))
                )
                self.extras.images.append(image)
        self.text = "".join(text)
        self.refusal = "".join(refusal)


def finish_of(
    status: str | None, reason: str | None, *, tool_calls: bool, refusal: bool
) -> tuple[FinishReason | None, str | None]:
    """The normalized finish reason and the raw ``"<status>[:<reason>]"`` (FORMATS §5)."""
    raw = f"{status}:{reason}" if status == "incomplete" and reason else status
    if status in ("completed", None):
        if refusal:
            return FinishReason.CONTENT_FILTER, raw
        return (FinishReason.TOOL_CALLS if tool_calls else FinishReason.STOP), raw
    if status == "incomplete":
        if reason == "max_output_tokens":
            return FinishReason.LENGTH, raw
        if reason == "content_filter":
            return FinishReason.CONTENT_FILTER, raw
        return FinishReason.OTHER, raw
    if status in ("failed", "cancelled"):
        return FinishReason.ERROR, raw
    if status in ("in_progress", "queued"):
        return None, raw
    return FinishReason.OTHER, raw


def _failure(response: dict[str, Any]) -> dict[str, Any]:
    error = response.get("error")
    if isinstance(error, dict) and error:
        return error
    status = as_str(response.get("status")) or "failed"
    return {"message": f"the response ended with status {status!r}", "code": status}


def parse_body(
    body: dict[str, Any], provider: str, call: Call, provider_request_id: str | None
) -> Response:
    """A whole Response object (non-streaming) as a ``Response``; a failed one raises."""
    status = as_str(body.get("status"))
    headers = {"x-request-id": provider_request_id} if provider_request_id else None
    if status in ("failed", "cancelled"):
        raise api_error(provider, call, _failure(body), status=None, headers=headers)
    output = Output(body.get("output"))
    reason = as_str(as_dict(body.get("incomplete_details")).get("reason"))
    finish, raw = finish_of(
        status, reason, tool_calls=bool(output.calls), refusal=bool(output.refusal)
    )
    metadata: dict[str, Any] = {}
    if provider_request_id:
        metadata["provider_request_id"] = provider_request_id
    if output.refusal:
        metadata["refusal"] = output.refusal
    if reason:
        metadata["incomplete_reason"] = reason
    if output.reasoning:
        metadata["reasoning_blocks"] = tuple(output.reasoning)
    usage = body.get("usage")
    return Response(
        id=as_str(body.get("id")),
        model=as_str(body.get("model")),
        message=Message(
            Role.ASSISTANT,
            assistant_content(output.text, output.extras.images),
            tool_calls=tuple(output.calls),
            metadata={
                **message_metadata(output.refusal, output.reasoning),
                **output.extras.message_metadata(),
            },
        ),
        output_text=output.text,
        tool_calls=tuple(output.calls),
        finish_reason=finish,
        raw_finish_reason=raw,
        usage=responses_usage(usage) if isinstance(usage, dict) else Usage(),
        raw=body,
        metadata=metadata,
        reasoning="".join(b["text"] for b in output.reasoning) if output.reasoning else None,
        logprobs=tuple(output.logprobs) or None,
        **output.extras.response_fields(),
    )


# -- stream ---------------------------------------------------------------------------------------


class _Item:
    __slots__ = ("call_id", "id", "name", "parts", "started")

    def __init__(self, item_id: str, call_id: str, name: str) -> None:
        self.id = item_id
        self.call_id = call_id
        self.name = name
        self.parts: TextBuffer = TextBuffer()
        self.started = False


_IGNORED = frozenset({"response.output_text.done", "response.content_part.added"})


class ResponsesStreamDecoder(OpenAIDecoder):
    """Responses semantic events to allm events. Terminal: ``response.completed`` /
    ``response.incomplete`` (a message), ``response.failed`` / ``error`` (an error)."""

    def __init__(self, provider: str, call: Call) -> None:
        super().__init__(provider, call)
        self.text: TextBuffer = TextBuffer()
        self.refusal: TextBuffer = TextBuffer()
        self.refusal_done: str | None = None
        self.calls: dict[str, _Item] = {}  # by item id, in the order they were added
        self.by_index: dict[int, _Item] = {}
        self.reasoning_sent: set[str] = set()
        self.reasoning_kept: list[dict[str, Any]] = []
        self.streamed_logprobs = False

    def handle(self, event: SSEEvent) -> list[Event]:
        try:
            payload = decode_json(event.data)
        except ValueError:
            return self.failed(self.malformed(f"a stream event is not JSON: {snippet(event.data)}"))
        if not isinstance(payload, dict):
            return self.failed(
                self.malformed(f"a stream event is not an object: {snippet(event.data)}")
            )
        kind = as_str(payload.get("type")) or event.event
        if kind in ("error", "response.error"):
            nested = payload.get("error")
            return self.in_band(nested if isinstance(nested, dict) else payload)
        if kind in ("response.completed", "response.incomplete"):
            return self.complete(as_dict(payload.get("response")))
        if kind == "response.failed":
            return self.fail_response(as_dict(payload.get("response")))
        if kind in ("response.created", "response.in_progress", "response.queued"):
            self._note(as_dict(payload.get("response")))
            return []
        if kind == "response.output_text.delta":
            delta = as_str(payload.get("delta"))
            events: list[Event] = []
            if delta:
                self.text.append(delta)
                events.append(TextDelta(delta))
            if payload.get("logprobs"):  # an empty list unless the call asked for them
                tokens = openai_tokens(payload["logprobs"])
                if tokens:
                    self.streamed_logprobs = True
                    events.append(LogprobsDelta(tokens))
            return events
        if kind in ("response.reasoning_summary_text.delta", "response.reasoning_text.delta"):
            delta = as_str(payload.get("delta"))
            return [ReasoningDelta(delta, as_str(payload.get("item_id")))] if delta else []
        if kind == "response.function_call_arguments.delta":
            return self._arguments(payload)
        if kind == "response.output_item.added":
            return self._added(as_dict(payload.get("item")), as_int(payload.get("output_index")))
        if kind == "response.output_item.done":
            return self._item_done(as_dict(payload.get("item")))
        if kind == "response.refusal.delta":
            delta = as_str(payload.get("delta"))
            if delta:
                self.refusal.append(delta)
        elif kind == "response.refusal.done":
            self.refusal_done = as_str(payload.get("refusal"))
        return []  # everything else (annotations, hosted tools, audio, ...) is skipped

    def _note(self, response: dict[str, Any]) -> None:
        self.response_id = as_str(response.get("id")) or self.response_id
        self.model = as_str(response.get("model")) or self.model

    def _added(self, item: dict[str, Any], output_index: int | None) -> list[Event]:
        if item.get("type") != "function_call":
            return []
        item_id = as_str(item.get("id")) or f"item_{output_index}"
        call_id = as_str(item.get("call_id")) or item_id
        tracked = _Item(item_id, call_id, as_str(item.get("name")) or "")
        self.calls[item_id] = tracked
        if output_index is not None:
            self.by_index[output_index] = tracked
        tracked.started = True
        return [ToolCallStarted(tracked.call_id, tracked.name)]

    def _arguments(self, payload: dict[str, Any]) -> list[Event]:
        item_id = as_str(payload.get("item_id"))
        tracked = self.calls.get(item_id) if item_id else None
        if tracked is None:
            index = as_int(payload.get("output_index"))
            tracked = self.by_index.get(index) if index is not None else None
        delta = as_str(payload.get("delta"))
        if tracked is None or not delta:
            return []  # a fragment of an item never announced: dropped (design §20.5)
        tracked.parts.append(delta)
        return [ToolCallDelta(tracked.call_id, delta)]

    def _item_done(self, item: dict[str, Any]) -> list[Event]:
        if item.get("type") != "reasoning":
            return []
        item_id = as_str(item.get("id")) or ""
        self.reasoning_sent.add(item_id)
        blocks = reasoning_blocks(item)
        self.reasoning_kept.extend(blocks)
        return [ReasoningCompleted(b["text"], b["signature"], b["id"]) for b in blocks]

    def complete(self, response: dict[str, Any]) -> list[Event]:
        """The terminal response: usage, late reasoning, tool calls, text, then the message."""
        self.done = True
        self._note(response)
        output = Output(response.get("output"), logprobs=not self.streamed_logprobs)
        usage = response.get("usage")
        if isinstance(usage, dict):
            self.usage = responses_usage(usage)
        events: list[Event] = []
        if self.usage is not None:
            events.append(RawChunk(("usage", usage_fields(self.usage))))
        for block in output.reasoning:
            if block["id"] not in self.reasoning_sent:
                events.append(ReasoningCompleted(block["text"], block["signature"], block["id"]))
        calls = output.calls or [
            ToolCall(
                item.call_id,
                item.name,
                parse_arguments("".join(item.parts)),
                "".join(item.parts),
                {"item_id": item.id},
            )
            for item in self.calls.values()
        ]
        started = {item.call_id for item in self.calls.values() if item.started}
        for call in calls:
            if call.id not in started:
                events.append(ToolCallStarted(call.id, call.name))
            events.append(
                ToolCallCompleted(
                    call.id, call.name, call.arguments, call.raw_arguments, dict(call.metadata)
                )
            )
        if output.logprobs:
            events.append(LogprobsDelta(tuple(output.logprobs)))
        text = output.text or "".join(self.text)
        if text:
            events.append(TextCompleted(text))
        events.extend(output.extras.events())
        refusal = output.refusal or self.refusal_done or "".join(self.refusal)
        status = as_str(response.get("status"))
        reason = as_str(as_dict(response.get("incomplete_details")).get("reason"))
        finish, raw = finish_of(status, reason, tool_calls=bool(calls), refusal=bool(refusal))
        metadata: dict[str, Any] = {}
        for key, value in (
            ("response_id", self.response_id),
            ("model", self.model),
            ("raw_finish_reason", raw),
            ("provider_request_id", self.provider_request_id),
            ("refusal", refusal or None),
            ("incomplete_reason", reason),
        ):
            if value is not None:
                metadata[key] = value
        # The message keeps its reasoning items, so a next turn built from it sends them back.
        kept = list(output.reasoning) or self.reasoning_kept
        message = Message(
            Role.ASSISTANT,
            assistant_content(text, output.extras.images),
            tool_calls=tuple(calls),
            metadata={**message_metadata(refusal, kept), **output.extras.message_metadata()},
        )
        events.append(MessageCompleted(message, finish, metadata))
        return events

    def fail_response(self, response: dict[str, Any]) -> list[Event]:
        """``response.failed``: usage if any, then the error it carries."""
        self._note(response)
        usage = response.get("usage")
        if isinstance(usage, dict):
            self.usage = responses_usage(usage)
        return self.in_band(_failure(response))

    def finish(self) -> list[Event]:
        """The body ended without a terminal event: an error."""
        return [] if self.done else self.truncated()

    def finish_body(self, body: bytes) -> list[Event]:
        """A JSON Response object served to a streaming request."""
        try:
            parsed = json_loads(body)
        except (ValueError, UnicodeDecodeError):
            return self.not_sse(body)
        if not isinstance(parsed, dict):
            return self.not_sse(body)
        if parsed.get("object") != "response" and parsed.get("error") is not None:
            return self.in_band(parsed["error"])
        if as_str(parsed.get("status")) in ("failed", "cancelled"):
            return self.fail_response(parsed)
        return self.complete(parsed)
