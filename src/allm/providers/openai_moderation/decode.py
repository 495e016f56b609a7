"""A whole answer as a ``ModerationResponse``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...adapters.http import HttpResult
from ...data.moderation import ModerationRequest, ModerationResponse, ModerationResult
from ...errors import AdapterError
from ..wire import as_dict, as_str

__all__ = ["parse_moderation"]


def _flags(value: Any) -> dict[str, bool] | None:
    if not isinstance(value, dict) or not all(isinstance(v, bool) for v in value.values()):
        return None
    return {str(k): v for k, v in value.items()}


def _scores(value: Any) -> dict[str, float] | None:
    if not isinstance(value, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in value.values()
    ):
        return None
    return {str(k): float(v) for k, v in value.items()}


def parse_moderation(
    document: dict[str, Any],
    result: HttpResult,
    request: ModerationRequest,
    malformed: Callable[[str], AdapterError],
) -> ModerationResponse:
    """One result per input; anything else is ``malformed(message)``."""
    raw = document.get("results")
    if not isinstance(raw, list) or len(raw) != len(request.inputs):
        raise malformed("the moderation answer has no result per input")
    results = []
    for index, item in enumerate(raw):
        item = as_dict(item)
        flagged = item.get("flagged")
        categories = _flags(item.get("categories"))
        scores = _scores(item.get("category_scores"))
        if not isinstance(flagged, bool) or categories is None or scores is None:
            raise malformed(f"results[{index}] is not a moderation result")
        found: dict[str, Any] = {}
        applied = item.get("category_applied_input_types")
        if isinstance(applied, dict):
            found["applied_input_types"] = applied
        results.append(ModerationResult(flagged, categories, scores, found))
    metadata: dict[str, Any] = {}
    if isinstance(document.get("id"), str):
        metadata["openai_id"] = document["id"]
    request_id = result.headers.get("x-request-id")
    if request_id:
        metadata["openai_request_id"] = request_id
    model = as_str(document.get("model")) or request.model
    return ModerationResponse(tuple(results), model, metadata)
