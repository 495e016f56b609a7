"""Bedrock answers: the ConverseStream decoder (AWS event-stream messages in, allm events out),
and a whole Converse body read as the same events, so both paths fold into one ``Response``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..._text import TextBuffer
from ...adapters.base import StreamDecoder, json_or_none
from ...adapters.eventstream import EventStreamMessage
from ...adapters.http import HttpResult
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
from ..parts import Extras
from ..wire import as_dict, as_int, as_list, as_str, parse_tool_arguments
from .errors import frame_error, snippet
from .server import SERVER_TOOL_USE, SystemToolRuns, citation
from .settings import EVENT_STREAM_TYPE, REASONING_ID, REDACTED_REASONING_ID, STOP_REASONS


def usage_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    """``Usage`` keyword arguments from a Converse usage object. ``inputTokens`` counts only the
    uncached input, so ``input_tokens`` adds the cache reads and writes (the raw count stays in
    ``extra["uncached_input_tokens"]``)."""
    uncached = as_int(raw.get("inputTokens"))
    reads = as_int(raw.get("cacheReadInputTokens"))
    writes = as_int(raw.get("cacheWriteInputTokens"))
    known = [count for count in (uncached, reads, writes) if count is not None]
    input_tokens = sum(known) if known else None
    output_tokens = as_int(raw.get("outputTokens"))
    total = as_int(raw.get("totalTokens"))
    if total is None and input_tokens is not None and output_tokens is not None:
        total = input_tokens + output_tokens
    lifted = {"inputTokens", "outputTokens", "totalTokens"}
    lifted |= {"cacheReadInputTokens", "cacheWriteInputTokens"}
    extra = {key: value for key, value in raw.items() if key not in lifted}
    if uncached is not None:
        extra["uncached_input_tokens"] = uncached
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cached_input_tokens": reads,
        "cache_write_input_tokens": writes,
        "total_tokens": total,
        "extra": extra,
    }


def finish_reason_for(raw: str | None, *, tool_calls: bool) -> FinishReason | None:
    """The normalized finish reason for a ``stopReason`` (unknown values are ``other``)."""
    if raw is None:
        return None
    reason = STOP_REASONS.get(raw, FinishReason.OTHER)
    if reason is FinishReason.STOP and tool_calls:
        return FinishReason.TOOL_CALLS
    return reason


_USES = ("tool", "server_use")


class _Block:
    __slots__ = ("id", "kind", "name", "parts", "redacted", "results", "signature", "start")

    def __init__(self, kind: str, block_id: str = "", name: str = "") -> None:
        self.kind = kind  # "tool", "reasoning", "server_use" or "server_result"
        self.id = block_id
        self.name = name
        self.parts = TextBuffer()
        self.signature = TextBuffer()
        self.redacted: str | None = None
        self.results: list[Any] = []
        self.start: dict[str, Any] = {}


class BedrockStreamDecoder(StreamDecoder):
    """ConverseStream events in, allm events out.

    ``messageStart`` opens the message, blocks are tracked by ``contentBlockIndex``,
    ``messageStop`` carries the stop reason and ``metadata`` (which follows it) the usage: the
    turn completes at ``metadata``, or at the end of the body when ``messageStop`` came without
    it. An exception frame ends the stream as an ``ErrorEvent``; a body that ends before
    ``messageStop`` is a ``network_error``, never a short answer.
    """

    def __init__(self, provider: str, request_id: str, model: str | None) -> None:
        self.provider = provider
        self.request_id = request_id
        self.model = model
        self.provider_request_id: str | None = None
        self.content_type = ""
        self.started = False
        self.done = False
        self.raw_body = False
        self.fed = False
        self.blocks: dict[Any, _Block] = {}
        self.text = TextBuffer()
        self.calls: list[ToolCall] = []
        self.reasoning_blocks: list[dict[str, Any]] = []
        self.stop_reason: str | None = None
        self.stopped = False
        self.raw_usage: dict[str, Any] = {}
        self.extras: dict[str, Any] = {}
        self.found = Extras()
        self.runs = SystemToolRuns()

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self, result: HttpResult) -> list[Event]:
        """Remember the request id; a body that is not an event stream is read whole."""
        self.provider_request_id = result.headers.get("x-amzn-requestid")
        self.content_type = result.headers.get("content-type", "")
        self.raw_body = EVENT_STREAM_TYPE not in self.content_type.lower()
        return []

    def _identity(self) -> dict[str, Any]:
        facts = {"model": self.model, "provider_request_id": self.provider_request_id}
        return {key: value for key, value in facts.items() if value is not None}

    def _open(self, out: list[Event]) -> None:
        if not self.started:
            self.started = True
            out.append(MessageStarted(Message(Role.ASSISTANT, "", metadata=self._identity())))

    def _error(self, error: AdapterError) -> list[Event]:
        out: list[Event] = []
        self._open(out)
        out.append(ErrorEvent(error))
        self.done = True
        return out

    def _request_id(self) -> str:
        return self.provider_request_id or self.request_id

    def finish(self) -> list[Event]:
        """The body ended: after ``messageStop`` the turn is complete, before it an error."""
        if self.done:
            return []
        if self.stopped:
            return self._complete()
        return self._error(
            AdapterError(
                "network_error",
                "stream ended before its terminal event (messageStop)",
                provider=self.provider,
                request_id=self._request_id(),
            )
        )

    def fail(self, error: AdapterError) -> list[Event]:
        """The transport broke (or the framing did): what came stays, the error ends it."""
        if self.done:
            return []
        return self._error(error)

    def _malformed(self, why: str) -> AdapterError:
        return AdapterError(
            "malformed_response",
            why,
            provider=self.provider,
            status=200,
            request_id=self._request_id(),
        )

    # -- a whole body -----------------------------------------------------------------------------

    def finish_body(self, body: bytes) -> list[Event]:
        """A whole Converse body served to a streaming request is read as the stream would be; an
        error body is the error; anything else (an HTML page) is ``malformed_response``."""
        data = json_or_none(body)
        output = as_dict(as_dict(data).get("output"))
        message = output.get("message")
        if not isinstance(message, Mapping):
            if isinstance(data, Mapping) and isinstance(data.get("message"), str):
                error_type = as_str(data.get("__type"))
                return self._error(frame_error(self.provider, error_type, body, self._request_id()))
            kind = self.content_type or "no content type"
            return self._error(
                self._malformed(f"expected a Converse answer, got {kind}: {snippet(body)!r}")
            )
        assert isinstance(data, Mapping)
        out: list[Event] = []
        self._open(out)
        for index, block in enumerate(as_list(message.get("content"))):
            self._whole_block(index, as_dict(block), out)
        self.stop_reason = as_str(data.get("stopReason"))
        self.stopped = True
        self._message_fields(data)
        self._merge_usage(data.get("usage"), out)
        out.extend(self._complete())
        return out

    def _whole_block(self, index: int, block: dict[str, Any], out: list[Event]) -> None:
        if isinstance(block.get("text"), str):
            self._delta({"contentBlockIndex": index, "delta": {"text": block["text"]}}, out)
        elif isinstance(block.get("toolUse"), Mapping):
            use = block["toolUse"]
            start = {
                "toolUse": {key: use[key] for key in ("toolUseId", "name", "type") if key in use}
            }
            self._block_start({"contentBlockIndex": index, "start": start}, out)
            raw = json.dumps(use.get("input") if use.get("input") is not None else {})
            self._delta({"contentBlockIndex": index, "delta": {"toolUse": {"input": raw}}}, out)
        elif isinstance(block.get("toolResult"), Mapping):  # a system tool's result
            result = dict(block["toolResult"])
            content = as_list(result.pop("content", None))
            self._block_start({"contentBlockIndex": index, "start": {"toolResult": result}}, out)
            self._delta({"contentBlockIndex": index, "delta": {"toolResult": content}}, out)
        elif isinstance(block.get("citationsContent"), Mapping):
            cited = block["citationsContent"]
            for piece in as_list(cited.get("content")):
                self._delta({"contentBlockIndex": index, "delta": as_dict(piece)}, out)
            for raw_citation in as_list(cited.get("citations")):
                self._delta({"contentBlockIndex": index, "delta": {"citation": raw_citation}}, out)
        elif isinstance(block.get("reasoningContent"), Mapping):
            content = block["reasoningContent"]
            text = as_dict(content.get("reasoningText"))
            delta: dict[str, Any] = {}
            if "redactedContent" in content:
                delta["redactedContent"] = content["redactedContent"]
            else:
                delta["text"] = as_str(text.get("text")) or ""
                if as_str(text.get("signature")):
                    delta["signature"] = text["signature"]
            self._block_start({"contentBlockIndex": index, "start": {"reasoning": {}}}, out)
            self._delta({"contentBlockIndex": index, "delta": {"reasoningContent": delta}}, out)
        else:
            out.append(RawChunk(("bedrock_block", block)))
            return
        self._block_stop({"contentBlockIndex": index}, out)

    # -- frames -----------------------------------------------------------------------------------

    def feed(self, event: EventStreamMessage) -> list[Event]:
        """Events for one event-stream message."""
        self.fed = True
        kind = event.header(":message-type") or "event"
        if kind == "exception":
            error_type = event.header(":exception-type")
            return self._error(
                frame_error(self.provider, error_type, event.payload, self._request_id())
            )
        if kind == "error":
            code = event.header(":error-code")
            text = event.header(":error-message") or ""
            payload = json.dumps({"message": text}).encode() if text else event.payload
            return self._error(frame_error(self.provider, code, payload, self._request_id()))
        name = event.header(":event-type") or ""
        data = json_or_none(event.payload)
        if not isinstance(data, dict):
            return self._error(
                self._malformed(f"unreadable JSON in a {name!r} event: {snippet(event.payload)!r}")
            )
        out: list[Event] = []
        self._open(out)
        if name == "contentBlockDelta":
            self._delta(data, out)
        elif name == "contentBlockStart":
            self._block_start(data, out)
        elif name == "contentBlockStop":
            self._block_stop(data, out)
        elif name == "messageStop":
            self.stop_reason = as_str(data.get("stopReason"))
            self.stopped = True
            self._message_fields(data)
        elif name == "metadata":
            self._merge_usage(data.get("usage"), out)
            for key in ("metrics", "trace", "performanceConfig"):
                if key in data:
                    self.extras[key] = data[key]
            if self.stopped:
                out.extend(self._complete())
        elif name != "messageStart":
            out.append(RawChunk(("bedrock_event", name, data)))
        return out

    def _message_fields(self, data: Mapping[str, Any]) -> None:
        for key in ("additionalModelResponseFields", "metrics", "trace", "performanceConfig"):
            if key in data:
                self.extras[key] = data[key]

    def _merge_usage(self, usage: Any, out: list[Event]) -> None:
        if isinstance(usage, Mapping):
            self.raw_usage.update({k: v for k, v in usage.items() if v is not None})
            out.append(RawChunk(("usage", usage_fields(self.raw_usage))))

    def _block_start(self, data: Mapping[str, Any], out: list[Event]) -> None:
        start = as_dict(data.get("start"))
        index = data.get("contentBlockIndex")
        use = start.get("toolUse")
        if isinstance(use, Mapping):
            server = use.get("type") == SERVER_TOOL_USE  # a system tool Bedrock runs itself
            kind = "server_use" if server else "tool"
            block = _Block(kind, str(use.get("toolUseId") or ""), str(use.get("name") or ""))
            if not server:
                out.append(ToolCallStarted(block.id, block.name))
            self.blocks[index] = block
        result = start.get("toolResult")
        if isinstance(result, Mapping):
            block = _Block("server_result", str(result.get("toolUseId") or ""))
            block.start = dict(result)
            self.blocks[index] = block

    def _delta(self, data: Mapping[str, Any], out: list[Event]) -> None:
        delta = as_dict(data.get("delta"))
        index = data.get("contentBlockIndex")
        text = delta.get("text")
        if isinstance(text, str):
            if text:
                self.text.append(text)
                out.append(TextDelta(text))
            return
        use = delta.get("toolUse")
        block = self.blocks.get(index)
        if isinstance(use, Mapping):
            fragment = use.get("input")
            if block is not None and block.kind in _USES and isinstance(fragment, str):
                block.parts.append(fragment)
                if fragment and block.kind == "tool":
                    out.append(ToolCallDelta(block.id, fragment))
            return
        results = delta.get("toolResult")
        if isinstance(results, list):
            if block is not None and block.kind == "server_result":
                block.results.extend(results)
            return
        if "citation" in delta:
            added = self.found.add_citation(citation(delta["citation"]))
            if added is not None:
                out.append(added)
            return
        reasoning = delta.get("reasoningContent")
        if isinstance(reasoning, Mapping):
            if block is None:
                block = self.blocks[index] = _Block("reasoning")
            piece = reasoning.get("text")
            if isinstance(piece, str) and piece:
                block.parts.append(piece)
                out.append(ReasoningDelta(piece))
            if isinstance(reasoning.get("signature"), str):
                block.signature.append(reasoning["signature"])
            if isinstance(reasoning.get("redactedContent"), str):
                block.redacted = reasoning["redactedContent"]
            return
        out.append(RawChunk(("bedrock_delta", dict(delta))))

    def _block_stop(self, data: Mapping[str, Any], out: list[Event]) -> None:
        block = self.blocks.pop(data.get("contentBlockIndex"), None)
        if block is None:
            return
        if block.kind == "server_use":
            self.runs.use(block.id, block.name, parse_tool_arguments("".join(block.parts))[0])
        elif block.kind == "server_result":
            completed = self.found.add_call(self.runs.result(block.start, block.results))
            if completed is not None:
                out.append(completed)
        elif block.kind == "tool":
            raw = "".join(block.parts)
            arguments, problem = parse_tool_arguments(raw)
            metadata = {"arguments_error": problem} if problem else {}
            call = ToolCall(block.id, block.name, arguments, raw, metadata)
            self.calls.append(call)
            out.append(ToolCallCompleted(call.id, call.name, arguments, raw, metadata))
        elif block.redacted is not None:
            self.reasoning_blocks.append(
                {"text": "", "signature": block.redacted, "id": REDACTED_REASONING_ID}
            )
            out.append(ReasoningCompleted("", block.redacted, REDACTED_REASONING_ID))
        else:
            text = "".join(block.parts)
            signature = "".join(block.signature) or None
            self.reasoning_blocks.append({"text": text, "signature": signature, "id": REASONING_ID})
            out.append(ReasoningCompleted(text, signature, REASONING_ID))

    def _complete(self) -> list[Event]:
        self.done = True
        out: list[Event] = []
        self._open(out)
        text = "".join(self.text)
        if text:
            out.append(TextCompleted(text))
        reason = finish_reason_for(self.stop_reason, tool_calls=bool(self.calls))
        metadata: dict[str, Any] = {
            **self._identity(),
            **self.extras,
            "raw_finish_reason": self.stop_reason,
        }
        if reason is FinishReason.ERROR:
            metadata["error"] = AdapterError(
                "malformed_response",
                f"Bedrock stopped with stopReason {self.stop_reason}",
                provider=self.provider,
                request_id=self._request_id(),
                metadata={"finish_reason": self.stop_reason},
            )
        message_metadata: dict[str, Any] = {}
        if self.reasoning_blocks:
            message_metadata["reasoning_blocks"] = tuple(self.reasoning_blocks)
        message_metadata.update(self.found.message_metadata())
        message = Message(
            Role.ASSISTANT, text, tool_calls=tuple(self.calls), metadata=message_metadata
        )
        out.append(MessageCompleted(message, reason, metadata))
        return out
