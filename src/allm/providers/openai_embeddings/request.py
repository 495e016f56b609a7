"""The checks and the JSON body of one ``POST /embeddings``."""

from __future__ import annotations

from typing import Any

from ...data.embeddings import EmbeddingRequest
from ...errors import FieldError, ValidationError
from .settings import FIXED_LENGTH

__all__ = ["check_request", "embedding_body"]


def check_request(request: EmbeddingRequest, provider: str, max_inputs: int) -> None:
    """The per-request rules; raises ``ValidationError`` before any key or I/O."""
    errors: list[FieldError] = []
    if len(request.inputs) > max_inputs:
        errors.append((("inputs",), "too_many_inputs"))
    model = request.model or ""
    if not model:
        errors.append((("model",), "missing"))
    if request.dimensions is not None and model.startswith(FIXED_LENGTH):
        errors.append((("dimensions",), "unsupported_option"))
    if errors:
        raise ValidationError(
            "invalid_request", f"{provider} cannot embed this request", errors=errors
        )


def embedding_body(request: EmbeddingRequest, encoding_format: Any) -> dict[str, Any]:
    """Model, input, encoding format, dimensions, then the options."""
    body: dict[str, Any] = {
        "model": request.model,
        "input": list(request.inputs),
        "encoding_format": encoding_format,
    }
    if request.dimensions is not None:
        body["dimensions"] = request.dimensions
    body.update(request.options)
    return body
