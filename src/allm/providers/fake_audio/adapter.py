"""FakeSpeech and FakeTranscription (see the package doc)."""

from __future__ import annotations

import hashlib
from collections.abc import Generator
from typing import Any, ClassVar

from ...adapters import Call
from ...data.audio import (
    SPEECH_FORMATS,
    Audio,
    SpeechRequest,
    SpeechResponse,
    Transcription,
    TranscriptionRequest,
    TranscriptSpan,
    wav_duration_ms,
)
from ...data.response import Usage
from ...effects import Effect
from ...errors import AdapterError, ConfigurationError
from .script import MS_PER_CHARACTER, Scripted, digest, tone

__all__ = ["FakeSpeech", "FakeTranscription"]


class FakeSpeech(Scripted):
    """The scripted (or deterministic) speech adapter."""

    script_option: ClassVar[str] = "speech_script"

    def synthesize(
        self, request: SpeechRequest, call: Call
    ) -> Generator[Effect, Any, SpeechResponse]:
        """This call's answer, decided now (a failing entry raises when the plan runs)."""
        outcome = self._answer(request, call)
        return self._plan(outcome)

    def stream_synthesize(
        self, request: SpeechRequest, call: Call
    ) -> Generator[Effect | bytes, Any, SpeechResponse]:
        """The same answer, cut into ``chunk_size`` chunks."""
        outcome = self._answer(request, call)
        return self._stream_plan(outcome, call)

    @staticmethod
    def _plan(outcome: SpeechResponse | AdapterError) -> Generator[Effect, Any, SpeechResponse]:
        yield from ()
        if isinstance(outcome, AdapterError):
            raise outcome
        return outcome

    def _stream_plan(
        self, outcome: SpeechResponse | AdapterError, call: Call
    ) -> Generator[Effect | bytes, Any, SpeechResponse]:
        if isinstance(outcome, AdapterError):
            raise outcome
        yield from self._chunks(outcome.audio.data, call)
        return SpeechResponse(
            Audio(b"", outcome.audio.mime_type, outcome.audio.duration_ms),
            outcome.model,
            outcome.usage,
            outcome.metadata,
        )

    def _answer(self, request: SpeechRequest, call: Call) -> SpeechResponse | AdapterError:
        self._record(request, call)
        scripted, entry = self._next(call)
        if isinstance(entry, AdapterError):
            return entry
        usage = Usage(extra={"input_characters": len(request.text)})
        mime = SPEECH_FORMATS.get(request.format, "application/octet-stream")
        if not scripted:
            return SpeechResponse(self.default_audio(request), request.model, usage)
        if isinstance(entry, SpeechResponse):
            return entry
        if isinstance(entry, Audio):
            return SpeechResponse(entry, request.model, usage)
        if isinstance(entry, bytes | bytearray):
            return SpeechResponse(Audio(bytes(entry), mime), request.model, usage)
        raise ConfigurationError(
            "invalid_script",
            problems=[
                f"a speech script entry is a SpeechResponse, Audio, bytes or error: {entry!r}"
            ],
        )

    @staticmethod
    def default_audio(request: SpeechRequest) -> Audio:
        """The deterministic answer for ``request`` (see the module doc)."""
        seed = digest(request.text, request.voice, request.model)
        duration = max(len(request.text), 1) * MS_PER_CHARACTER
        if request.format in ("wav", "pcm"):
            data = tone(duration, 220.0 + seed[0] * 2)
            if request.format == "pcm":
                data = data[44:]  # the canonical 44-byte header: raw samples remain
            return Audio(data, SPEECH_FORMATS[request.format], duration)
        body = (seed * (1 + len(request.text) // 8))[: 64 + 4 * len(request.text)]
        marker = f"allm-fake-speech:{request.format}:".encode()
        return Audio(marker + body, SPEECH_FORMATS.get(request.format, "application/octet-stream"))


class FakeTranscription(Scripted):
    """The scripted (or deterministic) transcription adapter."""

    script_option: ClassVar[str] = "transcription_script"

    def max_audio_bytes(self) -> int:
        """The largest upload accepted (as OpenAI's 25 MB)."""
        return 25 * 1024 * 1024

    def transcribe(
        self, request: TranscriptionRequest, call: Call
    ) -> Generator[Effect, Any, Transcription]:
        """This call's answer, decided now (a failing entry raises when the plan runs)."""
        self._record(request, call)
        scripted, entry = self._next(call)
        if isinstance(entry, AdapterError):
            outcome: Transcription | AdapterError = entry
        elif not scripted:
            outcome = self.default_transcription(request)
        elif isinstance(entry, Transcription):
            outcome = entry
        elif isinstance(entry, str):
            outcome = Transcription(entry, request.language, request.audio.duration_ms)
        else:
            raise ConfigurationError(
                "invalid_script",
                problems=[
                    f"a transcription script entry is a Transcription, str or error: {entry!r}"
                ],
            )
        return self._plan(outcome)

    @staticmethod
    def _plan(outcome: Transcription | AdapterError) -> Generator[Effect, Any, Transcription]:
        yield from ()
        if isinstance(outcome, AdapterError):
            raise outcome
        return outcome

    @staticmethod
    def default_transcription(request: TranscriptionRequest) -> Transcription:
        """The deterministic answer for ``request`` (see the module doc)."""
        data = request.audio.data
        duration = request.audio.duration_ms or wav_duration_ms(data)
        text = f"fake transcript of {len(data)} bytes"
        words = text.split()
        spans: list[TranscriptSpan] = []
        if request.timestamps is not None:
            length = duration or 1000
            step = length / len(words)
            spans = [
                TranscriptSpan(round(index * step), round((index + 1) * step), word)
                for index, word in enumerate(words)
            ]
        segments = (TranscriptSpan(0, duration or 1000, text),) if request.timestamps else ()
        return Transcription(
            text=text,
            language=request.language or "en",
            duration_ms=duration,
            segments=segments,
            words=tuple(spans) if request.timestamps == "word" else (),
            usage=Usage(extra={"audio_seconds": (duration or 0) / 1000}),
            metadata={"sha256": hashlib.sha256(data).hexdigest()[:16]},
        )
