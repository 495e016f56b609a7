"""Reasoning and prompt-cache helpers every wire shares (the mapping is in docs/requests.md)."""

from __future__ import annotations

import re
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
# Tokens left for the answer above a thinking budget when the caller set no ``max_tokens``.
ANSWER_TOKENS = 1024


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


# -- Claude's thinking (the Messages API, and Claude on Bedrock and Vertex) -------------------------

# Claude models that only take adaptive thinking (a ``budget_tokens`` is a 400 there).
_ADAPTIVE_ONLY = re.compile(r"^claude-(opus-4-7|mythos|[a-z]+-5)")
_ADAPTIVE_EFFORT = {"minimal": "low", "low": "low", "medium": "medium", "high": "high"}
_ADAPTIVE_EFFORT["xhigh"] = "max"
_MIN_BUDGET = 1024
_FORCING = ("required", "any")


def claude_thinking(
    reasoning: Reasoning | None, model: str, max_tokens: int | None
) -> dict[str, Any]:
    """The Messages-API keys a ``Reasoning`` sets on Claude ``model`` (its Anthropic name):
    ``thinking`` with the effort's budget, ``max_tokens`` raised above the budget when the caller
    set none, adaptive ``thinking`` and ``output_config.effort`` on adaptive-only models;
    ``"none"`` disables thinking."""
    if reasoning is None:
        return {}
    if reasoning.effort == "none":
        return {"thinking": {"type": "disabled"}}
    if _ADAPTIVE_ONLY.match(model) and reasoning.budget_tokens is None:
        out: dict[str, Any] = {"thinking": {"type": "adaptive"}}
        if reasoning.effort is not None:
            out["output_config"] = {"effort": _ADAPTIVE_EFFORT[reasoning.effort]}
        return out
    budget = budget_for(reasoning) or EFFORT_BUDGETS["medium"]  # a summary alone: medium
    out = {"thinking": {"type": "enabled", "budget_tokens": budget}}
    if max_tokens is None:
        out["max_tokens"] = budget + ANSWER_TOKENS
    return out


def claude_thinking_problems(
    reasoning: Reasoning | None, model: str, request: Request
) -> list[FieldError]:
    """What Claude refuses beside thinking: a budget below 1,024 tokens or not below
    ``max_tokens``, a budget on an adaptive-only model, a temperature other than 1, a ``top_p``
    below 0.95, a forced tool choice."""
    if reasoning is None or reasoning.effort == "none":
        return []
    problems: list[FieldError] = []
    budget = reasoning.budget_tokens
    if budget is not None and _ADAPTIVE_ONLY.match(model):
        problems.append(unsupported("reasoning", "budget_tokens"))
    elif isinstance(budget, int) and budget < _MIN_BUDGET:
        problems.append((("reasoning", "budget_tokens"), "out_of_range"))
    sent = claude_thinking(reasoning, model, request.max_tokens)["thinking"].get("budget_tokens")
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


def cache_retention(request: Request) -> str | None:
    """``"short"`` / ``"long"`` when the request asks for caching, else None."""
    value = request.prompt_cache
    if isinstance(value, PromptCache):
        return value.retention
    return "short" if value == "auto" else None


def cache_key_problems(request: Request) -> list[FieldError]:
    """A ``PromptCache(key=...)`` on a wire with no cache key field."""
    value = request.prompt_cache
    if isinstance(value, PromptCache) and value.key is not None:
        return [unsupported("prompt_cache", "key")]
    return []


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
