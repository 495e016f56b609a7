"""Transcription: ``transcribe`` and ``atranscribe``.

Every call runs inside a ``transcribe`` telemetry span, in this order: the engine's
``transcription_adapter`` (else a ``"provider:id"`` ``transcription_model`` picks one; else
``EngineError("no_transcription_adapter")``); the model (call ``model=`` >
``engine.transcription_model``); the audio (an ``Audio``, bytes whose header names the format, or
a path), checked for readability, then size (the adapter's ``max_audio_bytes()``), then format,
with the request's other fields (``ValidationError("invalid_transcription_request")`` listing
every problem); the catalog (``transcription: false``); the adapter's own checks, then its key;
then the plan under the retry policy. A failure raises an ``AdapterError`` once the provider was
asked.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol, runtime_checkable

from .. import telemetry
from ..adapters import Call
from ..data.audio import (
    AUDIO_MIME_TYPES,
    Audio,
    Transcription,
    TranscriptionRequest,
    sniff_audio_mime,
    wav_duration_ms,
)
from ..effects import Effect
from ..errors import AdapterError, FieldError, ValidationError
from ._common import (
    TRANSCRIPTION,
    Job,
    audio_costs,
    check_capability,
    resolve,
    run_async,
    run_sync,
    shape_errors,
    span_metadata,
    split,
)

__all__ = [
    "TIMESTAMPS",
    "TranscriptionAdapter",
    "atranscribe",
    "audio_of",
    "transcribe",
    "transcription_errors",
]

TIMESTAMPS = (None, "segment", "word")
DEFAULT_MAX_AUDIO_BYTES = 25 * 1024 * 1024
_FIELDS = frozenset(
    {"model", "language", "prompt", "timestamps", "temperature", "options", "metadata"}
)
_UPLOAD_TYPES = frozenset(AUDIO_MIME_TYPES.values()) | {"video/mp4", "video/webm", "video/mpeg"}


@runtime_checkable
class TranscriptionAdapter(Protocol):
    """A transcription provider. ``transcribe(request, call)`` runs its pre-flight when called,
    then returns a generator of effects whose return value is the ``Transcription`` (or which
    raises the ``AdapterError`` it ended with). ``max_audio_bytes()`` (optional) is the largest
    upload it takes. One attempt per call."""

    name: str

    def transcribe(
        self, request: TranscriptionRequest, call: Call
    ) -> Generator[Effect, Any, Transcription]:
        """Pre-flight now; return the plan of one attempt."""
        ...


def audio_of(value: Any) -> Audio | str:
    """An ``Audio`` from an ``Audio``, bytes or a path; else the problem's name."""
    if isinstance(value, Audio):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        mime = sniff_audio_mime(data)
        return "unknown_audio_format" if mime is None and data else Audio(data, mime or "")
    if isinstance(value, str | os.PathLike):
        try:
            return Audio.from_file(value)
        except OSError:
            return "unreadable_audio"
    return "invalid_type"


def transcription_errors(request: TranscriptionRequest, max_bytes: int) -> list[FieldError]:
    """Every problem with a transcription request: the audio (size, then format), then fields."""
    errors: list[FieldError] = []
    audio = request.audio
    if not audio.data:
        errors.append((("audio",), "empty_audio"))
    elif len(audio.data) > max_bytes:
        errors.append((("audio",), "audio_too_large"))
    elif audio.mime_type.split(";")[0].strip().lower() not in _UPLOAD_TYPES:
        errors.append((("audio", "mime_type"), "unsupported_audio_format"))
    if request.timestamps not in TIMESTAMPS:
        errors.append((("timestamps",), "invalid_value"))
    temperature = request.temperature
    if temperature is not None and (
        isinstance(temperature, bool) or not isinstance(temperature, int | float)
    ):
        errors.append((("temperature",), "invalid_type"))
    return errors + shape_errors(request, ("language", "prompt", "model"))


