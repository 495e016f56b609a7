"""Anthropic answers as data: usage, stop reasons and the turn being assembled (shared by the
stream decoder and the whole-body parser)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..._json import dumps
from ..._text import TextBuffer
from ...data.messages import Message, Role
from ...data.response import FinishReason
from ...data.tools import ToolCall
from ...events import MessageCompleted
from ..parts import Extras
from ..wire import as_int, parse_tool_arguments
from .server import ServerBlocks, citation, is_result_block
from .settings import REDACTED_THINKING_ID, THINKING_ID

_STOP_REASONS: dict[str, FinishReason] = {
    "end_turn": FinishReason.STOP,
    "stop_sequence": FinishReason.STOP,
    "max_tokens": FinishReason.LENGTH,
    "model_context_window_exceeded": FinishReason.LENGTH,
    "tool_use": FinishReason.TOOL_CALLS,
    "refusal": FinishReason.CONTENT_FILTER,
    "pause_turn": FinishReason.OTHER,
}

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


def usage_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    """``Usage`` keyword arguments from an Anthropic usage object.

    ``input_tokens`` becomes inclusive (uncached + cache writes + cache reads, the raw count is
    kept in ``extra["uncached_input_tokens"]``); there is no provider total, so ``total_tokens``
    is input + output when both are known. Absent counters stay ``None``.
    """
    uncached = as_int(raw.get("input_tokens"))
    writes = as_int(raw.get("cache_creation_input_tokens"))
    reads = as_int(raw.get("cache_read_input_tokens"))
    known = [count for count in (uncached, writes, reads) if count is not None]
    input_tokens = sum(known) if known else None
    output_tokens = as_int(raw.get("output_tokens"))
    details = raw.get("output_tokens_details")
    reasoning = as_int(details.get("thinking_tokens")) if isinstance(details, Mapping) else None
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


# -- the turn being assembled (shared by the stream decoder and the whole-body parser) -----------


class _Turn:
    """What one assistant turn produced so far, and the final message built from it."""

    __slots__ = (
        "citations",
        "found",
        "model",
        "provider_request_id",
        "raw_usage",
        "reasoning_blocks",
        "response_id",
        "server",
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
        self.text_parts = TextBuffer()  # memory follows the text, not the number of deltas
        self.tool_calls: list[ToolCall] = []
        self.structured_text: str | None = None
        self.reasoning_blocks: list[dict[str, Any]] = []
        self.citations: list[Any] = []
        self.found = Extras()
        self.server = ServerBlocks()
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
            arguments, problem = parse_tool_arguments(raw)
        if self.structured is not None and name == self.structured:
            if problem is None:
                self.structured_text = dumps(arguments)
            else:
                self.structured_text = raw or ""
            return None
        for position, known in enumerate(self.tool_calls):
            if known.id == call_id and call_id:
                # Gateways split one tool use over blocks repeating its id: one call.
                joined = self._joined(known, raw, arguments)
                self.tool_calls[position] = joined
                return joined
        metadata = {"arguments_error": problem} if problem else {}
        call = ToolCall(call_id, name, arguments, raw, metadata)
        self.tool_calls.append(call)
        return call

    @staticmethod
    def _joined(known: ToolCall, raw: str | None, arguments: dict[str, Any]) -> ToolCall:
        """One call from two blocks of one id: the argument text joined (fragments of one JSON
        object), else the two objects merged."""
        if raw is not None or known.raw_arguments is not None:
            text = (known.raw_arguments or "") + (raw or "")
            joined, problem = parse_tool_arguments(text)
            if problem is None and (joined or not (known.arguments or arguments)):
                return ToolCall(known.id, known.name, joined, text, {})
        merged = {**known.arguments, **arguments}
        return ToolCall(known.id, known.name, merged, None if raw is None else dumps(merged), {})

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
        return self.text_parts.text()

    @property
    def has_text(self) -> bool:
        return self.structured_text is not None or bool(self.text_parts.text())

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
        metadata.update(self.found.message_metadata())
        return Message(
            Role.ASSISTANT, self.text, tool_calls=tuple(self.tool_calls), metadata=metadata
        )

    def completed(self) -> MessageCompleted:
        metadata = {**self.identity(), **self.extras(), "raw_finish_reason": self.stop_reason}
        return MessageCompleted(self.message(), self.finish_reason(), metadata)


def read_message(turn: _Turn, data: Mapping[str, Any]) -> list[str]:
    """Fill ``turn`` from a whole ``message`` object; the reasoning texts, in order."""
    if isinstance(data.get("id"), str):
        turn.response_id = data["id"]
    if isinstance(data.get("model"), str):
        turn.model = data["model"]
    reasoning: list[str] = []
    for block in data.get("content") or ():
        if not isinstance(block, Mapping):
            continue
        kind = block.get("type")
        if kind == "text" and isinstance(block.get("text"), str):
            turn.text_parts.append(block["text"])
            turn.citations.extend(block.get("citations") or ())
            for raw in block.get("citations") or ():
                turn.found.add_citation(citation(raw))
        elif kind == "server_tool_use":
            turn.server.use(block)
        elif is_result_block(kind):
            turn.found.add_call(turn.server.result(block))
        elif kind == "tool_use":
            turn.tool_call(
                str(block.get("id") or ""), str(block.get("name") or ""), None, block.get("input")
            )
        elif kind == "thinking":
            text = str(block.get("thinking") or "")
            reasoning.append(text)
            turn.reasoning(text, block.get("signature") or None, THINKING_ID)
        elif kind == "redacted_thinking":
            reasoning.append("")
            turn.reasoning("", str(block.get("data") or ""), REDACTED_THINKING_ID)
    turn.stop(data)
    return reasoning
