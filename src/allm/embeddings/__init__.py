"""Embeddings: ``embed(engine, inputs, **opts)`` and ``aembed``, one vector per input, in order.

Every call runs inside an ``embed`` telemetry span, in this order:

1. the adapter: the engine's ``embedding_adapter``, else the one a ``"provider:id"`` model names
   (call ``model=`` > ``Engine.embedding_model`` > the adapter's default model);
2. validation of the inputs and options, listing every problem
   (``ValidationError("invalid_request")``, paths such as ``("inputs", 3)``);
   the catalog's entry for the model, when one is configured, bounds ``dimensions`` and
   refuses a model that states ``embeddings: false``;
3. the batches: inputs past ``batch_size`` (default and ceiling: the adapter's per-request limit,
   ``max_batch_size``) are split; the adapter checks each batch and resolves the key before any
   byte is sent;
4. the batches run at most ``max_concurrency`` (default 4) at a time, each retried under the
   engine's policy (``retry=`` wins) widened with the transient reasons; the first batch that
   still fails cancels the rest and its ``AdapterError`` is raised.

An empty list of inputs gives an empty response without any request. Call keywords: ``model``,
``dimensions``, ``input_type`` (``"query"`` or ``"document"``), ``batch_size``,
``max_concurrency``, ``options``, ``metadata``; call control (``request_id``, ``api_key``,
``adapter_opts``, ``retry``, ``telemetry_metadata``); transport settings; anything else is a
provider parameter merged into ``options``.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from dataclasses import replace
from typing import Any, Protocol, runtime_checkable

from .. import telemetry
from ..catalog import apply_costs
from ..data.embeddings import EmbeddingRequest, EmbeddingResponse
from ..data.response import Usage
from ..effects import Effect
from ..errors import AdapterError, FieldError, ValidationError
from ..execution.surface import (
    Surface,
    SurfaceCall,
    SurfaceJob,
    mapping_fields,
    positive_int,
    split_opts,
)

__all__ = ["EMBEDDINGS", "EmbeddingAdapter", "aembed", "embed"]

EMBEDDINGS = Surface(
    name="embed",
    adapter_slot="embedding_adapter",
    model_slot="embedding_model",
    suffix="_embeddings",
    method="embed",
    missing_reason="no_embedding_adapter",
    example="openai_embeddings",
)
_FIELDS = frozenset({"model", "dimensions", "input_type", "batch_size", "options", "metadata"})
_INPUT_TYPES = ("query", "document")


@runtime_checkable
class EmbeddingAdapter(Protocol):
    """An embedding provider. ``embed(request, call)`` checks the batch and resolves the key when
    called (raising before any I/O), then returns the plan of one HTTP exchange whose value is
    the batch's ``EmbeddingResponse`` (one vector per input, in order)."""

    name: str
    max_batch_size: int

    def embed(
        self, request: EmbeddingRequest, call: Any
    ) -> Generator[Effect, Any, EmbeddingResponse]:
        """Pre-flight now; return the plan of one attempt."""
        ...


def _inputs(value: Any, errors: list[FieldError]) -> tuple[tuple[str, ...], bool]:
    if isinstance(value, str):
        items: tuple[Any, ...] = (value,)
        single = True
    elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        items, single = tuple(value), False
    else:
        errors.append((("inputs",), "not_a_string_or_list"))
        return (), False
    for index, item in enumerate(items):
        path: tuple[str | int, ...] = ("inputs",) if single else ("inputs", index)
        if not isinstance(item, str):
            errors.append((path, "not_a_string"))
        elif not item:
            errors.append((path, "empty"))
    return items, single


def _check(
    fields: Mapping[str, Any], limit: int, errors: list[FieldError], params: Mapping[str, Any]
) -> tuple[int, dict[str, dict[str, Any]]]:
    dimensions = fields.get("dimensions")
    if dimensions is not None and not positive_int(dimensions):
        errors.append((("dimensions",), "not_a_positive_int"))
    input_type = fields.get("input_type")
    if input_type is not None and input_type not in _INPUT_TYPES:
        errors.append((("input_type",), "not_query_or_document"))
    size = fields.get("batch_size", limit)
    if not positive_int(size):
        errors.append((("batch_size",), "not_a_positive_int"))
        size = limit
    elif size > limit:
        errors.append((("batch_size",), "exceeds_provider_limit"))
    return size, mapping_fields(fields, errors, params)


