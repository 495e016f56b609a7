"""Moderation: ``moderate(engine, input, **opts)`` and ``amoderate``, one result per input.

``input`` is one input or a list of them. An input is a ``str``, a ``TextPart``, an
``ImagePart`` (or ``Image``), or a list / tuple of such parts judged together (a caption with its
image). Text-only inputs are sent together, up to the adapter's ``max_batch_size`` per request;
an input with an image goes in a request of its own (OpenAI judges a multi-part input as one).
The requests run at most ``max_concurrency`` at a time, each retried under the engine's policy;
the first that still fails is raised as an ``AdapterError``. Inside a ``moderate`` telemetry
span, like ``allm.embed``, whose pipeline and keywords it shares (``model``, ``options``,
``metadata``, call control, transport settings; anything else goes into ``options``).
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from .. import telemetry
from ..data.messages import Image, ImagePart, TextPart
from ..data.moderation import (
    ModerationInput,
    ModerationRequest,
    ModerationResponse,
    ModerationResult,
)
from ..effects import Effect
from ..errors import AdapterError, FieldError, ValidationError
from ..execution.surface import Surface, SurfaceCall, SurfaceJob, mapping_fields, split_opts

__all__ = ["MODERATION", "ModerationAdapter", "amoderate", "moderate", "moderation_inputs"]

MODERATION = Surface(
    name="moderate",
    adapter_slot="moderation_adapter",
    model_slot="moderation_model",
    suffix="_moderation",
    method="moderate",
    missing_reason="no_moderation_adapter",
    example="openai_moderation",
)
_FIELDS = frozenset({"model", "options", "metadata"})


@runtime_checkable
class ModerationAdapter(Protocol):
    """A moderation provider. ``moderate(request, call)`` checks the request and resolves the
    key when called, then returns the plan of one exchange whose value is the
    ``ModerationResponse`` (one result per input, in order)."""

    name: str
    max_batch_size: int

    def moderate(
        self, request: ModerationRequest, call: Any
    ) -> Generator[Effect, Any, ModerationResponse]:
        """Pre-flight now; return the plan of one attempt."""
        ...


def _part(value: Any) -> TextPart | ImagePart | None:
    if isinstance(value, str):
        return TextPart(value)
    if isinstance(value, TextPart | ImagePart):
        return value
    if isinstance(value, Image):
        return ImagePart(value)
    return None


def moderation_inputs(value: Any, errors: list[FieldError]) -> tuple[ModerationInput, ...]:
    """The inputs of a ``moderate`` call, each a tuple of parts; problems go to ``errors``."""
    single = _part(value)
    if single is not None:
        items: list[Any] = [value]
        paths: list[tuple[str | int, ...]] = [("input",)]
    elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        items = list(value)
        paths = [("input", index) for index in range(len(items))]
    else:
        errors.append((("input",), "not_an_input"))
        return ()
    found: list[ModerationInput] = []
    for item, path in zip(items, paths, strict=False):
        if _part(item) is not None:
            parts: list[Any] = [item]
        elif isinstance(item, list | tuple) and item:
            parts = list(item)
        else:
            errors.append((path, "not_an_input"))
            continue
        converted = []
        for index, raw in enumerate(parts):
            part = _part(raw)
            where = path if len(parts) == 1 and _part(item) is not None else (*path, index)
            if part is None:
                errors.append((where, "not_text_or_image"))
            elif isinstance(part, TextPart) and not part.text:
                errors.append((where, "empty"))
            else:
                converted.append(part)
        found.append(tuple(converted))
    return tuple(found)


def _groups(inputs: tuple[ModerationInput, ...], size: int) -> list[list[int]]:
    """Indices per request: runs of text-only inputs up to ``size``; an image input alone."""
    groups: list[list[int]] = []
    run: list[int] = []
    for index, parts in enumerate(inputs):
        if all(isinstance(part, TextPart) for part in parts) and len(parts) == 1:
            run.append(index)
            if len(run) == size:
                groups.append(run)
                run = []
            continue
        if run:
            groups.append(run)
            run = []
        groups.append([index])
    if run:
        groups.append(run)
    return groups


class _Job(SurfaceJob[ModerationResponse]):
    """One ``moderate`` call between its arguments and its response."""

    name = "moderate"

    def __init__(self, engine: Any, value: Any, opts: Mapping[str, Any]) -> None:
        fields, control, params = split_opts(opts, _FIELDS)
        self.surface = SurfaceCall.resolve(MODERATION, engine, fields.get("model"), control)
        self.control = control
        errors: list[FieldError] = []
        self.inputs = moderation_inputs(value, errors)
        self.input_count = len(self.inputs)
        extra = mapping_fields(fields, errors, params)
        if not self.inputs and not errors:
            errors.append((("input",), "empty"))
        if errors:
            raise ValidationError(
                "invalid_request", f"cannot moderate: {len(errors)} problem(s)", errors=errors
            )
        self.options = {**extra["options"], **params}
        self.metadata = extra["metadata"]
        size = getattr(self.surface.adapter, "max_batch_size", 32)
        self.groups = _groups(self.inputs, size if isinstance(size, int) and size > 0 else 32)

    def plans(self) -> list[Generator[Effect, Any, ModerationResponse]]:
        adapter = self.surface.adapter
        return [
            self.surface.plan(
                ModerationRequest(
                    inputs=tuple(self.inputs[i] for i in group),
                    model=self.surface.model,
                    options=self.options,
                    metadata=self.metadata,
                ),
                adapter.moderate,
            )
            for group in self.groups
        ]

    def combine(self, parts: list[ModerationResponse], span: telemetry.Span) -> ModerationResponse:
        results: list[ModerationResult] = []
        metadata: dict[str, Any] = dict(self.metadata)
        for group, part in zip(self.groups, parts, strict=False):
            if not isinstance(part, ModerationResponse) or len(part.results) != len(group):
                raise AdapterError(
                    "malformed_response",
                    f"moderation adapter {self.surface.adapter!r} answered {part!r:.120} "
                    f"for {len(group)} input(s)",
                    provider=getattr(self.surface.adapter, "name", None),
                )
            results.extend(part.results)
            for key, value in part.metadata.items():
                metadata.setdefault(key, value)
        metadata["requests"] = len(parts)
        model = next((part.model for part in parts if part.model), None) or self.surface.model
        response = ModerationResponse(tuple(results), model, metadata)
        span.stop_metadata.update(response=response, error=None, flagged=response.flagged)
        return response


def moderate(engine: Any, input: Any, **opts: Any) -> ModerationResponse:
    """Judge one input, or a list of inputs (one result each, in order)."""
    return _Job(engine, input, opts).run()


async def amoderate(engine: Any, input: Any, **opts: Any) -> ModerationResponse:
    """The async twin of ``moderate``."""
    return await _Job(engine, input, opts).arun()
