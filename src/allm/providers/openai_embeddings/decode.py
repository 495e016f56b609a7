"""Vectors from the wire, and a whole answer as an ``EmbeddingResponse``."""

from __future__ import annotations

import base64
import binascii
import struct
from collections.abc import Callable
from typing import Any

from ...adapters.http import HttpResult
from ...data.embeddings import EmbeddingRequest, EmbeddingResponse
from ...data.response import Usage
from ...errors import AdapterError
from ..wire import as_dict, as_int, as_str

__all__ = ["decode_vector", "parse_embeddings"]


def decode_vector(value: Any) -> tuple[float, ...] | None:
    """A vector from the wire: base64 of little-endian float32s, or a JSON list; None if neither."""
    if isinstance(value, str):
        try:
            raw = base64.b64decode(value)
        except (binascii.Error, ValueError):
            return None
        if len(raw) % 4:
            return None
        return struct.unpack(f"<{len(raw) // 4}f", raw)
    if isinstance(value, list) and all(
        isinstance(x, int | float) and not isinstance(x, bool) for x in value
    ):
        return tuple(float(x) for x in value)
    return None


def parse_embeddings(
    document: dict[str, Any],
    result: HttpResult,
    request: EmbeddingRequest,
    malformed: Callable[[str], AdapterError],
) -> EmbeddingResponse:
    """``data[]`` back in input order by ``index``, usage from ``prompt_tokens``; a body that is
    not that is ``malformed(message)``."""
    data = document.get("data")
    if not isinstance(data, list):
        raise malformed("the embeddings answer has no data list")
    if len(data) != len(request.inputs):
        raise malformed(f"{len(data)} embedding(s) for {len(request.inputs)} input(s)")
    vectors: list[tuple[float, ...] | None] = [None] * len(data)
    for position, item in enumerate(data):
        index = item.get("index", position) if isinstance(item, dict) else None
        vector = decode_vector(item.get("embedding")) if isinstance(item, dict) else None
        if (
            vector is None
            or not isinstance(index, int)
            or not 0 <= index < len(data)
            or vectors[index] is not None
        ):
            raise malformed(f"data[{position}] is not a usable embedding")
        vectors[index] = vector
    raw_usage = as_dict(document.get("usage"))
    usage = Usage(
        input_tokens=as_int(raw_usage.get("prompt_tokens")),
        total_tokens=as_int(raw_usage.get("total_tokens")),
    )
    metadata: dict[str, Any] = {}
    request_id = result.headers.get("x-request-id")
    if request_id:
        metadata["openai_request_id"] = request_id
    return EmbeddingResponse(
        tuple(v for v in vectors if v is not None),
        as_str(document.get("model")) or request.model,
        usage,
        metadata,
    )
