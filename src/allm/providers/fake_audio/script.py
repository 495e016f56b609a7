"""What both audio fakes share: a tone generator, reading scripts and failing entries, one cursor
per engine, the record sink."""

from __future__ import annotations

import hashlib
import io
import math
import struct
import wave
from collections.abc import Sequence
from typing import Any, ClassVar

from ...adapters import Call
from ...errors import AdapterError, ConfigurationError
from ..fake import CursorBook, Error, record

__all__ = ["DEFAULT_CHUNK", "MS_PER_CHARACTER", "SAMPLE_RATE", "Scripted", "digest", "tone"]

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


def digest(*parts: Any) -> bytes:
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


class Scripted:
    """What both fakes share: one cursor per engine, the record sink, the next entry."""

    name: ClassVar[str] = "fake"
    key_provider: ClassVar[str] = "fake"
    script_option: ClassVar[str] = "script"
    # A stand-in for any provider: the engine's adapter options are always its own.
    stand_in: ClassVar[bool] = True

    def __init__(self) -> None:
        self._cursors = CursorBook("audio_script_cursor")

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def reset(self) -> None:
        """Forget every cursor."""
        self._cursors.clear()

    def _record(self, request: Any, call: Call) -> None:
        record(call, "audio_record", request)

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