@dataclass
class _Job(Job):
    """One transcription between its arguments and its result."""

    request: TranscriptionRequest | None = None

    @classmethod
    def create(cls, engine: Any, audio: Any, opts: Mapping[str, Any]) -> _Job:
        fields, control, params = split(opts, _FIELDS)
        return cls(engine, audio, fields, control, params)

    def plan(self, span: telemetry.Span) -> Generator[Effect, Any, Transcription]:
        resolved = resolve(TRANSCRIPTION, self.engine, self.fields.get("model"), self.control, span)
        adapter = resolved.adapter
        audio = audio_of(self.input)
        errors: list[FieldError] = []
        if isinstance(audio, str):
            errors.append((("audio",), audio))
            audio = Audio(b"\x00", "application/octet-stream")  # so the other fields are checked
        elif audio.duration_ms is None and audio.mime_type == "audio/wav":
            audio = replace(audio, duration_ms=wav_duration_ms(audio.data))
        request = TranscriptionRequest(
            audio=audio,
            model=resolved.model,
            language=self.fields.get("language"),
            prompt=self.fields.get("prompt"),
            timestamps=self.fields.get("timestamps"),
            temperature=self.fields.get("temperature"),
            options=self.options(),
            metadata=self.fields.get("metadata", {}),
        )
        limit = getattr(adapter, "max_audio_bytes", None)
        max_bytes = limit() if callable(limit) else DEFAULT_MAX_AUDIO_BYTES
        found = transcription_errors(request, max_bytes)
        if errors:  # the unreadable audio's own problem replaces the placeholder's
            found = [error for error in found if error[0][:1] != ("audio",)]
        errors.extend(found)
        if errors:
            raise ValidationError("invalid_transcription_request", errors=errors)
        ref = resolved.model_ref
        check_capability(ref, "transcription", "transcribe audio")
        if request.timestamps and ref is not None and ref.capabilities.get("timestamps") is False:
            raise ValidationError(
                "unsupported_capability",
                f"{ref} gives no timestamps",
                errors=[(("timestamps",), "timestamps_disabled")],
                metadata={"model": str(ref)},
            )
        self.resolved, self.request = resolved, request
        return resolved.plan(request, adapter.transcribe)

    def complete(self, response: Any, span: telemetry.Span) -> Transcription:
        resolved, request = self.resolved, self.request
        assert resolved is not None and request is not None
        if not isinstance(response, Transcription):
            raise AdapterError(
                "malformed_response",
                f"transcription adapter {resolved.adapter!r} returned "
                f"{type(response).__name__}, not a Transcription",
                provider=getattr(resolved.adapter, "name", None),
                request_id=resolved.call.request_id,
            )
        completed = replace(
            response,
            usage=audio_costs(response.usage, resolved.model_ref),
            metadata={
                **request.metadata,
                **response.metadata,
                "request_id": resolved.call.request_id,
                "model": response.metadata.get("model") or request.model,
            },
        )
        span.stop_metadata.update(
            response=completed,
            usage=completed.usage,
            error=None,
            duration_ms=completed.duration_ms,
        )
        return completed


def transcribe(engine: Any, audio: Any, **opts: Any) -> Transcription:
    """What is said in ``audio`` (an ``Audio``, bytes or a path). Keywords: ``model``,
    ``language``, ``prompt``, ``timestamps`` (``"segment"``, ``"word"`` or None),
    ``temperature``, ``options``, ``metadata``, call control (``request_id``, ``api_key``,
    ``retry``, ``adapter_opts``, transport settings); anything else is a provider parameter."""
    job = _Job.create(engine, audio, opts)
    metadata = span_metadata(engine, TRANSCRIPTION, job.fields.get("model"), job.control)
    return run_sync("transcribe", metadata, job.plan, job.complete)


async def atranscribe(engine: Any, audio: Any, **opts: Any) -> Transcription:
    """The async twin of ``transcribe``."""
    job = _Job.create(engine, audio, opts)
    metadata = span_metadata(engine, TRANSCRIPTION, job.fields.get("model"), job.control)
    return await run_async("transcribe", metadata, job.plan, job.complete)
