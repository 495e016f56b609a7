"""Conversation state: threads, step and chat results, sessions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from .messages import Content, Message, Role
from .response import Response
from .tools import ToolCall

__all__ = [
    "RESERVED_HALT_REASONS",
    "ChatResult",
    "HaltReason",
    "Session",
    "SessionStatus",
    "StepResult",
    "Thread",
]


def _content(content: Content | list[Any]) -> Content:
    return content if isinstance(content, str) else tuple(content)


@dataclass(frozen=True, slots=True)
class Thread:
    """An ordered conversation. Every helper returns a new thread."""

    messages: tuple[Message, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.messages, tuple):
            object.__setattr__(self, "messages", tuple(self.messages))

    @classmethod
    def from_messages(cls, messages: Iterable[Message]) -> Thread:
        """A thread holding ``messages``."""
        return cls(tuple(messages))

    def add_message(self, message: Message) -> Thread:
        """This thread with ``message`` appended."""
        return replace(self, messages=(*self.messages, message))

    def add_messages(self, messages: Iterable[Message]) -> Thread:
        """This thread with ``messages`` appended."""
        return replace(self, messages=(*self.messages, *messages))

    def add_system(self, text: str) -> Thread:
        """This thread with a system message appended."""
        return self.add_message(Message(Role.SYSTEM, text))

    def add_user(self, content: Content | list[Any]) -> Thread:
        """This thread with a user message appended."""
        return self.add_message(Message(Role.USER, _content(content)))

    def add_assistant(self, content: Content | list[Any]) -> Thread:
        """This thread with an assistant message appended."""
        return self.add_message(Message(Role.ASSISTANT, _content(content)))

    def last_message(self) -> Message | None:
        """The final message, or ``None`` for an empty thread."""
        return self.messages[-1] if self.messages else None

    def __len__(self) -> int:
        return len(self.messages)


class HaltReason(str, Enum):
    """The halt reasons allm itself produces. Tool handlers may use any other string."""

    COMPLETED = "completed"
    MAX_TURNS = "max_turns"
    HALT_WHEN = "halt_when"
    ASK_USER = "ask_user"
    TOOL_ERROR = "tool_error"
    MANUAL_TOOL_CALLS = "manual_tool_calls"
    ERROR = "error"
    CANCELLED = "cancelled"

    def __str__(self) -> str:
        return self.value


# A handler halting with one of these would be indistinguishable from allm's own halts.
RESERVED_HALT_REASONS = frozenset(
    {"ask_user", "max_turns", "halt_when", "tool_error", "cancelled", "completed"}
)


@dataclass(frozen=True, slots=True)
class StepResult:
    """One model call plus the tools it ran. ``thread`` already holds the new messages."""

    thread: Thread
    response: Response
    tool_results: tuple[Message, ...] = ()
    done: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.tool_results, tuple):
            object.__setattr__(self, "tool_results", tuple(self.tool_results))


@dataclass(frozen=True, slots=True)
class ChatResult:
    """A whole chat loop: every step, the final response and why the loop stopped."""

    thread: Thread
    final_response: Response | None = None
    steps: tuple[StepResult, ...] = ()
    halted_reason: str = "completed"
    pending_question: str | None = None
    pending_tool_call_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.steps, tuple):
            object.__setattr__(self, "steps", tuple(self.steps))
        if type(self.halted_reason) is not str:
            object.__setattr__(self, "halted_reason", str(self.halted_reason))

    @property
    def text(self) -> str | None:
        """The final response's text."""
        return self.final_response.text if self.final_response is not None else None

    @property
    def output(self) -> Any:
        """The final answer's validated value, for a typed output; else ``None``."""
        return self.final_response.parsed if self.final_response is not None else None


class SessionStatus(str, Enum):
    """Where a session stands between two operations."""

    IDLE = "idle"
    AWAITING_USER = "awaiting_user"
    AWAITING_TOOLS = "awaiting_tools"
    COMPLETED = "completed"
    ERROR = "error"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Session:
    """A resumable conversation: a thread, its status and what it is waiting for."""

    id: str | None = None
    thread: Thread = field(default_factory=Thread)
    status: SessionStatus = SessionStatus.IDLE
    pending_tool_calls: tuple[ToolCall, ...] = ()
    pending_question: str | None = None
    pending_tool_call_id: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.pending_tool_calls, tuple):
            object.__setattr__(self, "pending_tool_calls", tuple(self.pending_tool_calls))
        if type(self.status) is str:
            try:
                object.__setattr__(self, "status", SessionStatus(self.status))
            except ValueError:
                pass  # left as is; validation reports ("status", "unknown")