class _Job(SurfaceJob[EmbeddingResponse]):
    """One ``embed`` call between its arguments and its response."""

    name = "embed"

    def __init__(self, engine: Any, inputs: Any, opts: Mapping[str, Any]) -> None:
        fields, control, params = split_opts(opts, _FIELDS)
        self.surface = SurfaceCall.resolve(EMBEDDINGS, engine, fields.get("model"), control)
        self.control = control
        adapter = self.surface.adapter
        errors: list[FieldError] = []
        self.inputs, self.single = _inputs(inputs, errors)
        self.input_count = len(self.inputs)
        found = getattr(adapter, "max_batch_size", None)
        limit = found if positive_int(found) else 2048
        self.batch_size, extra = _check(fields, limit, errors, params)
        ref = self.surface.model_ref
        if ref is not None:
            longest = ref.limits.get("dimensions")
            wanted = fields.get("dimensions")
            if positive_int(longest) and positive_int(wanted) and wanted > longest:
                errors.append((("dimensions",), "exceeds_model_limit"))
            if ref.capabilities.get("embeddings") is False:
                errors.append((("model",), "embeddings_disabled"))
        if errors:
            raise ValidationError(
                "invalid_request",
                f"cannot embed: {len(errors)} problem(s)",
                errors=errors,
            )
        options = {**extra.get("options", {}), **params}
        self.template = EmbeddingRequest(
            inputs=(),
            model=self.surface.model,
            dimensions=fields.get("dimensions"),
            input_type=fields.get("input_type"),
            options=options,
            metadata=extra.get("metadata", {}),
        )

    def plans(self) -> list[Generator[Effect, Any, EmbeddingResponse]]:
        """Every batch's plan; each adapter pre-flight (and key) runs here, before any I/O."""
        size, inputs, adapter = self.batch_size, self.inputs, self.surface.adapter
        return [
            self.surface.plan(
                replace(self.template, inputs=inputs[start : start + size]), adapter.embed
            )
            for start in range(0, len(inputs), size)
        ]

    def combine(self, parts: list[EmbeddingResponse], span: telemetry.Span) -> EmbeddingResponse:
        """The batches' answers as one response (usage summed, costs from the catalog)."""
        vectors: list[tuple[float, ...]] = []
        metadata: dict[str, Any] = dict(self.template.metadata)
        for index, part in enumerate(parts):
            if not isinstance(part, EmbeddingResponse):
                raise AdapterError(
                    "malformed_response",
                    f"embedding adapter {self.surface.adapter!r} returned "
                    f"{type(part).__name__}, not an EmbeddingResponse",
                    provider=getattr(self.surface.adapter, "name", None),
                )
            expected = min(self.batch_size, len(self.inputs) - index * self.batch_size)
            if len(part.vectors) != expected:
                raise AdapterError(
                    "malformed_response",
                    f"batch {index} got {len(part.vectors)} vector(s) for {expected} input(s)",
                    provider=getattr(self.surface.adapter, "name", None),
                )
            vectors.extend(part.vectors)
            for key, value in part.metadata.items():
                metadata.setdefault(key, value)
        metadata["batches"] = len(parts)
        usage = _sum_usage([part.usage for part in parts])
        usage = apply_costs(usage, self.surface.model_ref)
        if usage.input_cost is not None and usage.total_cost is None:
            usage = replace(usage, total_cost=usage.input_cost)  # embeddings have no output
        model = next((part.model for part in parts if part.model), None) or self.surface.model
        response = EmbeddingResponse(tuple(vectors), model, usage, metadata)
        span.stop_metadata.update(response=response, usage=usage, error=None, batches=len(parts))
        return response


def _sum_usage(usages: list[Usage]) -> Usage:
    def total(name: str) -> int | None:
        known = [getattr(u, name) for u in usages if getattr(u, name) is not None]
        return sum(known) if known else None

    return Usage(input_tokens=total("input_tokens"), total_tokens=total("total_tokens"))


def embed(engine: Any, inputs: str | Sequence[str], **opts: Any) -> EmbeddingResponse:
    """Embed one text (``vectors`` of length one, ``.vector``) or a list of texts, in order."""
    return _Job(engine, inputs, opts).run()


async def aembed(engine: Any, inputs: str | Sequence[str], **opts: Any) -> EmbeddingResponse:
    """The async twin of ``embed``."""
    return await _Job(engine, inputs, opts).arun()
