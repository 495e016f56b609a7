"""Choosing a provider's batch backend, and jobs split into parts (a batch over the
provider's limits): one ``BatchJob`` standing for every part, refreshed, cancelled and read
part by part."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ..data.batch import BATCH_STATUSES, BatchJob
from ..effects import Effect
from ..errors import AdapterError
from ._backend import Backend
from ._wire import Wire

__all__ = ["backend_for", "combine", "parts_of"]

# The order an unfinished composite reports: the least advanced part's status.
_PROGRESS = ("validating", "in_progress", "cancelling", "finalizing")


def backend_for(provider: str | None, surface: Any = None) -> Backend:
    """The batch backend of ``provider`` (``unsupported_feature`` when it has no batch API here);
    ``surface`` ``"embeddings"`` for an embeddings job."""
    if surface == "embeddings":
        from ._embeddings import embedding_backend

        found = embedding_backend(provider)
        if found is not None:
            return found
    if provider == "fake":
        from ._fake import FakeBatches

        return FakeBatches()
    if provider in ("openai", "openai_compatible"):
        from ._openai import OpenAIBatches, OpenAICompatibleBatches

        return OpenAIBatches() if provider == "openai" else OpenAICompatibleBatches()
    if provider == "anthropic":
        from ._anthropic import AnthropicBatches

        return AnthropicBatches()
    if provider == "gemini":
        from ._gemini import GeminiBatches

        return GeminiBatches()
    raise AdapterError(
        "unsupported_feature",
        f"provider {provider!r} has no batch API in allm (openai, anthropic, gemini, fake)",
        provider=provider,
    )


def parts_of(job: BatchJob) -> list[BatchJob]:
    """The parts a job stands for (itself when it was not split)."""
    parts = job.metadata.get("parts")
    return list(parts) if isinstance(parts, list | tuple) and parts else [job]


def combine(parts: list[BatchJob]) -> BatchJob:
    """One job for ``parts``: the first part's id, summed counts, ``metadata["parts"]`` the
    parts; unfinished while any part is (the least advanced status), else ``completed`` when
    any part completed, else the first part's status."""
    if len(parts) == 1:
        return parts[0]
    counts: dict[str, int] = {}
    for part in parts:
        for key, value in part.counts.items():
            counts[key] = counts.get(key, 0) + value
    running = [part.status for part in parts if not part.done]
    if running:
        status = min(running, key=lambda s: _PROGRESS.index(s) if s in _PROGRESS else 0)
    elif any(part.status == "completed" for part in parts):
        status = "completed"
    else:
        status = parts[0].status
    assert status in BATCH_STATUSES
    first = parts[0]
    metadata = {"parts": list(parts), "model": first.metadata.get("model")}
    return BatchJob(first.id, first.provider, status, counts, first.created_at, metadata)


def each_part(
    backend: Backend, wire: Wire, job: BatchJob, action: str
) -> Generator[Effect, Any, BatchJob]:
    """``get`` or ``cancel`` on every part (finished parts are not cancelled again)."""
    updated: list[BatchJob] = []
    for part in parts_of(job):
        if action == "cancel" and part.done:
            updated.append(part)
            continue
        plan = backend.get(wire, part) if action == "get" else backend.cancel(wire, part)
        updated.append((yield from plan))
    return combine(updated)


def each_result(backend: Backend, wire: Wire, job: BatchJob) -> Generator[Any, Any, None]:
    """Every part's results, in part order."""
    for part in parts_of(job):
        yield from backend.results(wire, part)
