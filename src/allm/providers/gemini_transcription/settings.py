"""Gemini transcription constants: inline size, the audio types Gemini reads, the prompt."""

from __future__ import annotations

__all__ = ["DEFAULT_MODEL", "DEFAULT_TIMEOUT", "INLINE_MAX_BYTES", "WIRE_MIME_TYPES"]

DEFAULT_MODEL = "gemini-2.5-flash"
DEFAULT_TIMEOUT = 300.0
INLINE_MAX_BYTES = 14 * 1024 * 1024  # base64 of it, and the prompt, stay under the 20 MB request
# allm's audio MIME types -> the ones Gemini documents for audio input
WIRE_MIME_TYPES = {
    "audio/wav": "audio/wav",
    "audio/mpeg": "audio/mp3",
    "audio/aiff": "audio/aiff",
    "audio/aac": "audio/aac",
    "audio/ogg": "audio/ogg",
    "audio/flac": "audio/flac",
}
INSTRUCTION = (
    "Transcribe the speech in this audio exactly as spoken, without summarizing, translating or "
    "correcting it. Put the whole transcript in `text` and the ISO-639-1 code of the spoken "
    "language in `language`."
)
SEGMENTS = (
    " Split the transcript into `segments` at sentence or phrase boundaries; give each its `text` "
    "and its `start` and `end` in seconds from the beginning of the audio."
)
WORDS = " Also list every word in `words`, each with its `text`, `start` and `end` in seconds."
