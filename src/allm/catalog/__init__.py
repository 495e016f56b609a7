"""Model catalogs: what a model can do and what it costs, checked before any request is sent.

A catalog is any object with ``lookup(provider, model_id) -> ModelRef | None``. Install one with
``allm.configure(catalog=...)``; ``BundledCatalog()`` is the one allm ships (current OpenAI,
Anthropic and Gemini models, from the data file ``allm/catalog/models.json``). Without a catalog,
nothing is rejected and costs stay ``None``.

``check_capabilities`` is the pre-flight (tools, JSON schema, images, reasoning, prompt
caching, max output tokens) and
``apply_costs`` fills the costs of a ``Usage`` from the model's per-million prices.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ..config import get_settings
from ..data.messages import AudioPart, DocumentPart, ImagePart
from ..data.models import ModelRef
from ..data.reasoning import CachePoint
from ..data.response import Usage
from ..data.server_tools import ProviderTool
from ..errors import FieldError, ValidationError
from .bundled import (
    AUDIO_CAPABILITY_KEYS,
    AUDIO_PRICE_KEYS,
    CAPABILITY_KEYS,
    IMAGE_CAPABILITY_KEYS,
    LIMIT_KEYS,
    PRICE_KEYS,
    BundledCatalog,
    CatalogError,
    load_catalog,
)

if TYPE_CHECKING:
    from ..data.request import Request

__all__ = [
    "AUDIO_CAPABILITY_KEYS",
    "AUDIO_PRICE_KEYS",
    "CAPABILITY_KEYS",
    "IMAGE_CAPABILITY_KEYS",
    "LIMIT_KEYS",
    "PRICE_KEYS",
    "BundledCatalog",
    "CatalogError",
    "ModelCatalog",
    "apply_costs",
    "check_capabilities",
    "effective_pricing",
    "load_catalog",
    "resolve_model_ref",
]


@runtime_checkable
class ModelCatalog(Protocol):
    """Looks models up by provider and id."""

    def lookup(self, provider: str | None, model_id: str) -> ModelRef | None:
        """The model, or None when the catalog does not know it."""
        ...


def resolve_model_ref(model: Any, provider: str | None) -> ModelRef | None:
    """The catalog's entry for ``model`` (a ``ModelRef`` passes through), or None."""
    if isinstance(model, ModelRef):
        return model
    catalog = get_settings().catalog
    if catalog is None or not isinstance(model, str):
        return None
    ref = catalog.lookup(provider, model)
    return ref if isinstance(ref, ModelRef) else None


def _flag(capabilities: Mapping[str, Any], name: str) -> Any:
    value = capabilities.get(name)
    if isinstance(value, Mapping):
        return value.get("enabled")
    return value


def check_capabilities(request: Request, ref: ModelRef | None) -> None:
    """Raise ``ValidationError("unsupported_capability")`` listing every feature the model lacks.

    Only what the catalog states counts: a capability it leaves out, or a limit it does not
    record, is never a reason to reject.
    """
    if ref is None:
        return
    capabilities = ref.capabilities
    errors: list[FieldError] = []
    if request.tools and _flag(capabilities, "tools") is False:
        errors.append((("tools",), "tools_disabled"))
    response_format = request.response_format
    if (
        isinstance(response_format, Mapping)
        and response_format.get("type") == "json_schema"
        and _flag(capabilities, "json_native") is False
    ):
        errors.append((("response_format",), "json_native_disabled"))
    if _flag(capabilities, "vision") is False:
        for index, message in enumerate(request.messages):
            if isinstance(message.content, tuple) and any(
                isinstance(part, ImagePart) for part in message.content
            ):
                errors.append((("messages", index, "content"), "vision_disabled"))
    errors.extend(_part_errors(request, capabilities))
    errors.extend(_reasoning_and_cache(request, capabilities))
    limit = ref.limits.get("output")
    if (
        isinstance(limit, int)
        and not isinstance(limit, bool)
        and request.max_tokens is not None
        and request.max_tokens > limit
    ):
        errors.append((("max_tokens",), "exceeds_model_limit"))
    if errors:
        raise ValidationError(
            "unsupported_capability",
            f"{ref.provider}:{ref.id} cannot serve this request: "
            + "; ".join(f"{'.'.join(map(str, path))}: {reason}" for path, reason in errors)
            + (f" (max_tokens {request.max_tokens} > {limit})" if _over(errors) else ""),
            errors=errors,
            metadata={"model": str(ref)},
        )


