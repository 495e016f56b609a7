"""OpenAI audio: speech (``POST /audio/speech``, JSON in, audio bytes out, streamed as they are
made) and transcription (``POST /audio/transcriptions``, a multipart upload, JSON out).

Speech: ``input`` up to 4096 characters (checked before any key or byte), voice ``alloy`` unless
given, ``instructions`` only for models that take them (not ``tts-1`` / ``tts-1-hd``), ``speed``
0.25 to 4. The audio's MIME type is the answer's ``content-type``; the usage counts the input
characters (``extra["input_characters"]``), which is what the per-character models bill.

Transcription: ``whisper-1`` (and models this adapter does not know, as OpenAI-compatible servers
run them) answer ``verbose_json``: language, duration, segments and, with ``timestamps="word"``,
words (``timestamp_granularities[]`` is ``word`` and ``segment``: segments cost nothing more).
``gpt-4o-transcribe`` and ``gpt-4o-mini-transcribe`` answer ``json`` only, so asking them for
timestamps is ``AdapterError("unsupported_feature")`` before any I/O; their token usage is mapped
to ``Usage`` (audio tokens in ``extra["audio_input_tokens"]``). Uploads are at most 25 MB.
Whisper names the language in English (``"english"``); ``Transcription.language`` is its
ISO-639-1 code (``"en"``), the provider's word kept in ``metadata["provider_language"]``.

One attempt per call: the audio façade owns the retry loop.
"""

from __future__ import annotations

from .adapter import OpenAISpeech, OpenAITranscription
from .decode import transcription_usage
from .settings import (
    MAX_AUDIO_BYTES,
    MAX_SPEECH_CHARACTERS,
    speech_model_takes_instructions,
    transcription_model_has_timestamps,
)

__all__ = [
    "MAX_AUDIO_BYTES",
    "MAX_SPEECH_CHARACTERS",
    "OpenAISpeech",
    "OpenAITranscription",
    "speech_model_takes_instructions",
    "transcription_model_has_timestamps",
    "transcription_usage",
]
