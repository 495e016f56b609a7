"""Embedding batches: OpenAI's Batch API (``/v1/embeddings`` lines) and Gemini's batch mode
(``:asyncBatchEmbedContent``, each request one ``embedContent`` body). Each request is checked
and built by the embedding adapter's own request builder and each result parsed by its own
parser, as ``allm.embed`` does. The job is the provider's job with
``metadata["surface"] == "embeddings"``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, ClassVar

from ..adapters import Call
from ..adapters.http import HttpResult
from ..data.batch import BatchJob
from ..data.embeddings import EmbeddingRequest
from ..errors import AllmError, FieldError, ValidationError
from ..execution.options import TRANSPORT_OPTION_KEYS
from ..execution.surface import CONTROL_KEYS
from ._backend import Backend
from ._gemini import GeminiBatches
from ._openai import OpenAIBatches
from ._prepare import BATCH_KEYS, Line, Prepared, _problems
from ._wire import Wire

__all__ = [
    "EMBEDDINGS_SURFACE",
    "EMBEDDING_BATCH_KEYS",
    "GeminiEmbeddingBatches",
    "OpenAIEmbeddingBatches",
    "embedding_backend",
    "prepare_embeddings",
]

EMBEDDINGS_SURFACE = "embeddings"
# What an embeddings batch reads: the job's keywords, the default model, how to reach the
# provider.
EMBEDDING_BATCH_KEYS = BATCH_KEYS | TRANSPORT_OPTION_KEYS | CONTROL_KEYS | {"model"}


class _Embeddings(Backend):
    """What an embeddings batch changes in its provider's backend: the line comes from the
    embedding adapter's ``build_request``, the job says its surface."""

    def build(self, adapter: Any, request: Any, call: Call, custom_id: str, first: bool) -> Line:
        built = adapter.build_request(request, call)
        encoded = self.line_bytes(custom_id, built)
        if first:
            return Line(custom_id, request.model, encoded, None, call, built)
        return Line(custom_id, request.model, encoded)

    def job(self, document: Mapping[str, Any], extra: Any) -> BatchJob:
        found: BatchJob = super().job(document, extra)  # type: ignore[misc]
        return replace(found, metadata={**found.metadata, "surface": EMBEDDINGS_SURFACE})


class OpenAIEmbeddingBatches(_Embeddings, OpenAIBatches):
    """OpenAI's Batch API carrying ``/v1/embeddings`` requests."""

    provider: ClassVar[str] = "openai"

    def parse(self, wire: Wire, job: BatchJob, result: HttpResult, call: Call, body: Any) -> Any:
        """A success through the embedding adapter's own ``parse_document``."""
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise wire.malformed(result, "an embeddings result without a data list")
        # The parser checks one vector per input; the batch result says how many came.
        request = EmbeddingRequest(
            inputs=("",) * len(body["data"]), model=job.metadata.get("model")
        )
        return wire.adapter.parse_document(body, result, request, call)


class GeminiEmbeddingBatches(_Embeddings, GeminiBatches):
    """Gemini's batch mode carrying ``embedContent`` requests, one input each (a request of
    several inputs is ``batchEmbedContents``, which a batch line cannot carry)."""

    method: ClassVar[str] = ":embedContent"
    batch_method: ClassVar[str] = ":asyncBatchEmbedContent"

    def build(self, adapter: Any, request: Any, call: Call, custom_id: str, first: bool) -> Line:
        if len(request.inputs) != 1:
            raise ValidationError(
                "invalid_request", errors=[(("inputs",), "one_input_per_request_on_gemini")]
            )
        adapter.check(request, call)
        return super().build(adapter, request, call, custom_id, first)

    def parse(self, wire: Wire, job: BatchJob, result: HttpResult, call: Call, body: Any) -> Any:
        """A success through the embedding adapter's own ``parse_result``."""
        request = EmbeddingRequest(inputs=("",), model=job.metadata.get("model"))
        return wire.adapter.parse_result(result, request, call)


_BACKENDS: dict[str, type[_Embeddings]] = {
    "openai": OpenAIEmbeddingBatches,
    "gemini": GeminiEmbeddingBatches,
}


def embedding_backend(provider: str | None) -> Backend | None:
    """The embeddings batch backend of ``provider``, or None when it has none."""
    found = _BACKENDS.get(provider or "")
    return None if found is None else found()


def prepare_embeddings(
    engine: Any, entries: list[tuple[str | None, Any]], opts: Mapping[str, Any]
) -> tuple[Prepared, Backend]:
    """Every ``EmbeddingRequest`` checked and built through the embeddings surface's
    resolution (adapter, model default, key), all problems in one ``ValidationError``; the
    backend that sends them."""
    from ..embeddings import EMBEDDINGS
    from ..execution.surface import SurfaceCall, split_opts

    _, control, _ = split_opts(opts, frozenset({"model"}))
    surface = SurfaceCall.resolve(EMBEDDINGS, engine, opts.get("model"), control)
    adapter = surface.adapter
    name = getattr(adapter, "name", None)
    backend = embedding_backend(name) if callable(getattr(adapter, "build_request", None)) else None
    if backend is None:
        raise ValidationError(
            "invalid_request",
            errors=[((), f"no embeddings batch on {name or adapter!r} (openai, gemini)")],
        )
    prepared = Prepared(adapter)
    problems: list[FieldError] = []
    seen: set[str] = set()
    for index, (custom_id, request) in enumerate(entries):
        custom_id = f"request-{index}" if custom_id is None else custom_id
        if not isinstance(custom_id, str) or not custom_id or custom_id in seen:
            problems.append(((index, "custom_id"), "missing_or_duplicate"))
            continue
        seen.add(custom_id)
        if not isinstance(request, EmbeddingRequest):
            problems.append(((index,), "not_an_embedding_request"))
            continue
        request = replace(request, model=request.model or surface.model)
        call = replace(surface.call, request_id=custom_id)
        try:
            prepared.lines.append(
                backend.build(adapter, request, call, custom_id, not prepared.lines)
            )
        except AllmError as exc:
            problems.extend(_problems(exc, index))
    if problems:
        raise ValidationError("invalid_request", errors=problems)
    return prepared, backend
