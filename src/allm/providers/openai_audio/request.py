"""Building OpenAI audio requests: the speech JSON body and the transcription form fields."""

from __future__ import annotations

from typing import Any

from ...adapters.multipart import Upload
from ...data.audio import SpeechRequest, TranscriptionRequest
from .settings import (
    DEFAULT_SPEECH_MODEL,
    DEFAULT_TRANSCRIPTION_MODEL,
    DEFAULT_VOICE,
    transcription_model_has_timestamps,
)

__all__ = ["speech_body", "transcription_fields", "transcription_upload"]


def speech_body(request: SpeechRequest) -> dict[str, Any]:
    """The ``/audio/speech`` body (``options`` merged last)."""
    body: dict[str, Any] = {
        "model": request.model or DEFAULT_SPEECH_MODEL,
        "input": request.text,
        "voice": request.voice or DEFAULT_VOICE,
        "response_format": request.format,
    }
    if request.instructions:
        body["instructions"] = request.instructions
    if request.speed is not None:
        body["speed"] = request.speed
    body.update(request.options)
    return body


def transcription_fields(request: TranscriptionRequest) -> list[tuple[str, Any]]:
    """The form fields, in order (``options`` last; a list value repeats as ``name[]``)."""
    model = request.model or DEFAULT_TRANSCRIPTION_MODEL
    verbose = transcription_model_has_timestamps(model)
    fields: list[tuple[str, Any]] = [
        ("model", model),
        ("response_format", "verbose_json" if verbose else "json"),
    ]
    for name in ("language", "prompt", "temperature"):
        value = getattr(request, name)
        if value is not None:
            fields.append((name, value))
    if request.timestamps == "word":  # segments cost nothing more: ask for both
        fields += [("timestamp_granularities[]", "word"), ("timestamp_granularities[]", "segment")]
    elif request.timestamps == "segment":
        fields.append(("timestamp_granularities[]", "segment"))
    for name, value in request.options.items():
        if isinstance(value, list | tuple):
            key = name if name.endswith("[]") else name + "[]"
            fields.extend((key, item) for item in value)
        else:
            fields.append((name, value))
    return fields


def transcription_upload(request: TranscriptionRequest) -> Upload:
    """The file part: the audio with its MIME type and a name of its extension."""
    audio = request.audio
    return Upload("file", f"audio.{audio.extension}", audio.mime_type, audio.data)
