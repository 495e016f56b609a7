"""Constructors on the package: ``allm.user("hi")`` and friends."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .messages import ContentPart, Message, Role, TextPart, tool_result_content
from .request import Request
from .results import Thread

__all__ = ["assistant", "request", "system", "tool_result", "user"]


def system(text: str) -> Message:
    """A system message."""
    return Message(Role.SYSTEM, text)


def user(content: str | Sequence[ContentPart | str]) -> Message:
    """A user message: text, or a list of parts (a plain string in the list is a ``TextPart``,
    so ``["document", allm.CachePoint(), "question"]`` keeps three parts)."""
    if isinstance(content, str):
        return Message(Role.USER, content)
    return Message(Role.USER, tuple(TextPart(p) if isinstance(p, str) else p for p in content))


def assistant(content: str | Sequence[ContentPart]) -> Message:
    """An assistant message."""
    return Message(Role.ASSISTANT, content if isinstance(content, str) else tuple(content))


def tool_result(tool_call_id: str, content: Any) -> Message:
    """A tool message answering ``tool_call_id``; a mapping (or any JSON value) becomes JSON text."""
    return Message(Role.TOOL, tool_result_content(content), tool_call_id=tool_call_id)


def request(messages: Sequence[Message] | Thread, **fields: Any) -> Request:
    """A ``Request`` (not validated; the runner validates before sending)."""
    if isinstance(messages, Thread):
        messages = messages.messages
    return Request(messages=tuple(messages), **fields)
