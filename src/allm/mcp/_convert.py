"""MCP values as allm values: tools, tool results, prompt messages, resources."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from typing import Any

from ..data.mcp import McpResource
from ..data.messages import ImagePart, Message, Role, TextPart
from ..data.tools import ToolFailure

__all__ = [
    "allm_name",
    "safe_prefix",
    "prompt_messages",
    "resource",
    "resource_body",
    "tool_outcome",
]

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def safe_prefix(prefix: str) -> bool:
    """Whether ``prefix`` needs no rewriting in a tool name."""
    return bool(prefix) and _UNSAFE.search(prefix) is None


def allm_name(name: str, prefix: str | None) -> str:
    """The name the model sees: ``f"{prefix}_{name}"``, with characters providers refuse as ``_``,
    at most 64 characters."""
    full = f"{prefix}_{name}" if prefix else name
    return _UNSAFE.sub("_", full)[:64] or "tool"


def _size(data: str) -> int:
    try:
        return len(base64.b64decode(data, validate=True))
    except (binascii.Error, ValueError):
        return 0


def _block_text(block: Any) -> str:
    kind = getattr(block, "type", None)
    if kind == "text":
        return str(block.text)
    if kind in ("image", "audio"):
        return f"[{kind} {block.mime_type}, {_size(block.data)} bytes]"
    if kind == "resource":
        inner = block.resource
        text = getattr(inner, "text", None)
        if isinstance(text, str):
            return text
        return f"[resource {inner.uri} {inner.mime_type or ''}, {_size(inner.blob)} bytes]"
    if kind == "resource_link":
        return f"[resource {block.uri}]"
    return f"[{kind} content]"


def tool_outcome(result: Any) -> Any:
    """A ``CallToolResult`` as a handler outcome: an error result is a ``ToolFailure`` the model
    sees; otherwise the text of the content blocks (images, audio and binary resources as short
    markers), or the structured content when there is no content to show."""
    text = "\n".join(_block_text(block) for block in result.content)
    if result.is_error:
        return ToolFailure(text or "the tool reported an error")
    if not result.content and result.structured_content is not None:
        return result.structured_content
    return text


def _prompt_content(block: Any) -> Any:
    if getattr(block, "type", None) == "image":
        try:
            data = base64.b64decode(block.data, validate=True)
        except (binascii.Error, ValueError):
            return _block_text(block)
        return (ImagePart.from_bytes(data, block.mime_type),)
    return _block_text(block)


def prompt_messages(result: Any) -> tuple[Message, ...]:
    """A ``GetPromptResult`` as messages: text as text, images as image parts."""
    messages = []
    for item in result.messages:
        role = Role.ASSISTANT if item.role == "assistant" else Role.USER
        content = _prompt_content(item.content)
        if isinstance(content, tuple):
            content = tuple(part for part in content if isinstance(part, TextPart | ImagePart))
        messages.append(Message(role, content))
    return tuple(messages)


def resource(item: Any) -> McpResource:
    """A listed resource."""
    return McpResource(item.uri, item.name, item.mime_type, item.description)


def resource_body(contents: Iterable[Any]) -> str | bytes:
    """A read resource: its text, or its bytes when it is binary (texts of several parts joined
    by newlines; the first binary part wins over text)."""
    texts: list[str] = []
    for item in contents:
        blob = getattr(item, "blob", None)
        if isinstance(blob, str):
            return base64.b64decode(blob)
        texts.append(str(getattr(item, "text", "")))
    return "\n".join(texts)
