"""Audio values: speech synthesis and transcription requests and their results."""

from __future__ import annotations

import io
import os
import struct
import wave
from dataclasses import dataclass, field
from typing import Any, Literal

from .response import Usage

__all__ = [
    "AUDIO_MIME_TYPES",
    "SPEECH_FORMATS",
    "Audio",
    "SpeechRequest",
    "SpeechResponse",
    "TranscriptSpan",
    "Transcription",
    "TranscriptionRequest",
    "sniff_audio_mime",
    "wav_duration_ms",
]

# Speech output formats and the MIME type each one is served as.
SPEECH_FORMATS: dict[str, str] = {
    "mp3": "audio/mpeg",
    "opus": "audio/opus",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}
# File extensions and the audio MIME type each one names (what a transcription upload sends).
AUDIO_MIME_TYPES: dict[str, str] = {
    "mp3": "audio/mpeg",
    "mpga": "audio/mpeg",
    "mpeg": "audio/mpeg",
    "mp4": "audio/mp4",
    "m4a": "audio/mp4",
    "wav": "audio/wav",
    "webm": "audio/webm",
    "ogg": "audio/ogg",
    "oga": "audio/ogg",
    "opus": "audio/opus",
    "flac": "audio/flac",
    "aac": "audio/aac",
    "aiff": "audio/aiff",
    "aif": "audio/aiff",
    "pcm": "audio/pcm",
}
_ALIASES = {"audio/mp3": "audio/mpeg", "audio/x-wav": "audio/wav", "audio/wave": "audio/wav"}

Timestamps = Literal["segment", "word"]


def _normal_mime(mime_type: str) -> str:
    base = mime_type.split(";", 1)[0].strip().lower()
    return _ALIASES.get(base, base)


@dataclass(frozen=True, slots=True)
class Audio:
    """Audio bytes with their MIME type (``audio/mpeg``, ``audio/wav``, ...) and, when known,
    their length in milliseconds."""

    data: bytes
    mime_type: str
    duration_ms: int | None = None

    def __repr__(self) -> str:
        shown = "" if self.duration_ms is None else f", duration_ms={self.duration_ms}"
        return f"Audio(<{len(self.data)} bytes>, {self.mime_type!r}{shown})"

    @classmethod
    def from_bytes(cls, data: bytes, mime_type: str, duration_ms: int | None = None) -> Audio:
        """Audio from bytes (the MIME type's aliases, ``audio/mp3`` say, are normalized)."""
        return cls(bytes(data), _normal_mime(mime_type), duration_ms)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], mime_type: str | None = None) -> Audio:
        """Audio read from a file; the MIME type comes from the extension unless given (an
        unknown extension gives ``application/octet-stream``, which validation reports)."""
        with open(path, "rb") as file:
            data = file.read()
        if mime_type is None:
            extension = os.path.splitext(os.fspath(path))[1].lstrip(".").lower()
            mime_type = AUDIO_MIME_TYPES.get(extension, "application/octet-stream")
        return cls(data, _normal_mime(mime_type))

    @property
    def format(self) -> str | None:
        """The short name of the MIME type (``"mp3"``, ``"wav"``, ...), or None."""
        mime = _normal_mime(self.mime_type)
        for name, known in SPEECH_FORMATS.items():
            if known == mime:
                return name
        for name, known in AUDIO_MIME_TYPES.items():
            if known == mime:
                return name
        return None

    @property
    def extension(self) -> str:
        """A file extension for this audio (``"bin"`` for an unknown type)."""
        return self.format or "bin"


@dataclass(frozen=True, slots=True, kw_only=True)
class SpeechRequest:
    """One speech synthesis: ``text`` in the ``voice`` of ``model`` as ``format`` audio.

    ``instructions`` steer the delivery (models that take them); ``speed`` is a multiplier;
    ``options`` are provider parameters sent as they are.
    """

    text: str
    model: str | None = None
    voice: str | None = None
    format: str = "mp3"
    instructions: str | None = None
    speed: float | None = None
    options: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SpeechResponse:
    """The audio a speech call produced. ``metadata`` holds the call's ``request_id`` and the
    provider's own ids; ``usage`` counts characters or tokens as the provider bills them."""

    audio: Audio
    model: str | None = None
    usage: Usage = field(default_factory=Usage)
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TranscriptSpan:
    """A stretch of a transcript: a segment or a word, with its times in milliseconds and, when
    the provider reports one, its average log probability."""

    start_ms: int
    end_ms: int
    text: str
    logprob: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TranscriptionRequest:
    """One transcription of ``audio``. ``language`` (ISO-639-1) and ``prompt`` guide the model;
    ``timestamps`` asks for ``"segment"`` or ``"word"`` times (``None``: text only)."""

    audio: Audio
    model: str | None = None
    language: str | None = None
    prompt: str | None = None
    timestamps: Timestamps | None = None
    temperature: float | None = None
    options: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Transcription:
    """What was said: the text, the language and length when known, and the timed spans asked
    for (``segments`` with ``timestamps="segment"``, ``words`` with ``"word"``)."""

    text: str = ""
    language: str | None = None
    duration_ms: int | None = None
    segments: tuple[TranscriptSpan, ...] = ()
    words: tuple[TranscriptSpan, ...] = ()
    usage: Usage = field(default_factory=Usage)
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("segments", "words"):
            value = getattr(self, name)
            if not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(value))


def sniff_audio_mime(data: bytes) -> str | None:
    """The MIME type the bytes' header names (WAV, MP3, FLAC, Ogg, MP4/M4A, WebM, AIFF), or None."""
    if data.startswith(b"RIFF") and data[8:12] == b"WAVE":
        return "audio/wav"
    if data.startswith(b"ID3") or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    if data.startswith(b"fLaC"):
        return "audio/flac"
    if data.startswith(b"OggS"):
        return "audio/ogg"
    if data[4:8] == b"ftyp":
        return "audio/mp4"
    if data.startswith(b"\x1a\x45\xdf\xa3"):
        return "audio/webm"
    if data.startswith(b"FORM") and data[8:12] in (b"AIFF", b"AIFC"):
        return "audio/aiff"
    return None


def wav_duration_ms(data: bytes) -> int | None:
    """The length of a WAV file in milliseconds, or None when ``data`` is not one."""
    if not data.startswith(b"RIFF") or data[8:12] != b"WAVE":
        return None
    try:
        with wave.open(io.BytesIO(data), "rb") as reader:
            rate = reader.getframerate()
            return round(reader.getnframes() * 1000 / rate) if rate else None
    except (wave.Error, EOFError, struct.error):
        return None
