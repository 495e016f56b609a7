"""The normalized event stream: one closed union shared by every provider and every layer.

An adapter stream is::

    MessageStarted
    (TextDelta | TextCompleted | ReasoningDelta | ReasoningCompleted | LogprobsDelta
     | ToolCallStarted | ToolCallDelta | ToolCallCompleted | ServerToolCallCompleted
     | CitationAdded | RawChunk)*
    (MessageCompleted RawChunk* | ErrorEvent)

A step stream adds, per executed tool, ``ToolExecutionStarted``, ``ToolExecutionCompleted`` and one
of ``ToolResultEncoded`` / ``AskUserRequested`` / ``ToolHalt``, then exactly one ``StepCompleted``.
A chat stream is step streams back to back, then exactly one ``ChatCompleted``.

A call with a typed output (``response_format=SomeType``) adds ``PartialOutput`` events while the
JSON answer grows, one ``OutputCompleted`` after an attempt that validated, and an ``OutputRetry``
before each re-ask (the next attempt's adapter events follow it).

Token usage travels as ``RawChunk(("usage", {Usage field: value}))``; it passes every filter.
With ``include_raw_chunks=True`` each provider event also comes as ``RawChunk(("wire", name,
payload))`` before the events decoded from it (docs/requests.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from .data.messages import Message
from .data.response import FinishReason, Response, TokenLogprob
from .data.results import ChatResult, Thread
from .data.server_tools import Citation, ServerToolCall
from .data.tools import ToolCall

# The field types above are imported at run time, not under TYPE_CHECKING: ``allm.codec`` reads
# them with ``typing.get_type_hints`` to decode events from JSON.

__all__ = [
    "ADAPTER_EVENT_TYPES",
    "EVENT_TYPES",
    "AskUserRequested",
    "ChatCompleted",
    "CitationAdded",
    "ErrorEvent",
    "Event",
    "LogprobsDelta",
    "MessageCompleted",
    "MessageStarted",
    "OutputCompleted",
    "OutputRetry",
    "PartialOutput",
    "RawChunk",
    "ReasoningCompleted",
    "ReasoningDelta",
    "ServerToolCallCompleted",
    "StepCompleted",
    "TextCompleted",
    "TextDelta",
    "ToolCallCompleted",
    "ToolCallDelta",
    "ToolCallStarted",
    "ToolExecutionCompleted",
    "ToolExecutionStarted",
    "ToolHalt",
    "ToolResultEncoded",
    "is_event",
    "is_usage_chunk",
]


@dataclass(frozen=True, slots=True)
class MessageStarted:
    """The assistant message began (content still empty)."""

    type: ClassVar[str] = "message_started"
    message: Message


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A fragment of answer text."""

    type: ClassVar[str] = "text_delta"
    delta: str
    id: str | None = None


@dataclass(frozen=True, slots=True)
class TextCompleted:
    """The authoritative full text so far; it replaces what the deltas built."""

    type: ClassVar[str] = "text_completed"
    text: str
    id: str | None = None


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """A fragment of thinking / reasoning-summary text, never part of the answer."""

    type: ClassVar[str] = "reasoning_delta"
    delta: str
    id: str | None = None


@dataclass(frozen=True, slots=True)
class ReasoningCompleted:
    """One finished reasoning block, with the provider's signature when it gives one."""

    type: ClassVar[str] = "reasoning_completed"
    text: str
    signature: str | None = None
    id: str | None = None


@dataclass(frozen=True, slots=True)
class LogprobsDelta:
    """Log probabilities of the next output tokens, in order (only when the call asked)."""

    type: ClassVar[str] = "logprobs_delta"
    items: tuple[TokenLogprob, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.items, tuple):
            object.__setattr__(self, "items", tuple(self.items))


@dataclass(frozen=True, slots=True)
class ToolCallStarted:
    """The model began a tool call."""

    type: ClassVar[str] = "tool_call_started"
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A fragment of a tool call's JSON arguments, keyed by call id."""

    type: ClassVar[str] = "tool_call_delta"
    id: str
    arguments_delta: str


@dataclass(frozen=True, slots=True)
class ToolCallCompleted:
    """A whole tool call, arguments parsed."""

    type: ClassVar[str] = "tool_call_completed"
    id: str
    name: str
    arguments: dict[str, Any]
    raw_arguments: str | None
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_tool_call(self) -> ToolCall:
        """The call as a ``ToolCall`` value."""
        return ToolCall(self.id, self.name, self.arguments, self.raw_arguments, self.metadata)


@dataclass(frozen=True, slots=True)
class ToolExecutionStarted:
    """The chat loop started running a tool."""

    type: ClassVar[str] = "tool_execution_started"
    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ToolExecutionCompleted:
    """A tool handler finished; ``result`` is its raw outcome before encoding."""

    type: ClassVar[str] = "tool_execution_completed"
    id: str
    name: str
    result: Any


@dataclass(frozen=True, slots=True)
class ToolResultEncoded:
    """A tool's outcome, encoded as the content of its tool message."""

    type: ClassVar[str] = "tool_result_encoded"
    id: str
    content: str


