"""The OpenAI Responses wire (``POST /v1/responses``): request body, stream decoder, whole-body
parser. Used by ``allm.providers.openai.OpenAI``; see FORMATS.md §2 and design §20.5.

There is no finish reason on this wire: it is derived from ``status`` (+
``incomplete_details.reason``) and the output items, and ``raw_finish_reason`` is written
``"<status>[:<incomplete reason>]"``. Reasoning items travel as one ``ReasoningCompleted`` per
summary part (``id`` = the ``rs_`` item id, ``signature`` = ``encrypted_content``), so the next
turn can send every item back exactly; function calls keep their ``fc_`` item id in
``ToolCall.metadata["item_id"]``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ..adapters import Call
from ..adapters.sse import SSEEvent
from ..data.messages import ImagePart, Message, Role, TextPart
from ..data.request import Request
from ..data.response import FinishReason, Response, Usage
from ..data.tools import ToolCall
from ..events import (
    Event,
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
from ..output import native_format
from .openai import (
    _OWN_PARAMS,
    OpenAIDecoder,
    _decode,
    _dict,
    _int,
    _list,
    _str,
    api_error,
    content_text,
    forced_tool,
    has_image,
    image_url,
    json_schema_format,
    merge_extras,
    parse_arguments,
    reasoning_params,
    snippet,
    strict_of,
    tool_schema,
    usage_fields,
    wire_arguments,
    wire_usage,
)

__all__ = ["ResponsesStreamDecoder", "build_body", "parse_body", "responses_usage"]

_REASONING_MODELS = re.compile(r"^(gpt-5|o[1-9])")
_ENCRYPTED = "reasoning.encrypted_content"


# -- request --------------------------------------------------------------------------------------


def _user_content(message: Message) -> Any:
    if not has_image(message.content):
        return content_text(message.content)
    blocks: list[dict[str, Any]] = []
    for part in message.content:
        if isinstance(part, TextPart):
            blocks.append({"type": "input_text", "text": part.text})
        elif isinstance(part, ImagePart):
            blocks.append(
                {"type": "input_image", "image_url": image_url(part), "detail": part.detail}
            )
    return blocks


def reasoning_items(message: Message, *, stored: bool) -> list[dict[str, Any]]:
    """The reasoning items an assistant turn carried (``metadata["reasoning_blocks"]``), grouped
    back by item id. Without ``encrypted_content`` an item can only be found by id on a stored
    response, so it is left out when ``store`` is false."""
    groups: dict[str, dict[str, Any]] = {}
    for block in _list_of(message.metadata.get("reasoning_blocks")):
        if not isinstance(block, Mapping):
            continue
        item_id = block.get("id")
        if not isinstance(item_id, str) or not item_id.startswith("rs_"):
            continue  # not an OpenAI reasoning item (another provider's thinking, say)
        group = groups.setdefault(item_id, {"summary": [], "encrypted": None})
        text = block.get("text")
        if isinstance(text, str) and text:
            group["summary"].append({"type": "summary_text", "text": text})
        signature = block.get("signature")
        if isinstance(signature, str) and signature:
            group["encrypted"] = signature
    items = []
    for item_id, group in groups.items():
        if group["encrypted"] is None and not stored:
            continue
        item: dict[str, Any] = {"type": "reasoning", "id": item_id, "summary": group["summary"]}
        if group["encrypted"] is not None:
            item["encrypted_content"] = group["encrypted"]
        items.append(item)
    return items


def _list_of(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def input_items(request: Request) -> list[dict[str, Any]]:
    """The ``input`` list (design §20.5)."""
    stored = request.options.get("store") is not False
    items: list[dict[str, Any]] = []
    for message in request.messages:
        role = message.role
        if role == Role.SYSTEM:
            items.append({"role": "system", "content": content_text(message.content)})
        elif role == Role.USER:
            items.append({"role": "user", "content": _user_content(message)})
        elif role == Role.ASSISTANT:
            text = content_text(message.content)
            if not message.tool_calls:
                items.append({"role": "assistant", "content": text})
                continue
            reasoning = reasoning_items(message, stored=stored)
            items.extend(reasoning)
            if text:
                items.append({"role": "assistant", "content": text})
            for call in message.tool_calls:
                item: dict[str, Any] = {
                    "type": "function_call",
                    "call_id": call.id,
                    "name": call.name,
                    "arguments": wire_arguments(call),
                }
                item_id = call.metadata.get("item_id")
                if reasoning and isinstance(item_id, str) and item_id.startswith("fc_"):
                    item["id"] = item_id  # the pair reasoning -> function_call as it was output
                items.append(item)
        else:
            items.append(
                {
                    "type": "function_call_output",
                    "call_id": message.tool_call_id,
                    "output": content_text(message.content),
                }
            )
    return items


def _tool_choice(choice: Any) -> Any:
    name = forced_tool(choice)
    if name is not None:
        return {"type": "function", "name": name}
    if isinstance(choice, Mapping):
        function = choice.get("function")
        if choice.get("type") == "function" and isinstance(function, Mapping):
            return {"type": "function", "name": function.get("name")}
        return dict(choice)
    return choice


def _format(response_format: Any) -> dict[str, Any] | None:
    response_format = native_format(response_format, "openai")
    if response_format == "text":
        return {"type": "text"}  # design §20.5: sent explicitly
    if not isinstance(response_format, Mapping):
        return None
    schema = json_schema_format(response_format)
    if schema is not None:
        return {"type": "json_schema", **schema}
    return dict(response_format)


def build_body(
    request: Request, call: Call, *, stream: bool, validate: bool = True
) -> dict[str, Any]:
    """The Responses body: ``input`` items, flat tools, ``text.format``, ``max_output_tokens``,
    ``reasoning{effort, summary}``, ``text.verbosity``, then options and params."""
    model = str(request.model or "")
    body: dict[str, Any] = {"model": model, "input": input_items(request)}
    if request.tools:
        tools = []
        for tool in request.tools:
            spec: dict[str, Any] = {
                "type": "function",
                "name": tool.name,
                "description": tool.description,
                "parameters": tool_schema(tool),
            }
            strict = strict_of(tool)
            if strict is not None:
                spec["strict"] = strict
            tools.append(spec)
        body["tools"] = tools
    if request.tool_choice is not None:
        body["tool_choice"] = _tool_choice(request.tool_choice)
    controls = reasoning_params(call, validate=validate)
    text: dict[str, Any] = {}
    text_format = _format(request.response_format)
    if text_format is not None:
        text["format"] = text_format
    if "verbosity" in controls:
        text["verbosity"] = controls["verbosity"]
    if text:
        body["text"] = text
    if request.max_tokens is not None:
        body["max_output_tokens"] = request.max_tokens
    if request.temperature is not None:
        body["temperature"] = request.temperature
    reasoning: dict[str, Any] = {}
    if "reasoning_effort" in controls:
        reasoning["effort"] = controls["reasoning_effort"]
    if "reasoning_summary" in controls:
        reasoning["summary"] = controls["reasoning_summary"]
    if reasoning:
        body["reasoning"] = reasoning
    if (
        request.options.get("store") is False
        and "include" not in request.options
        and "include" not in call.params
        and _REASONING_MODELS.match(model)
    ):
        body["include"] = [_ENCRYPTED]  # carries reasoning across turns without storage
    if stream:
        body["stream"] = True
    merge_extras(body, request, call, _OWN_PARAMS)
    return body


# -- the response object ---------------------------------------------------------------------------


def responses_usage(raw: dict[str, Any]) -> Usage:
    """Responses usage (``input_tokens`` / ``output_tokens``)."""
    return wire_usage(raw, "input", "output")


def _function_call(item: dict[str, Any]) -> ToolCall:
    raw = item.get("arguments")
    raw = raw if isinstance(raw, str) else ""
    call_id = _str(item.get("call_id")) or _str(item.get("id")) or ""
    metadata = {"item_id": item["id"]} if isinstance(item.get("id"), str) else {}
    return ToolCall(call_id, _str(item.get("name")) or "", parse_arguments(raw), raw, metadata)


def reasoning_blocks(item: dict[str, Any]) -> list[dict[str, Any]]:
    """One block per summary part (or raw reasoning text part) of a reasoning item; one empty
    block when it has neither, so the item can still be sent back."""
    item_id = _str(item.get("id"))
    signature = _str(item.get("encrypted_content"))
    texts = [
        part["text"]
        for part in _list(item.get("summary"))
        if isinstance(part, dict) and isinstance(part.get("text"), str)
    ]
    if not texts:
        texts = [
            part["text"]
            for part in _list(item.get("content"))
            if isinstance(part, dict)
            and part.get("type") == "reasoning_text"
            and isinstance(part.get("text"), str)
        ]
    return [{"text": text, "signature": signature, "id": item_id} for text in texts or [""]]


class Output:
    """What a response's ``output`` list holds, normalized."""

    __slots__ = ("calls", "reasoning", "refusal", "text")

    def __init__(self, output: Any) -> None:
        text: list[str] = []
        refusal: list[str] = []
        self.calls: list[ToolCall] = []
        self.reasoning: list[dict[str, Any]] = []
        for item in _list(output):
            if not isinstance(item, dict):
                continue
            kind = item.get("type")
            if kind == "message":
                for part in _list(item.get("content")):
                    if not isinstance(part, dict):
                        continue
                    if part.get("type") == "output_text" and isinstance(part.get("text"), str):
                        text.append(part["text"])
                    elif part.get("type") == "refusal" and isinstance(part.get("refusal"), str):
                        refusal.append(part["refusal"])
            elif kind == "function_call":
                self.calls.append(_function_call(item))
            elif kind == "reasoning":
                self.reasoning.extend(reasoning_blocks(item))
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
    status = _str(response.get("status")) or "failed"
    return {"message": f"the response ended with status {status!r}", "code": status}


