"""Audio: speech synthesis and transcription through an engine's ``speech_adapter`` and
``transcription_adapter`` (see ``docs/design/audio.md``).

``synthesize`` / ``asynthesize`` return a ``SpeechResponse``; ``stream_synthesize`` /
``astream_synthesize`` a stream of ``bytes`` chunks; ``transcribe`` / ``atranscribe`` a
``Transcription``.
"""

from __future__ import annotations

from .speech import (
    AsyncSpeechStream,
    SpeechAdapter,
    SpeechStream,
    astream_synthesize,
    asynthesize,
    speech_errors,
    stream_synthesize,
    synthesize,
)
from .transcription import TranscriptionAdapter, atranscribe, transcribe, transcription_errors

__all__ = [
    "AsyncSpeechStream",
    "SpeechAdapter",
    "SpeechStream",
    "TranscriptionAdapter",
    "astream_synthesize",
    "asynthesize",
    "atranscribe",
    "speech_errors",
    "stream_synthesize",
    "synthesize",
    "transcribe",
    "transcription_errors",
]
