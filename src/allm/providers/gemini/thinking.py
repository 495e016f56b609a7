"""``reasoning=`` as Gemini's ``thinkingConfig`` (docs/requests.md)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ...data.reasoning import Reasoning
from ...data.request import Request
from ...errors import FieldError
from ..reasoning import EFFORT_BUDGETS, unsupported

# Models that take a ``thinkingLevel`` (Gemini 3 and later); the 2.5 family takes a budget.
_LEVEL_MODELS = re.compile(r"^(models/)?gemini-([3-9]|\d\d)")
_LEVELS = frozenset({"minimal", "low", "medium", "high"})


def takes_level(model: Any) -> bool:
    """Whether ``model`` takes ``thinkingLevel`` rather than ``thinkingBudget``."""
    return bool(_LEVEL_MODELS.match(str(model or "")))


def thinking_config(request: Request) -> dict[str, Any]:
    """``thinkingConfig`` for the ``reasoning=`` field (empty without one)."""
    reasoning = request.reasoning
    if not isinstance(reasoning, Reasoning):
        return {}
    config: dict[str, Any] = {}
    if reasoning.budget_tokens is not None:
        config["thinkingBudget"] = reasoning.budget_tokens
    elif reasoning.effort is not None:
        if takes_level(request.model):
            config["thinkingLevel"] = reasoning.effort
        else:
            config["thinkingBudget"] = EFFORT_BUDGETS.get(reasoning.effort, 0)  # none: 0
    if reasoning.summary is not None:
        config["includeThoughts"] = True
    return config


def thinking_problems(request: Request) -> list[FieldError]:
    """A level model cannot turn thinking off nor go above ``high``."""
    reasoning = request.reasoning
    if not isinstance(reasoning, Reasoning) or reasoning.budget_tokens is not None:
        return []
    effort = reasoning.effort
    if effort is not None and effort not in _LEVELS and takes_level(request.model):
        return [unsupported("reasoning", "effort")]
    return []


def thinking_sent(config: Mapping[str, Any]) -> dict[str, Any]:
    """The body keys the reasoning set: ``generationConfig.thinkingConfig``."""
    thinking = config.get("thinkingConfig")
    return {"generationConfig": {"thinkingConfig": dict(thinking)}} if thinking else {}
