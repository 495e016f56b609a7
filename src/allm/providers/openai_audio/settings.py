"""OpenAI audio constants and per-model rules, checked before any key or byte."""

from __future__ import annotations

__all__ = [
    "MAX_AUDIO_BYTES",
    "MAX_SPEECH_CHARACTERS",
    "SPEECH_TIMEOUT",
    "TRANSCRIPTION_TIMEOUT",
    "speech_model_takes_instructions",
    "transcription_model_has_timestamps",
]

MAX_SPEECH_CHARACTERS = 4096
MAX_AUDIO_BYTES = 25 * 1024 * 1024
SPEECH_TIMEOUT = 120.0
TRANSCRIPTION_TIMEOUT = 300.0  # a long recording takes minutes
DEFAULT_SPEECH_MODEL = "gpt-4o-mini-tts"
DEFAULT_VOICE = "alloy"
DEFAULT_TRANSCRIPTION_MODEL = "gpt-4o-mini-transcribe"
_NO_INSTRUCTIONS = ("tts-1", "tts-1-hd")


def speech_model_takes_instructions(model: str | None) -> bool:
    """Whether ``model`` accepts ``instructions`` (every model but ``tts-1`` / ``tts-1-hd``)."""
    return not (model and any(model == m or model.startswith(m + "-") for m in _NO_INSTRUCTIONS))


def transcription_model_has_timestamps(model: str | None) -> bool:
    """Whether ``model`` answers ``verbose_json`` (the ``gpt-4o*-transcribe`` models do not)."""
    return not (model and model.startswith("gpt-4o") and "transcribe" in model)
