"""Anthropic thinking and prompt-cache fields: ``thinking``, ``output_config.effort`` and
``cache_control`` breakpoints (the rules are in docs/requests.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...data.messages import Message, Role, TextPart
from ...data.reasoning import CachePoint
from ...data.request import Request
from ...errors import FieldError
from ..reasoning import (
    MAX_CACHE_BREAKPOINTS,
    cache_key_problems,
    cache_retention,
    claude_thinking,
    claude_thinking_problems,
    has_cache_points,
    refuse,
    requested_reasoning,
)


def thinking_fields(request: Request, params: Mapping[str, Any]) -> dict[str, Any]:
    """The body keys the call's reasoning sets: ``thinking`` (and ``max_tokens`` raised above the
    budget when the caller set none, ``output_config.effort`` on adaptive-only models)."""
    reasoning = requested_reasoning(request, params)
    return claude_thinking(reasoning, str(request.model or ""), request.max_tokens)


def thinking_problems(request: Request, params: Mapping[str, Any]) -> list[FieldError]:
    """What the Messages API refuses beside thinking (``claude_thinking_problems``)."""
    reasoning = requested_reasoning(request, params)
    return claude_thinking_problems(reasoning, str(request.model or ""), request)


# -- prompt caching -------------------------------------------------------------------------------


def cache_control(retention: str) -> dict[str, Any]:
    """``{"type": "ephemeral"}``, with ``"ttl": "1h"`` for a long retention."""
    return {"type": "ephemeral", "ttl": "1h"} if retention == "long" else {"type": "ephemeral"}


def marked_blocks(content: Any, block: Any) -> list[dict[str, Any]]:
    """Content parts as blocks (``block(part)`` each), a ``CachePoint`` marking the one before."""
    blocks: list[dict[str, Any]] = []
    for part in content:
        if isinstance(part, CachePoint):
            if blocks:
                blocks[-1]["cache_control"] = cache_control(part.retention)
            continue
        made = block(part)
        if made is not None:
            blocks.append(made)
    return blocks


def system_field(messages: tuple[Message, ...], retention: str | None) -> Any:
    """``system``: one string, or text blocks when a marker or automatic caching needs them."""
    system = [m for m in messages if m.role == Role.SYSTEM]
    if not system:
        return None
    if retention is None and not any(has_cache_points(m) for m in system):
        return "\n\n".join(m.text for m in system)
    blocks: list[dict[str, Any]] = []
    for message in system:
        content = (
            (TextPart(message.content),) if isinstance(message.content, str) else message.content
        )
        blocks.extend(
            marked_blocks(
                content,
                lambda p: {"type": "text", "text": p.text} if isinstance(p, TextPart) else None,
            )
        )
    if retention is not None and blocks:
        blocks[-1].setdefault("cache_control", cache_control(retention))
    return blocks


def apply_auto_cache(body: dict[str, Any], request: Request) -> None:
    """``"auto"`` (or a ``PromptCache``): mark the end of the tools and of the last user message
    (the system prompt is marked by ``system_field``), then count: more than four breakpoints is
    a ``ValidationError``."""
    retention = cache_retention(request)
    problems = cache_key_problems(request)
    if retention is not None:
        tools = body.get("tools")
        if tools:
            tools[-1].setdefault("cache_control", cache_control(retention))
        for message in reversed(body.get("messages", [])):
            if message.get("role") != "user":
                continue
            content = message["content"]
            if isinstance(content, str):
                content = message["content"] = [{"type": "text", "text": content}]
            if content:
                content[-1].setdefault("cache_control", cache_control(retention))
            break
    if count_breakpoints(body) > MAX_CACHE_BREAKPOINTS:
        problems.append((("prompt_cache",), "too_many_cache_breakpoints"))
    refuse(problems)


def count_breakpoints(body: Mapping[str, Any]) -> int:
    """How many blocks of ``body`` carry ``cache_control``."""
    count = sum(1 for tool in body.get("tools", ()) if "cache_control" in tool)
    system = body.get("system")
    if isinstance(system, list):
        count += sum(1 for block in system if "cache_control" in block)
    for message in body.get("messages", ()):
        content = message.get("content")
        if isinstance(content, list):
            count += sum(1 for block in content if "cache_control" in block)
            count += sum(
                1
                for block in content
                for inner in block.get("content", ())
                if isinstance(block.get("content"), list)
                if isinstance(inner, Mapping) and "cache_control" in inner
            )
    return count
