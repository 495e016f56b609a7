"""Reading OpenAI audio answers: the speech audio's type and the transcription JSON."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...adapters.http import HttpResult
from ...data.audio import (
    SPEECH_FORMATS,
    SpeechRequest,
    Transcription,
    TranscriptionRequest,
    TranscriptSpan,
)
from ...data.response import Usage
from ..openai import wire_usage
from ..wire import language_code

__all__ = ["audio_type", "openai_metadata", "read_transcription", "transcription_usage"]


def audio_type(result: HttpResult, request: SpeechRequest) -> str | None:
    """The answer's audio MIME type (the format asked for when the server names none), or None
    when the answer is not audio."""
    mime = result.headers.get("content-type", "").split(";")[0].strip().lower()
    if not mime or mime == "application/octet-stream":
        return SPEECH_FORMATS.get(request.format, "application/octet-stream")
    return mime if mime.startswith("audio/") else None


def openai_metadata(result: HttpResult) -> dict[str, Any]:
    """``openai_request_id`` from the answer's headers, when it has one."""
    request_id = result.headers.get("x-request-id")
    return {"openai_request_id": request_id} if request_id else {}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _ms(value: Any) -> int | None:
    number = _number(value)
    return None if number is None else round(number * 1000)


def _spans(raw: Any, text_key: str) -> tuple[TranscriptSpan, ...] | None:
    """Segments or words, or None when one of them is unreadable."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        return None
    spans = []
    for item in raw:
        if not isinstance(item, Mapping):
            return None
        start, end, text = _ms(item.get("start")), _ms(item.get("end")), item.get(text_key)
        if start is None or end is None or not isinstance(text, str):
            return None
        spans.append(TranscriptSpan(start, end, text.strip(), _number(item.get("avg_logprob"))))
    return tuple(spans)


def transcription_usage(raw: Any) -> Usage:
    """The ``usage`` of a transcription: seconds of audio (``whisper-1``) or tokens."""
    if not isinstance(raw, Mapping):
        return Usage()
    if raw.get("type") == "duration":
        seconds = _number(raw.get("seconds", raw.get("duration")))
        return Usage(extra={} if seconds is None else {"audio_seconds": seconds})
    usage = wire_usage(dict(raw), "input", "output")
    details = raw.get("input_token_details")
    extra = {key: value for key, value in usage.extra.items() if key != "type"}
    if isinstance(details, Mapping):
        for name, key in (
            ("audio_tokens", "audio_input_tokens"),
            ("text_tokens", "text_input_tokens"),
        ):
            value = details.get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                extra[key] = value
    return Usage(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        total_tokens=usage.total_tokens,
        extra=extra,
    )


def read_transcription(
    body: Any, request: TranscriptionRequest, model: str, metadata: dict[str, Any]
) -> Transcription | str:
    """A ``json`` or ``verbose_json`` body as a ``Transcription``, or what makes it unreadable."""
    if not isinstance(body, Mapping) or not isinstance(body.get("text"), str):
        return "the transcription answer has no text"
    segments, words = _spans(body.get("segments"), "text"), _spans(body.get("words"), "word")
    if segments is None or words is None:
        return "the transcription's segments or words are unreadable"
    raw_language = body.get("language")
    language = request.language
    if isinstance(raw_language, str) and raw_language:
        metadata["provider_language"] = raw_language
        language = language_code(raw_language)
    if isinstance(body.get("logprobs"), list):
        metadata["logprobs"] = body["logprobs"]
    metadata["model"] = model
    return Transcription(
        text=body["text"].strip(),
        language=language,
        duration_ms=_ms(body.get("duration")) or request.audio.duration_ms,
        segments=segments,
        words=words,
        usage=transcription_usage(body.get("usage")),
        metadata=metadata,
    )
