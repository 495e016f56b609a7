"""Embedding requests and responses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from .response import Usage

__all__ = ["EmbeddingRequest", "EmbeddingResponse", "InputType"]

InputType = Literal["query", "document"]


@dataclass(frozen=True, slots=True, kw_only=True)
class EmbeddingRequest:
    """One request to an embedding provider: the inputs of one batch, in order.

    ``dimensions`` asks for shorter vectors where the model supports it; ``input_type`` says
    whether the texts are search queries or the documents searched (Gemini's ``taskType``).
    """

    inputs: tuple[str, ...]
    model: str | None = None
    dimensions: int | None = None
    input_type: InputType | None = None
    options: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.inputs, tuple):
            object.__setattr__(self, "inputs", tuple(self.inputs))


@dataclass(frozen=True, slots=True)
class EmbeddingResponse:
    """One vector per input, in the order of the inputs; ``.vector`` is the first."""

    vectors: tuple[tuple[float, ...], ...] = ()
    model: str | None = None
    usage: Usage = field(default_factory=Usage)
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        vectors = self.vectors
        if not isinstance(vectors, tuple) or any(not isinstance(v, tuple) for v in vectors):
            # JSON brings the inner vectors back as lists; keep the value immutable.
            object.__setattr__(self, "vectors", tuple(tuple(v) for v in vectors))

    @property
    def vector(self) -> tuple[float, ...]:
        """The first vector (the only one when a single string was embedded)."""
        if not self.vectors:
            raise IndexError("this EmbeddingResponse has no vectors")
        return self.vectors[0]

    @property
    def dimensions(self) -> int | None:
        """The length of the vectors, or None when there are none."""
        return len(self.vectors[0]) if self.vectors else None
