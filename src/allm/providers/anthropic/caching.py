"""Anthropic thinking and prompt-cache fields: ``thinking``, ``output_config.effort`` and
``cache_control`` breakpoints (the rules are in docs/requests.md)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ...data.messages import Message, Role, TextPart
from ...data.reasoning import CachePoint, PromptCache
from ...data.request import Request
from ...errors import FieldError
from ..reasoning import (
    EFFORT_BUDGETS,
    MAX_CACHE_BREAKPOINTS,
    budget_for,
    cache_retention,
    has_cache_points,
    refuse,
    requested_reasoning,
    unsupported,
)
from .settings import DEFAULT_MAX_TOKENS

# Models that only take adaptive thinking (a ``budget_tokens`` is a 400 there).
_ADAPTIVE_ONLY = re.compile(r"^claude-(opus-4-7|mythos|[a-z]+-5)")
_ADAPTIVE_EFFORT = {"minimal": "low", "low": "low", "medium": "medium", "high": "high"}
_ADAPTIVE_EFFORT["xhigh"] = "max"
_MIN_BUDGET = 1024
_FORCING = ("required", "any")


def thinking_fields(request: Request, params: Mapping[str, Any]) -> dict[str, Any]:
    """The body keys the call's reasoning sets: ``thinking`` (and ``max_tokens`` raised above the
    budget when the caller set none, ``output_config.effort`` on adaptive-only models)."""
    reasoning = requested_reasoning(request, params)
    if reasoning is None:
        return {}
    if reasoning.effort == "none":
        return {"thinking": {"type": "disabled"}}
    if _ADAPTIVE_ONLY.match(str(request.model or "")) and reasoning.budget_tokens is None:
        out: dict[str, Any] = {"thinking": {"type": "adaptive"}}
        if reasoning.effort is not None:
            out["output_config"] = {"effort": _ADAPTIVE_EFFORT[reasoning.effort]}
        return out
    budget = budget_for(reasoning) or EFFORT_BUDGETS["medium"]  # a summary alone: medium
    out = {"thinking": {"type": "enabled", "budget_tokens": budget}}
    if request.max_tokens is None:
        out["max_tokens"] = budget + DEFAULT_MAX_TOKENS
    return out


def thinking_problems(request: Request, params: Mapping[str, Any]) -> list[FieldError]:
    """What the Messages API refuses beside thinking: a budget below 1,024 tokens or not below
    ``max_tokens``, a budget on an adaptive-only model, a temperature other than 1, a ``top_p``
    below 0.95, a forced tool choice."""
    reasoning = requested_reasoning(request, params)
    if reasoning is None or reasoning.effort == "none":
        return []
    problems: list[FieldError] = []
    budget = reasoning.budget_tokens
    if budget is not None and _ADAPTIVE_ONLY.match(str(request.model or "")):
        problems.append(unsupported("reasoning", "budget_tokens"))
    elif isinstance(budget, int) and budget < _MIN_BUDGET:
        problems.append((("reasoning", "budget_tokens"), "out_of_range"))
    fields = thinking_fields(request, params)
    sent = fields["thinking"].get("budget_tokens")
    if request.max_tokens is not None and isinstance(sent, int) and request.max_tokens <= sent:
        problems.append((("max_tokens",), "below_thinking_budget"))
    if request.temperature is not None and request.temperature != 1:
        problems.append(unsupported("temperature"))
    if request.top_p is not None and request.top_p < 0.95:
        problems.append(unsupported("top_p"))
    choice = request.tool_choice
    if choice in _FORCING or isinstance(choice, tuple):
        problems.append(unsupported("tool_choice"))
    return problems


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
    problems: list[FieldError] = []
    if isinstance(request.prompt_cache, PromptCache) and request.prompt_cache.key is not None:
        problems.append(unsupported("prompt_cache", "key"))
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
