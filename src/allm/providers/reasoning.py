"""Reasoning and prompt-cache helpers every wire shares (the mapping is in docs/requests.md)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..data.messages import Message
from ..data.reasoning import CachePoint, PromptCache, Reasoning
from ..data.request import Request
from ..errors import FieldError, ValidationError

# The call keywords wave 1 took before ``reasoning=``; still accepted.
REASONING_ALIASES = ("reasoning_effort", "reasoning_summary")
# Thinking budgets for an effort on the wires that take tokens (Anthropic, Gemini 2.5).
EFFORT_BUDGETS = {"minimal": 1024, "low": 2048, "medium": 8192, "high": 16384, "xhigh": 32768}
MAX_CACHE_BREAKPOINTS = 4


def requested_reasoning(request: Request, params: Mapping[str, Any]) -> Reasoning | None:
    """The call's ``Reasoning``: the request field, else one built from the alias keywords."""
    if isinstance(request.reasoning, Reasoning):
        return request.reasoning
    effort = params.get("reasoning_effort")
    summary = params.get("reasoning_summary")
    if effort is None and summary is None:
        return None
    return Reasoning(effort=effort, summary=summary)


def budget_for(reasoning: Reasoning) -> int | None:
    """The token budget: ``budget_tokens``, else the effort's budget (None for ``"none"``)."""
    if reasoning.budget_tokens is not None:
        return reasoning.budget_tokens
    return EFFORT_BUDGETS.get(reasoning.effort) if reasoning.effort is not None else None


def refuse(problems: Iterable[FieldError]) -> None:
    """Raise ``ValidationError("invalid_request")`` with every problem, if there are any."""
    found = list(problems)
    if found:
        raise ValidationError("invalid_request", errors=found)


def unsupported(*path: str | int) -> FieldError:
    """A field this wire cannot express."""
    return (path, "unsupported_option")


# -- prompt caching -------------------------------------------------------------------------------


def cache_retention(request: Request) -> str | None:
    """``"short"`` / ``"long"`` when the request asks for caching, else None."""
    value = request.prompt_cache
    if isinstance(value, PromptCache):
        return value.retention
    return "short" if value == "auto" else None


def has_cache_points(message: Message) -> bool:
    """Whether a message's content holds a ``CachePoint``."""
    content = message.content
    return not isinstance(content, str) and any(isinstance(p, CachePoint) for p in content)


def openai_cache_fields(request: Request) -> dict[str, Any]:
    """``prompt_cache_key`` and ``prompt_cache_retention`` (both OpenAI wires spell them so)."""
    value = request.prompt_cache
    if not isinstance(value, PromptCache):
        return {}
    out: dict[str, Any] = {}
    if value.key is not None:
        out["prompt_cache_key"] = value.key
    if value.retention == "long":
        out["prompt_cache_retention"] = "24h"
    return out
