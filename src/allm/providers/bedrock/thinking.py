"""``reasoning=`` on Converse: Claude's ``thinking`` and Nova 2's ``reasoningConfig`` in
``additionalModelRequestFields`` (docs/one-request.md); every other model refuses it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...data.reasoning import Reasoning
from ...data.request import Request
from ...errors import FieldError
from ..reasoning import (
    claude_thinking,
    claude_thinking_problems,
    requested_reasoning,
    unsupported,
)
from .models import claude_name, is_nova_2

# Nova 2's ``maxReasoningEffort`` takes low, medium and high.
_NOVA_EFFORT = {"minimal": "low", "low": "low", "medium": "medium", "high": "high"}
_NOVA_EFFORT["xhigh"] = "high"


def reasoning_fields(request: Request, params: Mapping[str, Any]) -> dict[str, Any]:
    """The body keys the call's reasoning sets, in the body's own nesting:
    ``{"additionalModelRequestFields": {...}}`` and, for Claude with no ``max_tokens``,
    ``{"inferenceConfig": {"maxTokens": ...}}`` raised above the budget."""
    reasoning = requested_reasoning(request, params)
    if reasoning is None:
        return {}
    model = str(request.model or "")
    claude = claude_name(model)
    if claude is not None:
        fragment = claude_thinking(reasoning, claude, request.max_tokens)
        out: dict[str, Any] = {
            "additionalModelRequestFields": {
                key: value for key, value in fragment.items() if key != "max_tokens"
            }
        }
        if "max_tokens" in fragment:
            out["inferenceConfig"] = {"maxTokens": fragment["max_tokens"]}
        return out
    if is_nova_2(model) and reasoning.effort is not None:
        config: dict[str, Any] = {"type": "disabled"}
        if reasoning.effort != "none":
            config = {"type": "enabled", "maxReasoningEffort": _NOVA_EFFORT[reasoning.effort]}
        return {"additionalModelRequestFields": {"reasoningConfig": config}}
    return {}


def reasoning_problems(request: Request, params: Mapping[str, Any]) -> list[FieldError]:
    """What Converse cannot send: a summary (no model documents one), a budget on Nova 2,
    ``verbosity``, any effort on a model without reasoning (``"none"`` there asks nothing), and
    Claude's own limits beside thinking."""
    problems: list[FieldError] = []
    if params.get("verbosity") is not None:
        problems.append(unsupported("verbosity"))
    reasoning = requested_reasoning(request, params)
    if reasoning is None:
        return problems
    field = isinstance(request.reasoning, Reasoning)  # else the alias keywords
    if reasoning.summary is not None:
        problems.append(
            unsupported("reasoning", "summary") if field else unsupported("reasoning_summary")
        )
    model = str(request.model or "")
    claude = claude_name(model)
    if claude is not None:
        if reasoning.effort is None and reasoning.budget_tokens is None:
            return problems  # a summary alone asks for nothing Claude on Bedrock can send
        return problems + claude_thinking_problems(reasoning, claude, request)
    if reasoning.budget_tokens is not None:
        problems.append(unsupported("reasoning", "budget_tokens"))
    if not is_nova_2(model) and reasoning.effort not in (None, "none"):
        problems.append(
            unsupported("reasoning", "effort") if field else unsupported("reasoning_effort")
        )
    return problems