def parse_body(
    body: dict[str, Any], provider: str, call: Call, provider_request_id: str | None
) -> Response:
    """A whole Response object (non-streaming) as a ``Response``; a failed one raises."""
    status = _str(body.get("status"))
    headers = {"x-request-id": provider_request_id} if provider_request_id else None
    if status in ("failed", "cancelled"):
        raise api_error(provider, call, _failure(body), status=None, headers=headers)
    output = Output(body.get("output"))
    reason = _str(_dict(body.get("incomplete_details")).get("reason"))
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
        id=_str(body.get("id")),
        model=_str(body.get("model")),
        message=Message(
            Role.ASSISTANT,
            output.text,
            tool_calls=tuple(output.calls),
            metadata={"refusal": output.refusal} if output.refusal else {},
        ),
        output_text=output.text,
        tool_calls=tuple(output.calls),
        finish_reason=finish,
        raw_finish_reason=raw,
        usage=responses_usage(usage) if isinstance(usage, dict) else Usage(),
        raw=body,
        metadata=metadata,
        reasoning="".join(b["text"] for b in output.reasoning) if output.reasoning else None,
    )


# -- stream ---------------------------------------------------------------------------------------


class _Item:
    __slots__ = ("call_id", "id", "name", "parts", "started")

    def __init__(self, item_id: str, call_id: str, name: str) -> None:
        self.id = item_id
        self.call_id = call_id
        self.name = name
        self.parts: list[str] = []
        self.started = False


