"""OpenAI embeddings (``POST /embeddings``) and the same wire on OpenAI-compatible servers.

The request asks for ``encoding_format: "base64"``: each vector comes back as the base64 of its
little-endian float32 values, about a quarter of the size of the JSON numbers and decoded in
one ``struct.unpack`` (``bench/embeddings.py``). A server that ignores the field and answers
JSON numbers is read too. ``data[].index`` puts the vectors back in input order.

Rules checked before any key is resolved or byte sent: at most 2,048 inputs per request (the
façade splits longer lists); ``dimensions`` only on ``text-embedding-3-*`` models (the older
``text-embedding-ada-002`` has a fixed length). ``input_type`` has no OpenAI field and is not
sent. ``usage.prompt_tokens`` is ``Usage.input_tokens``; the ``x-request-id`` header is kept in
``metadata["openai_request_id"]``.
"""

from __future__ import annotations

import base64
import binascii
import struct
from collections.abc import Generator
from typing import Any, ClassVar

from ..adapters import Call
from ..adapters.http import HttpResult
from ..data.embeddings import EmbeddingRequest, EmbeddingResponse
from ..data.response import Usage
from ..effects import Effect
from ..errors import ValidationError
from .openai_rest import OpenAIRest

__all__ = ["MAX_INPUTS", "OpenAICompatibleEmbeddings", "OpenAIEmbeddings", "decode_vector"]

MAX_INPUTS = 2048
_FIXED_LENGTH = ("text-embedding-ada-002",)


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


class OpenAIEmbeddings(OpenAIRest):
    """OpenAI's embeddings API (see the module doc). The ``encoding_format`` adapter option may
    be set to ``"float"`` for a server that rejects base64."""

    default_model: ClassVar[str] = "text-embedding-3-small"
    max_batch_size: ClassVar[int] = MAX_INPUTS

    def check(self, request: EmbeddingRequest, call: Call) -> None:
        """The per-request rules; raises ``ValidationError`` before any key or I/O."""
        self.check_base_url(call)
        errors = []
        if len(request.inputs) > self.max_batch_size:
            errors.append((("inputs",), "too_many_inputs"))
        model = request.model or ""
        if not model:
            errors.append((("model",), "missing"))
        if request.dimensions is not None and model.startswith(_FIXED_LENGTH):
            errors.append((("dimensions",), "unsupported_option"))
        if errors:
            raise ValidationError(
                "invalid_request", f"{self.name} cannot embed this request", errors=errors
            )

    def body(self, request: EmbeddingRequest, call: Call) -> dict[str, Any]:
        """The JSON body: model, input, encoding format, dimensions, then the options."""
        body: dict[str, Any] = {
            "model": request.model,
            "input": list(request.inputs),
            "encoding_format": self.setting(call, "encoding_format", "base64"),
        }
        if request.dimensions is not None:
            body["dimensions"] = request.dimensions
        body.update(request.options)
        return body

    def embed(
        self, request: EmbeddingRequest, call: Call
    ) -> Generator[Effect, Any, EmbeddingResponse]:
        """Check now, resolve the key; return the plan of one exchange."""
        self.check(request, call)
        http_request = self.json_request(
            call, "/embeddings", self.body(request, call), self.auth_headers(call)
        )
        return self._plan(request, call, http_request)

    def _plan(
        self, request: EmbeddingRequest, call: Call, http_request: Any
    ) -> Generator[Effect, Any, EmbeddingResponse]:
        document, result = yield from self.exchange(call, http_request)
        return self.parse(document, result, request, call)

    def parse(
        self, document: dict[str, Any], result: HttpResult, request: EmbeddingRequest, call: Call
    ) -> EmbeddingResponse:
        """A whole answer as an ``EmbeddingResponse`` (``malformed_response`` if unreadable)."""
        data = document.get("data")
        if not isinstance(data, list):
            raise self.malformed(call, result, "the embeddings answer has no data list")
        if len(data) != len(request.inputs):
            raise self.malformed(
                call, result, f"{len(data)} embedding(s) for {len(request.inputs)} input(s)"
            )
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
                raise self.malformed(call, result, f"data[{position}] is not a usable embedding")
            vectors[index] = vector
        raw_usage = document.get("usage")
        usage = Usage()
        if isinstance(raw_usage, dict):
            prompt, total = raw_usage.get("prompt_tokens"), raw_usage.get("total_tokens")
            usage = Usage(
                input_tokens=prompt if isinstance(prompt, int) else None,
                total_tokens=total if isinstance(total, int) else None,
            )
        metadata: dict[str, Any] = {}
        request_id = result.headers.get("x-request-id")
        if request_id:
            metadata["openai_request_id"] = request_id
        model = document.get("model")
        return EmbeddingResponse(
            tuple(v for v in vectors if v is not None),
            model if isinstance(model, str) else request.model,
            usage,
            metadata,
        )


class OpenAICompatibleEmbeddings(OpenAIEmbeddings):
    """The embeddings wire on any server at ``base_url`` (vLLM, llama.cpp, LM Studio, Ollama's
    ``/v1``, gateways). The key is optional (``OPENAI_COMPATIBLE_API_KEY`` or ``api_key=``); a
    ``dimensions`` the model cannot give is the server's to refuse. The model has no default."""

    name: ClassVar[str] = "openai_compatible"
    key_provider: ClassVar[str] = "openai_compatible"
    default_base_url: ClassVar[str] = ""
    requires_key: ClassVar[bool] = False
    default_model: ClassVar[str | None] = None  # type: ignore[assignment]
