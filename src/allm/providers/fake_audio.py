"""FakeSpeech and FakeTranscription: deterministic, scripted audio adapters for tests and examples.

With no script they are deterministic: the same input gives the same output. ``FakeSpeech``
answers a ``wav`` or ``pcm`` request with a real tone (16-bit mono, 24 kHz, 40 ms per character
of text, its pitch taken from the text and the voice) and any other format with placeholder bytes
derived from the same inputs (labelled with the format's MIME type, not decodable).
``FakeTranscription`` answers ``"fake transcript of <n> bytes"`` with the audio's length when it
is a WAV file, and evenly spaced segments and words when timestamps are asked for.

A script, in ``adapter_opts["speech_script"]`` / ``["transcription_script"]`` (else
``adapter_opts["script"]``), replays one entry per call::

    SpeechResponse(...) | Audio(...) | b"bytes"        FakeSpeech: this call's audio
    Transcription(...) | "text"                        FakeTranscription: this call's result
    error("rate_limited", retry_after_ms=0)            this call fails (allm.providers.fake.error)
    ("error", "timeout")                               the same, as a tuple

A call past the end of a script fails with ``AdapterError("no_scripted_response")``. Each engine
has its own cursor (``audio_script_cursor``, a ``ScriptCursor``, shares one). ``audio_record``
(a list or a callable) receives ``(request, call)`` on every call. ``chunk_size`` (bytes, default
1024) cuts a streamed answer into chunks.
"""

from __future__ import annotations

import hashlib
import io
import math
import struct
import wave
from collections.abc import Generator, Sequence
from typing import Any, ClassVar

from ..adapters import Call
from ..data.audio import (
    SPEECH_FORMATS,
    Audio,
    SpeechRequest,
    SpeechResponse,
    Transcription,
    TranscriptionRequest,
    TranscriptSpan,
    wav_duration_ms,
)
from ..data.response import Usage
from ..effects import Effect
from ..errors import AdapterError, ConfigurationError
from .fake import CursorBook, Error, ScriptCursor, error

__all__ = [
    "FakeSpeech",
    "FakeTranscription",
    "ScriptCursor",
    "error",
    "tone",
    "wav_duration_ms",
]

SAMPLE_RATE = 24_000
MS_PER_CHARACTER = 40
DEFAULT_CHUNK = 1024


def tone(duration_ms: int, frequency: float = 440.0, sample_rate: int = SAMPLE_RATE) -> bytes:
    """A WAV file (16-bit mono PCM) holding a sine tone: for scripts, tests and examples."""
    frames = max(int(sample_rate * duration_ms / 1000), 0)
    samples = (
        round(8000 * math.sin(2 * math.pi * frequency * index / sample_rate))
        for index in range(frames)
    )
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(sample_rate)
        writer.writeframes(struct.pack(f"<{frames}h", *samples))
    return out.getvalue()


def _digest(*parts: Any) -> bytes:
    return hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).digest()


def _script(call: Call, option: str) -> Sequence[Any] | None:
    raw = call.opt(option)
    if raw is None:
        raw = call.opt("script")
    if raw is None:
        return None
    if not isinstance(raw, Sequence) or isinstance(raw, str | bytes):
        raise ConfigurationError(
            "invalid_script", problems=[f"{option}: must be a list of entries"]
        )
    return raw


def _as_error(entry: Any, call: Call) -> AdapterError | None:
    if isinstance(entry, AdapterError):
        return entry
    if isinstance(entry, Error):
        reason, values = entry.reason, entry.fields
    elif isinstance(entry, tuple) and len(entry) in (2, 3) and entry[0] == "error":
        reason, values = entry[1], (entry[2] if len(entry) == 3 else {})
    else:
        return None
    if not isinstance(reason, str) or reason not in AdapterError.reasons:
        raise ConfigurationError(
            "invalid_script",
            problems=[f"unknown error reason {reason!r}; known: {sorted(AdapterError.reasons)}"],
        )
    kwargs = {key: values[key] for key in ("message", "status", "retry_after_ms") if key in values}
    return AdapterError(reason, provider="fake", request_id=call.request_id, **kwargs)


class _Scripted:
    """What both fakes share: one cursor per engine, the record sink, the next entry."""

    name: ClassVar[str] = "fake"
    key_provider: ClassVar[str] = "fake"
    script_option: ClassVar[str] = "script"

    def __init__(self) -> None:
        self._cursors = CursorBook("audio_script_cursor")

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def reset(self) -> None:
        """Forget every cursor."""
        self._cursors.clear()

    def _record(self, request: Any, call: Call) -> None:
        sink = call.opt("audio_record")
        if sink is None:
            return
        if callable(sink):
            sink(request, call)
        elif hasattr(sink, "append"):
            sink.append((request, call))
        else:
            raise ConfigurationError(
                "invalid_option", problems=["audio_record must be a list or a callable"]
            )

    def _next(self, call: Call) -> tuple[bool, Any]:
        """``(scripted, entry)``; a failing entry comes back as an ``AdapterError``."""
        script = _script(call, self.script_option)
        if script is None:
            return False, None
        cursor = self._cursors.for_call(call)
        with cursor._lock:
            position = cursor.position
            cursor.position += 1
        if position >= len(script):
            return True, AdapterError(
                "no_scripted_response",
                f"no scripted answer: all {len(script)} entries used",
                provider="fake",
                request_id=call.request_id,
            )
        entry = script[position]
        failure = _as_error(entry, call)
        return True, entry if failure is None else failure

    @staticmethod
    def _chunks(data: bytes, call: Call) -> list[bytes]:
        size = call.opt("chunk_size", DEFAULT_CHUNK)
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise ConfigurationError("invalid_option", problems=["chunk_size must be an int >= 1"])
        return [data[start : start + size] for start in range(0, len(data), size)] or [b""]


class FakeSpeech(_Scripted):
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
        seed = _digest(request.text, request.voice, request.model)
        duration = max(len(request.text), 1) * MS_PER_CHARACTER
        if request.format in ("wav", "pcm"):
            data = tone(duration, 220.0 + seed[0] * 2)
            if request.format == "pcm":
                data = data[44:]  # the canonical 44-byte header: raw samples remain
            return Audio(data, SPEECH_FORMATS[request.format], duration)
        body = (seed * (1 + len(request.text) // 8))[: 64 + 4 * len(request.text)]
        marker = f"allm-fake-speech:{request.format}:".encode()
        return Audio(marker + body, SPEECH_FORMATS.get(request.format, "application/octet-stream"))


class FakeTranscription(_Scripted):
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
