"""The OpenTelemetry attributes of the surfaces beside chat (images, embeddings, moderation,
speech, transcription, classification): their calls raise, so each reports its answer, or its
failure, in its span's stop metadata. Pure functions of that metadata; ``allm.telemetry.otel``
applies them. A classification reports only its label: its chat span holds the model call."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["SURFACE_SPANS", "mcp_attributes", "surface_attributes"]

SURFACE_SPANS = frozenset({"image", "embed", "moderate", "synthesize", "transcribe", "classify"})


def surface_attributes(
    name: str,
    metadata: Mapping[str, Any],
    stop: Mapping[str, Any],
    usage_attributes: Callable[[list[Any]], dict[str, Any]],
    capture: bool,
) -> dict[str, Any]:
    """The span's attributes from what the call answered (nothing when it failed)."""
    attributes: dict[str, Any] = {}
    if name == "classify":
        label = stop.get("label")
        return {"allm.classify.label": label} if isinstance(label, str) else attributes
    count = stop.get("image_count")
    if name == "image" and isinstance(count, int):
        attributes["allm.image.count"] = count
    response = stop.get("response")
    if response is None or name == "image":
        return attributes
    response_metadata = getattr(response, "metadata", None) or {}
    model = getattr(response, "model", None) or response_metadata.get("model")
    if model:
        attributes["gen_ai.response.model"] = str(model)
    attributes.update(usage_attributes([getattr(response, "usage", None)]))
    dimensions = getattr(response, "dimensions", None)
    if isinstance(dimensions, int):
        attributes["gen_ai.embeddings.dimension.count"] = dimensions
    inputs = metadata.get("input_count")
    if isinstance(inputs, int):
        attributes["allm.input_count"] = inputs
    if name == "moderate":
        attributes["allm.moderation.flagged"] = bool(stop.get("flagged"))
    if name == "synthesize" and isinstance(stop.get("bytes"), int):
        attributes["allm.audio.bytes"] = stop["bytes"]
    if name == "transcribe":
        if isinstance(response.duration_ms, int):
            attributes["allm.audio.duration_ms"] = response.duration_ms
        if response.language:
            attributes["allm.audio.language"] = str(response.language)
        if capture:
            message = {"role": "assistant", "parts": [{"type": "text", "content": response.text}]}
            attributes["gen_ai.output.messages"] = json.dumps([message], ensure_ascii=False)
    return attributes


def mcp_attributes(attributes: dict[str, Any], metadata: Mapping[str, Any]) -> str:
    """An MCP request's attributes (``mcp.method.name``, ``network.transport``, the tool); the
    span's title."""
    method = str(metadata.get("method"))
    attributes["mcp.method.name"] = method
    attributes["network.transport"] = str(metadata.get("transport"))
    attributes["allm.mcp.server"] = str(metadata.get("server"))
    if method == "tools/call":
        attributes["gen_ai.tool.name"] = str(metadata.get("tool"))
    else:
        del attributes["gen_ai.operation.name"]
    target = metadata.get("target")
    return f"{method} {target}" if target else method