@dataclass(frozen=True, slots=True)
class AskUserRequested:
    """A tool asked the user a question; the loop pauses for the answer."""

    type: ClassVar[str] = "ask_user_requested"
    tool_call_id: str
    tool_name: str
    question: str
    opts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ToolHalt:
    """A tool stopped the loop."""

    type: ClassVar[str] = "tool_halt"
    tool_call_id: str
    reason: str
    result: Any
    content: str | None = None


@dataclass(frozen=True, slots=True)
class MessageCompleted:
    """The assistant message is complete. Usage may still follow as a ``RawChunk``."""

    type: ClassVar[str] = "message_completed"
    message: Message
    finish_reason: FinishReason | str | None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StepCompleted:
    """One step (model call plus tools) is complete."""

    type: ClassVar[str] = "step_completed"
    response: Response
    thread: Thread
    mode: str = "auto"
    manual_tool_calls: tuple[ToolCall, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.manual_tool_calls, tuple):
            object.__setattr__(self, "manual_tool_calls", tuple(self.manual_tool_calls))


@dataclass(frozen=True, slots=True)
class ChatCompleted:
    """The chat loop is complete."""

    type: ClassVar[str] = "chat_completed"
    result: ChatResult


@dataclass(frozen=True, slots=True)
class RawChunk:
    """Provider data with no normalized meaning, or ``("usage", {...})``."""

    type: ClassVar[str] = "raw_chunk"
    data: Any


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    """The stream failed; this is its terminal event. Everything before it is kept."""

    type: ClassVar[str] = "error"
    error: Any


@dataclass(frozen=True, slots=True)
class PartialOutput:
    """The typed answer parsed so far: a dict or list built from incomplete JSON, not validated."""

    type: ClassVar[str] = "partial_output"
    value: Any


@dataclass(frozen=True, slots=True)
class OutputCompleted:
    """The answer validated against the requested type; ``value`` is the instance."""

    type: ClassVar[str] = "output_completed"
    value: Any


@dataclass(frozen=True, slots=True)
class OutputRetry:
    """The answer did not validate: attempt number ``attempt`` starts (2 for the first re-ask)."""

    type: ClassVar[str] = "output_retry"
    attempt: int
    error: Any


@dataclass(frozen=True, slots=True)
class ServerToolCallCompleted:
    """A provider tool (web search, code execution, ...) ran on the provider's side."""

    type: ClassVar[str] = "server_tool_call_completed"
    call: ServerToolCall


@dataclass(frozen=True, slots=True)
class CitationAdded:
    """The answer cites a source."""

    type: ClassVar[str] = "citation_added"
    citation: Citation


Event = (
    MessageStarted
    | TextDelta
    | TextCompleted
    | ReasoningDelta
    | ReasoningCompleted
    | LogprobsDelta
    | ToolCallStarted
    | ToolCallDelta
    | ToolCallCompleted
    | ServerToolCallCompleted
    | CitationAdded
    | ToolExecutionStarted
    | ToolExecutionCompleted
    | ToolResultEncoded
    | AskUserRequested
    | ToolHalt
    | MessageCompleted
    | StepCompleted
    | ChatCompleted
    | RawChunk
    | ErrorEvent
    | PartialOutput
    | OutputCompleted
    | OutputRetry
)

EVENT_TYPES: tuple[type[Event], ...] = (
    MessageStarted,
    TextDelta,
    TextCompleted,
    ReasoningDelta,
    ReasoningCompleted,
    LogprobsDelta,
    ToolCallStarted,
    ToolCallDelta,
    ToolCallCompleted,
    ServerToolCallCompleted,
    CitationAdded,
    ToolExecutionStarted,
    ToolExecutionCompleted,
    ToolResultEncoded,
    AskUserRequested,
    ToolHalt,
    MessageCompleted,
    StepCompleted,
    ChatCompleted,
    RawChunk,
    ErrorEvent,
    PartialOutput,
    OutputCompleted,
    OutputRetry,
)

# What an adapter may emit; the other tags belong to the chat loop.
ADAPTER_EVENT_TYPES: tuple[type[Event], ...] = (
    MessageStarted,
    TextDelta,
    TextCompleted,
    ReasoningDelta,
    ReasoningCompleted,
    LogprobsDelta,
    ToolCallStarted,
    ToolCallDelta,
    ToolCallCompleted,
    ServerToolCallCompleted,
    CitationAdded,
    MessageCompleted,
    RawChunk,
    ErrorEvent,
)

_EVENT_TYPE_SET = frozenset(EVENT_TYPES)


def is_event(value: object) -> bool:
    """Whether ``value`` is one of the event classes."""
    return type(value) in _EVENT_TYPE_SET


def is_usage_chunk(event: object) -> bool:
    """Whether ``event`` is the ``RawChunk(("usage", {...}))`` that carries token usage."""
    if type(event) is not RawChunk:
        return False
    data = event.data
    return type(data) is tuple and len(data) == 2 and data[0] == "usage"
