"""Prompt caching on Converse: ``cachePoint`` blocks after the marked content, system text and
tools, on the models ``models.caching`` lists (docs/one-request.md)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ...data.messages import Message, Role, TextPart
from ...data.reasoning import CachePoint, PromptCache
from ...data.request import Request
from ...data.server_tools import ProviderTool
from ...errors import FieldError
from ..reasoning import (
    MAX_CACHE_BREAKPOINTS,
    cache_key_problems,
    cache_retention,
    refuse,
    unsupported,
)
from .models import caching


def cache_point(retention: str) -> dict[str, Any]:
    """A ``cachePoint`` block, with ``"ttl": "1h"`` for a long retention."""
    point: dict[str, Any] = {"type": "default"}
    if retention == "long":
        point["ttl"] = "1h"
    return {"cachePoint": point}


def is_cache_point(block: Any) -> bool:
    return isinstance(block, Mapping) and "cachePoint" in block


def system_blocks(messages: Iterable[Message]) -> list[dict[str, Any]]:
    """``system``: one ``text`` block a system message, its text split where a ``CachePoint``
    marks it, a ``cachePoint`` block after the text before each marker."""
    blocks: list[dict[str, Any]] = []
    for message in messages:
        if message.role != Role.SYSTEM:
            continue
        if isinstance(message.content, str):
            blocks.append({"text": message.content})
            continue
        pending: list[str] = []
        for part in message.content:
            if isinstance(part, TextPart):
                pending.append(part.text)
            elif isinstance(part, CachePoint) and pending:
                blocks.append({"text": "\n".join(pending)})
                blocks.append(cache_point(part.retention))
                pending = []
        if pending:
            blocks.append({"text": "\n".join(pending)})
    return blocks


def cache_problems(request: Request) -> list[FieldError]:
    """Caching the model cannot take: markers, ``Tool(cache=True)`` and ``prompt_cache`` on a
    model without prompt caching, tool caching on Nova, a one-hour retention where only the
    default TTL exists, a cache ``key`` (Converse has no field for one)."""
    support = caching(str(request.model or ""))
    problems = cache_key_problems(request)
    value = request.prompt_cache
    long_ttl = support is not None and support.long
    if value is not None and support is None:
        problems.append(unsupported("prompt_cache"))
    elif isinstance(value, PromptCache) and value.retention == "long" and not long_ttl:
        problems.append(unsupported("prompt_cache", "retention"))
    for index, tool in enumerate(request.tools):
        if not isinstance(tool, ProviderTool) and tool.cache and not (support and support.tools):
            problems.append(unsupported("tools", index, "cache"))
    for index, message in enumerate(request.messages):
        if isinstance(message.content, str):
            continue
        for position, part in enumerate(message.content):
            if not isinstance(part, CachePoint):
                continue
            if support is None:
                problems.append(unsupported("messages", index, "content", position))
            elif part.retention == "long" and not long_ttl:
                problems.append(unsupported("messages", index, "content", position, "retention"))
    return problems


def apply_auto_cache(body: dict[str, Any], request: Request) -> None:
    """``"auto"`` (or a ``PromptCache``): a ``cachePoint`` at the end of the tools (where the
    model caches tools), of the system prompt and of the last user message; then count: more
    than four checkpoints is a ``ValidationError``."""
    retention = cache_retention(request)
    support = caching(str(request.model or ""))
    if retention is not None and support is not None:
        tools = body.get("toolConfig", {}).get("tools")
        if tools and support.tools and not is_cache_point(tools[-1]):
            tools.append(cache_point(retention))
        system = body.get("system")
        if system and not is_cache_point(system[-1]):
            system.append(cache_point(retention))
        for message in reversed(body.get("messages", [])):
            if message.get("role") != "user":
                continue
            content = message["content"]
            if content and not is_cache_point(content[-1]):
                content.append(cache_point(retention))
            break
    if count_cache_points(body) > MAX_CACHE_BREAKPOINTS:
        refuse([(("prompt_cache",), "too_many_cache_breakpoints")])


def count_cache_points(body: Mapping[str, Any]) -> int:
    """How many ``cachePoint`` blocks ``body`` holds (tools, system and messages)."""
    blocks: list[Any] = list(body.get("toolConfig", {}).get("tools", ()))
    blocks.extend(body.get("system", ()))
    for message in body.get("messages", ()):
        blocks.extend(message.get("content", ()))
    return sum(1 for block in blocks if is_cache_point(block))
