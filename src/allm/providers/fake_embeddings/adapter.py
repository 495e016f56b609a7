"""The FakeEmbeddings adapter (see the package doc)."""

from __future__ import annotations

import hashlib
import math
import struct
from collections.abc import Generator, Sequence
from typing import Any, ClassVar

from ...adapters import Call
from ...data.embeddings import EmbeddingRequest, EmbeddingResponse
from ...data.response import Usage
from ...effects import Effect
from ...errors import ConfigurationError
from ..fake.surfaces import ScriptedFake, error, ok, retry_until_call

__all__ = ["FakeEmbeddings", "error", "fake_vector", "ok", "retry_until_call"]

DEFAULT_DIMENSIONS = 8


def fake_vector(
    text: str, dimensions: int = DEFAULT_DIMENSIONS, salt: str = ""
) -> tuple[float, ...]:
    """The fake's unit-length vector for ``text`` (a pure function of its arguments)."""
    seed = f"{salt}\x00{text}".encode()
    raw = bytearray()
    counter = 0
    while len(raw) < 4 * dimensions:
        raw += hashlib.sha256(seed + counter.to_bytes(4, "big")).digest()
        counter += 1
    values = [v / 2**31 for v in struct.unpack(f">{dimensions}i", bytes(raw[: 4 * dimensions]))]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return tuple(v / norm for v in values)


class FakeEmbeddings(ScriptedFake[EmbeddingResponse]):
    """The deterministic, scriptable embedding adapter."""

    name: ClassVar[str] = "fake"
    script_option: ClassVar[str] = "embedding_script"
    record_option: ClassVar[str] = "embedding_record"
    default_model: ClassVar[str] = "fake-embedding"

    def __init__(self, max_batch_size: int = 2048) -> None:
        super().__init__()
        self.max_batch_size = max_batch_size

    def embed(
        self, request: EmbeddingRequest, call: Call
    ) -> Generator[Effect, Any, EmbeddingResponse]:
        """This request's answer: scripted, or computed from the inputs."""
        return self.serve(request, call)

    def default(self, request: EmbeddingRequest, call: Call) -> EmbeddingResponse:
        """One deterministic vector per input."""
        size = request.dimensions or DEFAULT_DIMENSIONS
        salt = f"{request.model}|{request.input_type}"
        vectors = tuple(fake_vector(text, size, salt) for text in request.inputs)
        return self._response(request, vectors)

    def answer(self, request: EmbeddingRequest, value: Any) -> EmbeddingResponse:
        """A scripted list of vectors, one per input of the batch."""
        if (
            not isinstance(value, Sequence)
            or isinstance(value, str)
            or len(value) != len(request.inputs)
            or not all(isinstance(v, Sequence) and not isinstance(v, str) for v in value)
        ):
            raise ConfigurationError(
                "invalid_script",
                problems=[
                    f"an embedding entry must hold {len(request.inputs)} vector(s) "
                    f"(one per input of the batch), got {value!r:.80}"
                ],
            )
        return self._response(request, tuple(tuple(float(x) for x in v) for v in value))

    @staticmethod
    def _response(
        request: EmbeddingRequest, vectors: tuple[tuple[float, ...], ...]
    ) -> EmbeddingResponse:
        tokens = sum(len(text.split()) for text in request.inputs)
        return EmbeddingResponse(
            vectors, request.model, Usage(input_tokens=tokens, total_tokens=tokens), {}
        )
