"""The neutral ``reasoning=`` and ``prompt_cache=`` on both OpenAI wires (docs/requests.md)."""

from __future__ import annotations

from typing import Any

from ...adapters import Call
from ...data.reasoning import Reasoning
from ...data.request import Request
from ...errors import FieldError
from ..reasoning import openai_cache_fields, unsupported
from .settings import _REASONING_MODELS, _VERBOSITY_MODELS, reasoning_params


def reasoning_problems(request: Request, responses: bool) -> list[FieldError]:
    """What a wire cannot express: a token budget (neither wire takes one), a summary on Chat
    Completions."""
    reasoning = request.reasoning
    if not isinstance(reasoning, Reasoning):
        return []
    problems: list[FieldError] = []
    if reasoning.budget_tokens is not None:
        problems.append(unsupported("reasoning", "budget_tokens"))
    if reasoning.summary is not None and not responses:
        problems.append(unsupported("reasoning", "summary"))
    return problems


def chat_reasoning_problems(model: str, request: Request, call: Call) -> list[FieldError]:
    """On OpenAI's Chat Completions: an effort for a model that does not reason (the API answers
    400; ``"none"`` asks for nothing and is left out), ``reasoning_summary`` (the wire has no
    summary), ``verbosity`` for a model that does not take it."""
    found = reasoning_params(call, validate=True)
    problems: list[FieldError] = []
    given = request.reasoning
    effort = given.effort if isinstance(given, Reasoning) else None
    if not _REASONING_MODELS.match(model):
        if effort not in (None, "none"):
            problems.append(unsupported("reasoning", "effort"))
        if found.get("reasoning_effort") not in (None, "none"):
            problems.append(unsupported("reasoning_effort"))
    if "reasoning_summary" in found:
        problems.append(unsupported("reasoning_summary"))
    if "verbosity" in found and not _VERBOSITY_MODELS.match(model):
        problems.append(unsupported("verbosity"))
    return problems


def responses_reasoning(request: Request, call: Call, *, validate: bool) -> dict[str, Any]:
    """``reasoning{effort, summary}`` on Responses: the aliases, the ``reasoning=`` field over
    them."""
    controls = reasoning_params(call, validate=validate)
    reasoning: dict[str, Any] = {}
    if "reasoning_effort" in controls:
        reasoning["effort"] = controls["reasoning_effort"]
    if "reasoning_summary" in controls:
        reasoning["summary"] = controls["reasoning_summary"]
    given = request.reasoning
    if isinstance(given, Reasoning):
        if given.effort is not None:
            reasoning["effort"] = given.effort
        if given.summary is not None:
            reasoning["summary"] = given.summary
    return {"reasoning": reasoning} if reasoning else {}


def chat_reasoning_field(
    request: Request, *, nested: bool = False, known_models: bool = False
) -> dict[str, Any]:
    """The ``reasoning=`` field on Chat Completions: ``reasoning_effort``, or OpenRouter's
    ``reasoning: {effort}`` when ``nested``; with ``known_models`` (OpenAI's own names),
    ``"none"`` is left out for a model that does not reason."""
    given = request.reasoning
    if not isinstance(given, Reasoning) or given.effort is None:
        return {}
    model = str(request.model or "")
    if known_models and given.effort == "none" and not _REASONING_MODELS.match(model):
        return {}
    if nested:
        return {"reasoning": {"effort": given.effort}}
    return {"reasoning_effort": given.effort}


def cache_fields(request: Request) -> dict[str, Any]:
    """``prompt_cache_key`` / ``prompt_cache_retention``; markers and ``"auto"`` send nothing
    (OpenAI caches prefixes by itself)."""
    return openai_cache_fields(request)
