"""Anthropic answers: the named-event stream decoder (and a whole message body served to a
streaming request)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..._json import loads_wire
from ..._text import TextBuffer
from ...adapters.base import StreamDecoder, json_or_none
from ...adapters.http import HttpResult
from ...adapters.sse import SSEEvent
from ...data.messages import Message, Role
from ...errors import AdapterError
from ...events import (
    ErrorEvent,
    Event,
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
from ..wire import parse_tool_arguments
from .errors import _snippet, classify
from .server import citation, is_result_block
from .settings import REDACTED_THINKING_ID, THINKING_ID
from .turn import _Turn, finish_reason_for, read_message, usage_fields

__all__ = ["AnthropicStreamDecoder", "finish_reason_for", "usage_fields"]

# -- streaming ------------------------------------------------------------------------------------


class _Block:
    __slots__ = ("data", "id", "input", "kind", "name", "parts", "signature")

    def __init__(self, kind: str, block_id: str = "", name: str = "") -> None:
        self.kind = kind
        self.id = block_id
        self.name = name
        self.parts: TextBuffer = TextBuffer()
        self.signature: TextBuffer = TextBuffer()
        self.data: str | None = None
        self.input: Any = None


# The blocks whose input arrives as ``input_json_delta`` fragments.
_INPUT_BLOCKS = frozenset({"tool_use", "server_tool_use"})


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
        self._append_text = self.turn.text_parts.append  # the turn keeps one buffer throughout
        self.blocks: dict[Any, _Block] = {}
        self.started = False
        self.done = False
        self.raw_body = False
        self.content_type = ""
        self.fed = False

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self, result: HttpResult) -> list[Event]:
        """Remember the provider request id; the message opens with ``message_start``."""
        headers = result.headers
        self.turn.provider_request_id = headers.get("request-id") or headers.get("x-request-id")
        self.content_type = headers.get("content-type", "")
        lowered = self.content_type.lower()
        self.raw_body = "event-stream" not in lowered and ("json" in lowered or "html" in lowered)
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
        if not self.fed and "event-stream" not in self.content_type.lower():
            return self._error(self._malformed(b""))
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

    def _malformed(self, body: bytes) -> AdapterError:
        return AdapterError(
            "malformed_response",
            f"expected an event stream, got {self.content_type or 'no content type'}: "
            f"{_snippet(body)!r}",
            provider=self.provider,
            status=200,
            request_id=self.turn.provider_request_id or self.request_id,
        )

    def finish_body(self, body: bytes) -> list[Event]:
        """A whole JSON body served to a streaming request: a ``message`` (a gateway that
        ignored ``stream``) is read as the stream would be, an error envelope is the error,
        anything else (an HTML page) is ``malformed_response``."""
        data = json_or_none(body)
        if isinstance(data, dict) and isinstance(data.get("error"), Mapping):
            return self._in_band_error(data)
        if not isinstance(data, dict) or not isinstance(data.get("content"), list):
            return self._error(self._malformed(body))
        read_message(self.turn, data)
        out: list[Event] = []
        self._open(out)
        usage = self.turn.merge_usage(data.get("usage"))
        if usage is not None:
            out.append(RawChunk(("usage", usage)))
        for block in self.turn.reasoning_blocks:
            out.append(ReasoningCompleted(block["text"], block["signature"], block["id"]))
        for call in self.turn.tool_calls:
            out.append(ToolCallStarted(call.id, call.name))
            out.append(
                ToolCallCompleted(
                    call.id, call.name, call.arguments, call.raw_arguments, call.metadata
                )
            )
        if self.turn.has_text:
            out.append(TextCompleted(self.turn.text))
        out.extend(self.turn.found.events())
        out.append(self.turn.completed())
        self.done = True
        return out

    def feed(self, event: SSEEvent) -> list[Event]:
        """Events for one SSE event."""
        self.fed = True
        try:
            data = loads_wire(event.data)
        except ValueError:
            data = None
        if type(data) is not dict and not isinstance(data, dict):
            return self._error(
                AdapterError(
                    "malformed_response",
                    f"unreadable JSON in a {event.event!r} event: {event.data[:120]!r}",
                    provider=self.provider,
                    request_id=self.turn.provider_request_id or self.request_id,
                )
            )
        # The JSON ``type`` names the event (the SSE event name is read only when it is absent).
        kind = data.get("type") or event.event
        if kind == "content_block_delta" and self.started:
            # The common event, one text delta, without the general dispatch below.
            delta = data.get("delta")
            if type(delta) is dict and delta.get("type") == "text_delta":
                text = delta.get("text")
                if type(text) is str:
                    if not text:
                        return []
                    self._append_text(text)
                    return [TextDelta(text)]
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
            if type(delta) is dict or isinstance(delta, Mapping):
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
        if type(message) is dict or isinstance(message, Mapping):
            if isinstance(message.get("id"), str):
                self.turn.response_id = message["id"]
            if isinstance(message.get("model"), str):
                self.turn.model = message["model"]
        self._open(out)
        if type(message) is dict or isinstance(message, Mapping):
            usage = self.turn.merge_usage(message.get("usage"))
            if usage is not None:
                out.append(RawChunk(("usage", usage)))

    def _block_start(self, data: Mapping[str, Any], out: list[Event]) -> None:
        block = data.get("content_block")
        if not (type(block) is dict or isinstance(block, Mapping)):
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
        elif kind == "server_tool_use":
            state = _Block("server_tool_use", str(block.get("id") or ""))
            state.input = dict(block)
        elif is_result_block(kind):
            state = _Block("other")
            added = self.turn.found.add_call(self.turn.server.result(block))
            if added is not None:
                out.append(added)
        else:
            state = _Block("other")
            out.append(RawChunk(("anthropic_block", dict(block))))
        self.blocks[index] = state

    def _delta(self, data: Mapping[str, Any], out: list[Event]) -> None:
        delta = data.get("delta")
        if type(delta) is not dict and not isinstance(delta, Mapping):  # parsed JSON: a dict
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
            if block is None or not isinstance(fragment, str) or block.kind not in _INPUT_BLOCKS:
                return
            block.parts.append(fragment)
            # a server tool's input is read whole at its block's end; only ours stream as deltas
            if not fragment or block.kind == "server_tool_use":
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
            added = self.turn.found.add_citation(citation(delta.get("citation")))
            if added is not None:
                out.append(added)

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
        elif block.kind == "server_tool_use":
            raw = "".join(block.parts)
            given = block.input.get("input")
            arguments = parse_input(raw) if raw else given
            self.turn.server.use({**block.input, "input": arguments or {}})
        elif block.kind == "redacted_thinking":
            self.turn.reasoning("", block.data, REDACTED_THINKING_ID)
            out.append(ReasoningCompleted("", block.data, REDACTED_THINKING_ID))

    def _in_band_error(self, data: Mapping[str, Any]) -> list[Event]:
        error = data.get("error")
        error = error if (type(error) is dict or isinstance(error, Mapping)) else {}
        error_type = error.get("type") if isinstance(error.get("type"), str) else None
        message = str(error.get("message") or "error event in the stream")
        details = error.get("details")
        code = (
            details.get("error_code")
            if (type(details) is dict or isinstance(details, Mapping))
            else None
        )
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


def parse_input(raw: str) -> dict[str, Any]:
    """A server tool's streamed input (an empty object when it is not a JSON object)."""
    return parse_tool_arguments(raw)[0]
