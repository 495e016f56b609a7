"""Provider batch jobs and their results: plain data, saved and resumed anywhere."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import AdapterError
from .embeddings import EmbeddingResponse
from .response import Response

__all__ = ["BATCH_STATUSES", "TERMINAL_STATUSES", "BatchItem", "BatchJob", "BatchStatus"]

BatchStatus = Literal[
    "validating",
    "in_progress",
    "finalizing",
    "completed",
    "failed",
    "expired",
    "cancelling",
    "cancelled",
]
BATCH_STATUSES: tuple[str, ...] = BatchStatus.__args__  # type: ignore[attr-defined]
TERMINAL_STATUSES = frozenset({"completed", "failed", "expired", "cancelled"})


@dataclass(frozen=True, slots=True)
class BatchJob:
    """One provider batch job as last seen.

    ``counts`` holds ``total``, ``succeeded``, ``errored`` (and whatever else the provider
    reports, ``cancelled``, ``expired``, ``processing``); ``created_at`` is Unix seconds;
    ``metadata`` what ``results`` and ``get`` need later (file ids, the model, the endpoint,
    sibling jobs of a split submission). Nothing secret is ever kept here.
    """

    id: str
    provider: str
    status: BatchStatus
    counts: dict[str, int] = field(default_factory=dict)
    created_at: float | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        """Whether the job reached a final status (completed, failed, expired, cancelled)."""
        return self.status in TERMINAL_STATUSES


@dataclass(frozen=True, slots=True)
class BatchItem:
    """One request's outcome: a ``Response`` (an ``EmbeddingResponse`` in an embeddings batch)
    or the ``AdapterError`` it failed with."""

    custom_id: str
    response: Response | EmbeddingResponse | None = None
    error: AdapterError | None = None
