"""Model references: ``"provider:id"``, ``"id@provider"``, a ``(provider, id)`` pair or a
``ModelRef``, read against the registered adapter names."""

from __future__ import annotations

from typing import Any

from .data.models import ModelRef
from .registry import registered_names

__all__ = ["model_ref_problem", "split_model_ref"]


def split_model_ref(model: Any) -> tuple[str | None, Any]:
    """``("openai", "gpt-4o")`` for ``"openai:gpt-4o"``, ``"gpt-4o@openai"`` or a pair; else
    ``(None, model)``. Only registered provider names count, so ``"llama3:8b"`` stays whole."""
    names = registered_names()
    if isinstance(model, ModelRef):
        return model.provider, model.id
    if isinstance(model, tuple) and len(model) == 2 and all(isinstance(p, str) for p in model):
        return model[0], model[1]
    if isinstance(model, str):
        provider, sep, rest = model.partition(":")
        if sep and provider in names and rest:
            return provider, rest
        rest, sep, provider = model.rpartition("@")
        if sep and provider in names and rest:
            return provider, rest
    return None, model


def model_ref_problem(model: Any, *, strict: bool) -> str | None:
    """Why ``model`` is a malformed model reference, or None.

    Always malformed: an empty string, an empty provider before ``:`` (``":gpt"``), a registered
    provider with nothing after it (``"openai:"``, ``"@openai"``), a lone ``"@"``, a pair that is
    not two non-empty strings, a ``ModelRef`` without provider or id. With ``strict`` (the engine
    names no adapter, so the reference must pick one) also an empty part on either side of ``:`` or
    ``@``. Anything else may be a provider's own model id (``"llama3:8b"``, ``"@cf/meta/llama"``).
    """
    names = registered_names()
    if isinstance(model, ModelRef):
        if not (isinstance(model.provider, str) and model.provider.strip()):
            return "the ModelRef has no provider"
        if not (isinstance(model.id, str) and model.id.strip()):
            return "the ModelRef has no id"
        return None
    if isinstance(model, tuple):
        if len(model) != 2 or not all(isinstance(part, str) and part.strip() for part in model):
            return "a (provider, id) pair needs two non-empty strings"
        return None
    if not isinstance(model, str):
        return None
    if not model.strip():
        return "the model is empty"
    head, colon, rest = model.partition(":")
    if colon and not head.strip():
        return "nothing before ':' (expected 'provider:id')"
    if colon and not rest.strip() and (strict or head in names):
        return f"nothing after '{head}:' (expected 'provider:id')"
    before, at, tail = model.rpartition("@")
    if at and not before.strip() and (strict or not tail or tail in names):
        return "nothing before '@' (expected 'id@provider')"
    if at and not tail.strip() and strict:
        return "nothing after '@' (expected 'id@provider')"
    return None
