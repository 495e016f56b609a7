"""Embedding batches on OpenAI's Batch API (``/v1/embeddings`` lines): each request checked and
built by the embedding adapter's own ``build_request``, each result parsed by its own
``parse_document``, as ``allm.embed`` does. The job is an OpenAI job with
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
from ._openai import OpenAIBatches
from ._prepare import BATCH_KEYS, Line, Prepared
from ._wire import Wire

__all__ = [
    "EMBEDDINGS_SURFACE",
    "EMBEDDING_BATCH_KEYS",
    "OpenAIEmbeddingBatches",
    "prepare_embeddings",
]

EMBEDDINGS_SURFACE = "embeddings"
# What an embeddings batch reads: the job's keywords, the default model, how to reach OpenAI.
EMBEDDING_BATCH_KEYS = BATCH_KEYS | TRANSPORT_OPTION_KEYS | CONTROL_KEYS | {"model"}


class OpenAIEmbeddingBatches(OpenAIBatches):
    """OpenAI's Batch API carrying ``/v1/embeddings`` requests."""

    provider: ClassVar[str] = "openai"

    def build(self, adapter: Any, request: Any, call: Call, custom_id: str, first: bool) -> Line:
        built = adapter.build_request(request, call)
        encoded = self.line_bytes(custom_id, built)
        if first:
            return Line(custom_id, request.model, encoded, None, call, built)
        return Line(custom_id, request.model, encoded)

    def job(self, document: Mapping[str, Any], extra: Mapping[str, Any]) -> BatchJob:
        found = super().job(document, extra)
        return replace(found, metadata={**found.metadata, "surface": EMBEDDINGS_SURFACE})

    def parse(self, wire: Wire, job: BatchJob, result: HttpResult, call: Call, body: Any) -> Any:
        """A success through the embedding adapter's own ``parse_document``."""
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise wire.malformed(result, "an embeddings result without a data list")
        # The parser checks one vector per input; the batch result says how many came.
        request = EmbeddingRequest(
            inputs=("",) * len(body["data"]), model=job.metadata.get("model")
        )
        return wire.adapter.parse_document(body, result, request, call)


def prepare_embeddings(
    engine: Any, entries: list[tuple[str | None, Any]], opts: Mapping[str, Any]
) -> Prepared:
    """Every ``EmbeddingRequest`` checked and built through the embeddings surface's
    resolution (adapter, model default, key), all problems in one ``ValidationError``."""
    from ..embeddings import EMBEDDINGS
    from ..execution.surface import SurfaceCall, split_opts

    _, control, _ = split_opts(opts, frozenset({"model"}))
    surface = SurfaceCall.resolve(EMBEDDINGS, engine, opts.get("model"), control)
    adapter = surface.adapter
    if getattr(adapter, "name", None) != "openai" or not callable(
        getattr(adapter, "build_request", None)
    ):
        raise ValidationError(
            "invalid_request",
            errors=[((), f"no embeddings batch on {getattr(adapter, 'name', adapter)!r}")],
        )
    backend = OpenAIEmbeddingBatches()
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
            from ._prepare import _problems

            problems.extend(_problems(exc, index))
    if problems:
        raise ValidationError("invalid_request", errors=problems)
    return prepared
