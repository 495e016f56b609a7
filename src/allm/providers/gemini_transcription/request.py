"""Building the ``generateContent`` body: the instruction, the audio inline, the schema."""

from __future__ import annotations

import base64
from typing import Any

from ...data.audio import TranscriptionRequest
from .settings import INSTRUCTION, SEGMENTS, WIRE_MIME_TYPES, WORDS

__all__ = ["build_body", "instruction", "transcription_schema"]


def _span_schema() -> dict[str, Any]:
    return {
        "type": "OBJECT",
        "properties": {
            "start": {"type": "NUMBER"},
            "end": {"type": "NUMBER"},
            "text": {"type": "STRING"},
        },
        "required": ["start", "end", "text"],
        "propertyOrdering": ["start", "end", "text"],
    }


def transcription_schema(timestamps: str | None) -> dict[str, Any]:
    """The ``responseSchema`` of the answer for the timestamps asked for."""
    properties: dict[str, Any] = {"text": {"type": "STRING"}, "language": {"type": "STRING"}}
    order = ["language", "text"]
    if timestamps is not None:
        properties["segments"] = {"type": "ARRAY", "items": _span_schema()}
        order.append("segments")
    if timestamps == "word":
        properties["words"] = {"type": "ARRAY", "items": _span_schema()}
        order.append("words")
    return {
        "type": "OBJECT",
        "properties": properties,
        "required": list(order),
        "propertyOrdering": order,
    }


def instruction(request: TranscriptionRequest) -> str:
    """The prompt sent with the audio."""
    text = INSTRUCTION
    if request.timestamps is not None:
        text += SEGMENTS
    if request.timestamps == "word":
        text += WORDS
    if request.language:
        text += f" The audio is in the language with ISO-639-1 code {request.language!r}."
    if request.prompt:
        text += f" Context that may help (names, spelling): {request.prompt}"
    return text


def build_body(request: TranscriptionRequest) -> dict[str, Any]:
    """The ``generateContent`` body (``options`` merged into ``generationConfig``)."""
    audio = request.audio
    parts = [
        {"text": instruction(request)},
        {
            "inlineData": {
                "mimeType": WIRE_MIME_TYPES[audio.mime_type],
                "data": base64.b64encode(audio.data).decode("ascii"),
            }
        },
    ]
    config: dict[str, Any] = {
        "responseMimeType": "application/json",
        "responseSchema": transcription_schema(request.timestamps),
    }
    if request.temperature is not None:
        config["temperature"] = request.temperature
    config.update(request.options)
    return {"contents": [{"role": "user", "parts": parts}], "generationConfig": config}
