"""What speech and transcription share: their surfaces, the span around a call, the catalog gate
and the costs of audio usage."""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from .. import telemetry
from ..data.models import ModelRef
from ..data.response import Usage
from ..effects import Effect
from ..engine import new_id
from ..errors import AllmError, FieldError, ValidationError
from ..execution.surface import Surface, SurfaceCall, split_opts

__all__ = [
    "SPEECH",
    "TRANSCRIPTION",
    "Job",
    "shape_errors",
    "audio_costs",
    "check_capability",
    "resolve",
    "run_async",
    "run_sync",
    "split",
]

R = TypeVar("R")

SPEECH = Surface(
    name="synthesize",
    adapter_slot="speech_adapter",
    model_slot="speech_model",
    suffix="_speech",
    method="synthesize",
    missing_reason="no_speech_adapter",
    example="openai_speech",
)
TRANSCRIPTION = Surface(
    name="transcribe",
    adapter_slot="transcription_adapter",
    model_slot="transcription_model",
    suffix="_transcription",
    method="transcribe",
    missing_reason="no_transcription_adapter",
    example="openai_transcription",
)


@dataclass
class Job:
    """One audio call between its arguments and its result: the call's input, its request
    fields, call control and provider parameters, and once resolved, the adapter's call."""

    engine: Any
    input: Any
    fields: dict[str, Any]
    control: dict[str, Any]
    params: dict[str, Any]
    resolved: SurfaceCall | None = None

    def options(self) -> Any:
        """The request's ``options``: the ``options=`` keyword with the provider parameters."""
        options = self.fields.get("options", {})
        if self.params and isinstance(options, Mapping):
            return {**options, **self.params}
        return options


def shape_errors(request: Any, strings: tuple[str, ...]) -> list[FieldError]:
    """Optional fields that must be non-empty strings, and the ``options`` and ``metadata``
    mappings every audio request has."""
    errors: list[FieldError] = []
    for name in strings:
        value = getattr(request, name)
        if value is not None and (not isinstance(value, str) or not value):
            errors.append(((name,), "invalid_type"))
    for name in ("options", "metadata"):
        if not isinstance(getattr(request, name), Mapping):
            errors.append(((name,), "not_a_map"))
    return errors


def split(
    opts: Mapping[str, Any], fields: frozenset[str]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """``(request fields, call control, provider parameters)``, a request id always in control."""
    found, control, params = split_opts(opts, fields)
    if control.get("request_id") is None:
        control["request_id"] = new_id()
    return found, control, params


def span_metadata(
    engine: Any, surface: Surface, model: Any, control: Mapping[str, Any], **extra: Any
) -> dict[str, Any]:
    """What a span starts with: the caller's ``telemetry_metadata``, then the call's identity."""
    given = control.get("telemetry_metadata")
    base = dict(given) if isinstance(given, Mapping) else {}
    if model is None:
        model = getattr(engine, surface.model_slot, None)
    base.update(request_id=control.get("request_id"), engine=engine, model=model, **extra)
    return base


def resolve(
    surface: Surface, engine: Any, model: Any, control: Mapping[str, Any], span: telemetry.Span
) -> SurfaceCall:
    """The engine, the adapter, the model and the ``Call``; the provider goes to the span."""
    resolved = SurfaceCall.resolve(surface, engine, model, control)
    span.annotate(provider=getattr(resolved.adapter, "name", None))
    return resolved


def check_capability(ref: ModelRef | None, capability: str, what: str) -> None:
    """``ValidationError("unsupported_capability")`` when the catalog says the model cannot."""
    if ref is not None and ref.capabilities.get(capability) is False:
        raise ValidationError(
            "unsupported_capability",
            f"{ref} cannot {what}",
            errors=[(("model",), f"{capability}_disabled")],
            metadata={"model": str(ref)},
        )


def _price(pricing: Mapping[str, Any], key: str) -> float | None:
    value = pricing.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def audio_costs(usage: Usage, ref: ModelRef | None, *, output_price: str = "output") -> Usage:
    """``usage`` with costs from the model's prices; costs already set are kept.

    Input: characters at ``characters`` (per million), seconds of audio at ``audio_minute`` (per
    minute), audio tokens (``extra["audio_input_tokens"]``) at ``audio_input`` and the other input
    tokens at ``input`` (per million). Output tokens at ``output_price`` (``"audio_output"`` for
    speech). The total is set when the input is priced and the output is priced or not reported.
    """
    pricing = ref.pricing if ref is not None else None
    if not pricing:
        return usage
    extra = usage.extra
    input_cost = usage.input_cost
    if input_cost is None:
        parts: list[float] = []
        characters, seconds = extra.get("input_characters"), extra.get("audio_seconds")
        per_character, per_minute = _price(pricing, "characters"), _price(pricing, "audio_minute")
        if isinstance(characters, int) and per_character is not None:
            parts.append(characters * per_character / 1_000_000)
        if isinstance(seconds, int | float) and per_minute is not None:
            parts.append(seconds / 60 * per_minute)
        if usage.input_tokens is not None:
            audio_tokens = extra.get("audio_input_tokens")
            audio = audio_tokens if isinstance(audio_tokens, int) else 0
            per_audio, per_text = _price(pricing, "audio_input"), _price(pricing, "input")
            if audio and per_audio is not None:
                parts.append(audio * per_audio / 1_000_000)
            text = usage.input_tokens - audio
            if text > 0 and per_text is not None:
                parts.append(text * per_text / 1_000_000)
        input_cost = sum(parts) if parts else None
    output_cost = usage.output_cost
    per_output = _price(pricing, output_price)
    if output_cost is None and usage.output_tokens is not None and per_output is not None:
        output_cost = usage.output_tokens * per_output / 1_000_000
    total = usage.total_cost
    if total is None and input_cost is not None:
        if output_cost is not None:
            total = input_cost + output_cost
        elif usage.output_tokens is None:
            total = input_cost
    return replace(usage, input_cost=input_cost, output_cost=output_cost, total_cost=total)


def run_sync(
    name: str,
    metadata: Mapping[str, Any],
    plan_of: Callable[[telemetry.Span], Generator[Effect, Any, Any]],
    complete: Callable[[Any, telemetry.Span], R],
) -> R:
    """One call inside its span: pre-flight and the plan, then ``complete``. An allm error ends
    the span with ``error`` in its stop metadata and is raised after it (as image calls do)."""
    from ..execution import _sync

    error: AllmError | None = None
    with telemetry.span(name, metadata) as span:
        try:
            result = complete(_sync.run(plan_of(span)), span)
        except AllmError as exc:
            span.stop_metadata.update(response=None, usage=None, error=exc)
            error = exc
    if error is not None:
        raise error
    return result


async def run_async(
    name: str,
    metadata: Mapping[str, Any],
    plan_of: Callable[[telemetry.Span], Generator[Effect, Any, Any]],
    complete: Callable[[Any, telemetry.Span], R],
) -> R:
    """The async twin of ``run_sync``."""
    from ..execution import _async

    error: AllmError | None = None
    with telemetry.span(name, metadata) as span:
        try:
            result = complete(await _async.run(plan_of(span)), span)
        except AllmError as exc:
            span.stop_metadata.update(response=None, usage=None, error=exc)
            error = exc
    if error is not None:
        raise error
    return result
