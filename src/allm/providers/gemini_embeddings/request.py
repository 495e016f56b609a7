"""The checks, the URL and the JSON body of ``embedContent`` / ``batchEmbedContents``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...adapters.urls import path_segment_problem
from ...data.embeddings import EmbeddingRequest
from ...errors import FieldError, ValidationError
from .settings import MODEL_ID, TASK_TYPES

__all__ = ["check_request", "embedding_call", "model_id"]


def model_id(model: str | None) -> str:
    """The bare model id (``models/`` dropped)."""
    model = model or ""
    return model[len("models/") :] if model.startswith("models/") else model


def check_request(request: EmbeddingRequest, max_batch: int) -> None:
    """Batch size and a model id safe in a URL path; raises before any key or I/O."""
    errors: list[FieldError] = []
    model = model_id(request.model)
    if path_segment_problem(model) is not None or not MODEL_ID.fullmatch(model):
        errors.append((("model",), "invalid_model_id"))
    if len(request.inputs) > max_batch:
        errors.append((("inputs",), "too_many_inputs"))
    if errors:
        raise ValidationError("invalid_request", "gemini cannot embed this request", errors=errors)


def _content(request: EmbeddingRequest, text: str) -> dict[str, Any]:
    options: Mapping[str, Any] = request.options
    entry: dict[str, Any] = {"content": {"parts": [{"text": text}]}}
    task = options.get("task_type") or TASK_TYPES.get(request.input_type or "")
    if task:
        entry["taskType"] = task
    if request.dimensions is not None:
        entry["outputDimensionality"] = request.dimensions
    entry.update((key, value) for key, value in options.items() if key != "task_type")
    return entry


def embedding_call(request: EmbeddingRequest, base: str) -> tuple[str, dict[str, Any]]:
    """The URL and body: ``embedContent`` for one input, ``batchEmbedContents`` for several."""
    model = model_id(request.model)
    if len(request.inputs) == 1:
        return f"{base}/models/{model}:embedContent", _content(request, request.inputs[0])
    requests = [{"model": f"models/{model}", **_content(request, text)} for text in request.inputs]
    return f"{base}/models/{model}:batchEmbedContents", {"requests": requests}
