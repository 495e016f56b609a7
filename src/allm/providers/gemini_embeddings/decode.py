"""A whole answer as an ``EmbeddingResponse``."""

from __future__ import annotations

from ...adapters.base import json_or_none
from ...adapters.http import HttpResult
from ...data.embeddings import EmbeddingRequest, EmbeddingResponse
from ...errors import AdapterError
from .request import model_id

__all__ = ["parse_embeddings"]


def parse_embeddings(
    result: HttpResult, request: EmbeddingRequest, provider: str, request_id: str
) -> EmbeddingResponse:
    """``{"embedding": {"values"}}`` or ``{"embeddings": [...]}``; anything else (values that are
    not numbers, a count that does not match) is ``malformed_response``."""
    document = json_or_none(result.body)
    if isinstance(document, dict) and isinstance(document.get("embedding"), dict):
        items: object = [document["embedding"]]
    else:
        items = document.get("embeddings") if isinstance(document, dict) else None
    vectors = []
    if isinstance(items, list) and len(items) == len(request.inputs):
        for item in items:
            values = item.get("values") if isinstance(item, dict) else None
            if not isinstance(values, list) or not all(
                isinstance(x, int | float) and not isinstance(x, bool) for x in values
            ):
                break
            vectors.append(tuple(float(x) for x in values))
    if len(vectors) != len(request.inputs):
        raise AdapterError(
            "malformed_response",
            f"the Gemini answer has no usable embedding for each of the "
            f"{len(request.inputs)} input(s)",
            provider=provider,
            status=result.status,
            request_id=request_id,
        )
    return EmbeddingResponse(tuple(vectors), model_id(request.model), metadata={})