def _part_errors(request: Request, capabilities: Mapping[str, Any]) -> list[FieldError]:
    """Documents, audio and provider tools the catalog says the model does not take."""
    errors: list[FieldError] = []
    refused = {
        DocumentPart: _flag(capabilities, "documents") is False,
        AudioPart: _flag(capabilities, "audio_input") is False,
    }
    for index, message in enumerate(request.messages):
        if isinstance(message.content, str):
            continue
        for position, part in enumerate(message.content):
            if refused.get(type(part)):
                reason = "documents_disabled" if type(part) is DocumentPart else "audio_disabled"
                errors.append((("messages", index, "content", position), reason))
    kinds = capabilities.get("provider_tools")
    if isinstance(kinds, list | tuple):
        for index, item in enumerate(request.tools):
            if isinstance(item, ProviderTool) and item.kind not in kinds:
                errors.append((("tools", index), "provider_tool_unsupported"))
    return errors


def _reasoning_and_cache(request: Request, capabilities: Mapping[str, Any]) -> list[FieldError]:
    """Reasoning asked of a model without it (``"none"`` asks for nothing); caching asked (the
    field or a ``CachePoint``) of a model without prompt caching."""
    errors: list[FieldError] = []
    reasoning = request.reasoning
    effort = getattr(reasoning, "effort", None)
    if reasoning is not None and effort != "none" and _flag(capabilities, "reasoning") is False:
        errors.append((("reasoning",), "reasoning_disabled"))
    if _flag(capabilities, "prompt_caching") is False:
        if request.prompt_cache is not None:
            errors.append((("prompt_cache",), "prompt_caching_disabled"))
        for index, message in enumerate(request.messages):
            if isinstance(message.content, tuple) and any(
                isinstance(part, CachePoint) for part in message.content
            ):
                errors.append((("messages", index, "content"), "prompt_caching_disabled"))
    return errors


def _over(errors: list[FieldError]) -> bool:
    return any(reason == "exceeds_model_limit" for _, reason in errors)


def _is_price(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _cost(price: Any, tokens: int | None) -> float | None:
    if not _is_price(price) or tokens is None:
        return None
    return float(price * tokens / 1_000_000)


def effective_pricing(pricing: Mapping[str, Any], input_tokens: int | None) -> Mapping[str, Any]:
    """The prices that apply to a request with ``input_tokens`` of input.

    ``pricing["tiers"]`` (optional) lists ``{"above_input_tokens": n, <prices>}``: once the input
    exceeds ``n``, that tier's prices apply to the whole request (the providers' long-context
    pricing). Prices a tier leaves out keep their base value.
    """
    tiers = pricing.get("tiers")
    if not tiers or input_tokens is None:
        return pricing
    chosen: Mapping[str, Any] | None = None
    for tier in tiers:
        threshold = tier.get("above_input_tokens") if isinstance(tier, Mapping) else None
        if (
            isinstance(threshold, int)
            and input_tokens > threshold
            and (chosen is None or threshold > chosen["above_input_tokens"])
        ):
            chosen = tier
    if chosen is None:
        return pricing
    merged = dict(pricing)
    merged.update((key, value) for key, value in chosen.items() if key in PRICE_KEYS)
    return merged


def apply_costs(usage: Usage, ref: ModelRef | None) -> Usage:
    """``usage`` with costs from the model's per-million prices; existing costs are kept.

    Cached and cache-write input tokens are priced at their own rates when the catalog has them
    (``input_tokens`` includes them, so the plain part is what remains); a missing rate falls back
    to the input price. ``total_cost`` is set only when both sides are known.
    """
    if ref is None or not ref.pricing:
        return usage
    pricing = effective_pricing(ref.pricing, usage.input_tokens)
    input_cost = usage.input_cost
    if input_cost is None and usage.input_tokens is not None and _is_price(pricing.get("input")):
        cached = usage.cached_input_tokens or 0
        written = usage.cache_write_input_tokens or 0
        plain = max(usage.input_tokens - cached - written, 0)
        parts = [_cost(pricing["input"], plain)]
        if cached:
            parts.append(_cost(pricing.get("cached_input", pricing["input"]), cached))
        if written:
            parts.append(_cost(pricing.get("cache_write", pricing["input"]), written))
        input_cost = (
            None if any(p is None for p in parts) else sum(p for p in parts if p is not None)
        )
    output_cost = usage.output_cost
    if output_cost is None:
        output_cost = _cost(pricing.get("output"), usage.output_tokens)
    total = usage.total_cost
    if total is None and input_cost is not None and output_cost is not None:
        total = input_cost + output_cost
    if (input_cost, output_cost, total) == (usage.input_cost, usage.output_cost, usage.total_cost):
        return usage
    return replace(usage, input_cost=input_cost, output_cost=output_cost, total_cost=total)
