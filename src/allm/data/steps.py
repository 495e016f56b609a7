"""What a chat loop's ``prepare_step`` hook sees before each model turn, and what it may change."""

from __future__ import annotations

from dataclasses import dataclass

from .messages import Message
from .request import ToolChoice
from .response import Usage
from .results import StepResult, Thread
from .tools import Tool

__all__ = ["StepContext", "StepOverrides"]


@dataclass(frozen=True, slots=True)
class StepContext:
    """The loop before a model turn: ``turn`` counts from 1, ``previous`` is the last step (or
    None), ``usage_so_far`` sums the steps' usage."""

    turn: int
    thread: Thread
    previous: StepResult | None = None
    usage_so_far: Usage | None = None


@dataclass(frozen=True, slots=True)
class StepOverrides:
    """Changes for one turn only; ``None`` keeps the loop's own value. ``messages`` replaces what
    is sent this turn (the thread itself is kept whole)."""

    model: str | None = None
    tools: tuple[Tool, ...] | None = None
    tool_choice: ToolChoice = None
    messages: tuple[Message, ...] | None = None

    def __post_init__(self) -> None:
        for name in ("tools", "messages"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(value))