_IGNORED = frozenset({"response.output_text.done", "response.content_part.added"})


class ResponsesStreamDecoder(OpenAIDecoder):
    """Responses semantic events to allm events. Terminal: ``response.completed`` /
    ``response.incomplete`` (a message), ``response.failed`` / ``error`` (an error)."""

    def __init__(self, provider: str, call: Call) -> None:
        super().__init__(provider, call)
        self.text: list[str] = []
        self.refusal: list[str] = []
        self.refusal_done: str | None = None
        self.calls: dict[str, _Item] = {}  # by item id, in the order they were added
        self.by_index: dict[int, _Item] = {}
        self.reasoning_sent: set[str] = set()
        self.response_id: str | None = None
        self.model: str | None = None

    def handle(self, event: SSEEvent) -> list[Event]:
        try:
            payload = _decode(event.data)
        except ValueError:
            return self.failed(self.malformed(f"a stream event is not JSON: {snippet(event.data)}"))
        if not isinstance(payload, dict):
            return self.failed(
                self.malformed(f"a stream event is not an object: {snippet(event.data)}")
            )
        kind = _str(payload.get("type")) or event.event
        if kind in ("error", "response.error"):
            nested = payload.get("error")
            return self.in_band(nested if isinstance(nested, dict) else payload)
        if kind in ("response.completed", "response.incomplete"):
            return self.complete(_dict(payload.get("response")))
        if kind == "response.failed":
            return self.fail_response(_dict(payload.get("response")))
        if kind in ("response.created", "response.in_progress", "response.queued"):
            self._note(_dict(payload.get("response")))
            return []
        if kind == "response.output_text.delta":
            delta = _str(payload.get("delta"))
            if delta:
                self.text.append(delta)
                return [TextDelta(delta)]
            return []
        if kind in ("response.reasoning_summary_text.delta", "response.reasoning_text.delta"):
            delta = _str(payload.get("delta"))
            return [ReasoningDelta(delta, _str(payload.get("item_id")))] if delta else []
        if kind == "response.function_call_arguments.delta":
            return self._arguments(payload)
        if kind == "response.output_item.added":
            return self._added(_dict(payload.get("item")), _int(payload.get("output_index")))
        if kind == "response.output_item.done":
            return self._item_done(_dict(payload.get("item")))
        if kind == "response.refusal.delta":
            delta = _str(payload.get("delta"))
            if delta:
                self.refusal.append(delta)
        elif kind == "response.refusal.done":
            self.refusal_done = _str(payload.get("refusal"))
        return []  # everything else (annotations, hosted tools, audio, ...) is skipped

    def _note(self, response: dict[str, Any]) -> None:
        self.response_id = _str(response.get("id")) or self.response_id
        self.model = _str(response.get("model")) or self.model

    def _added(self, item: dict[str, Any], output_index: int | None) -> list[Event]:
        if item.get("type") != "function_call":
            return []
        item_id = _str(item.get("id")) or f"item_{output_index}"
        call_id = _str(item.get("call_id")) or item_id
        tracked = _Item(item_id, call_id, _str(item.get("name")) or "")
        self.calls[item_id] = tracked
        if output_index is not None:
            self.by_index[output_index] = tracked
        tracked.started = True
        return [ToolCallStarted(tracked.call_id, tracked.name)]

    def _arguments(self, payload: dict[str, Any]) -> list[Event]:
        item_id = _str(payload.get("item_id"))
        tracked = self.calls.get(item_id) if item_id else None
        if tracked is None:
            index = _int(payload.get("output_index"))
            tracked = self.by_index.get(index) if index is not None else None
        delta = _str(payload.get("delta"))
        if tracked is None or not delta:
            return []  # a fragment of an item never announced: dropped (design §20.5)
        tracked.parts.append(delta)
        return [ToolCallDelta(tracked.call_id, delta)]

    def _item_done(self, item: dict[str, Any]) -> list[Event]:
        if item.get("type") != "reasoning":
            return []
        item_id = _str(item.get("id")) or ""
        self.reasoning_sent.add(item_id)
        return [
            ReasoningCompleted(b["text"], b["signature"], b["id"]) for b in reasoning_blocks(item)
        ]

    def complete(self, response: dict[str, Any]) -> list[Event]:
        """The terminal response: usage, late reasoning, tool calls, text, then the message."""
        self.done = True
        self._note(response)
        output = Output(response.get("output"))
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
        text = output.text or "".join(self.text)
        if text:
            events.append(TextCompleted(text))
        refusal = output.refusal or self.refusal_done or "".join(self.refusal)
        status = _str(response.get("status"))
        reason = _str(_dict(response.get("incomplete_details")).get("reason"))
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
        message = Message(
            Role.ASSISTANT,
            text,
            tool_calls=tuple(calls),
            metadata={"refusal": refusal} if refusal else {},
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
            parsed = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return self.not_sse(body)
        if not isinstance(parsed, dict):
            return self.not_sse(body)
        if parsed.get("object") != "response" and parsed.get("error") is not None:
            return self.in_band(parsed["error"])
        if _str(parsed.get("status")) in ("failed", "cancelled"):
            return self.fail_response(parsed)
        return self.complete(parsed)
