"""Gemini transcription: ``generateContent`` with the audio inline and a prompt asking for a
transcript, answered as JSON against a response schema (``text``, ``language`` and, when asked,
``segments`` / ``words`` with start and end in seconds).

Gemini transcribes by following a prompt: the text is the model's reading, not guaranteed
verbatim, and its timestamps are the model's estimates. The answer is parsed by the Gemini chat
adapter's own decoder, so blocks, finish reasons, usage and errors mean what they mean for chat: a
safety stop is ``AdapterError("content_filter")``, an answer cut by the output limit or one that is
not the schema's JSON is ``malformed_response``. Usage is the token usage; the audio's tokens
(``promptTokensDetails`` of modality ``AUDIO``) are in ``extra["audio_input_tokens"]``.

Audio travels inline, and the whole request must stay under 20 MB, so uploads are at most 14 MiB;
the formats are WAV, MP3, AIFF, AAC, OGG and FLAC (others are ``unsupported_feature`` before any
I/O). ``prompt=`` adds context (names, spelling) to the instruction; ``language=`` says which
language is spoken.
"""

from __future__ import annotations

from .adapter import GeminiTranscription
from .request import transcription_schema
from .settings import INLINE_MAX_BYTES, WIRE_MIME_TYPES

__all__ = ["INLINE_MAX_BYTES", "WIRE_MIME_TYPES", "GeminiTranscription", "transcription_schema"]
