"""Reading the answer: the chat response's JSON text as a ``Transcription``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ...data.audio import Transcription, TranscriptionRequest, TranscriptSpan
from ...data.response import Response, Usage
from ..wire import language_code

__all__ = ["audio_tokens", "read_transcript"]


def _ms(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return round(value * 1000)


def _spans(raw: Any) -> tuple[TranscriptSpan, ...] | None:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        return None
    spans = []
    for item in raw:
        if not isinstance(item, Mapping) or not isinstance(item.get("text"), str):
            return None
        start, end = _ms(item.get("start")), _ms(item.get("end"))
        if start is None or end is None:
            return None
        spans.append(TranscriptSpan(start, max(start, end), item["text"].strip()))
    return tuple(spans)


def audio_tokens(usage: Usage) -> Usage:
    """``usage`` with the prompt's audio tokens (modality ``AUDIO``) in ``extra``."""
    details = usage.extra.get("promptTokensDetails")
    if not isinstance(details, list):
        return usage
    extra = dict(usage.extra)
    for detail in details:
        if isinstance(detail, Mapping) and detail.get("modality") == "AUDIO":
            count = detail.get("tokenCount")
            if isinstance(count, int) and not isinstance(count, bool):
                extra["audio_input_tokens"] = count
    return Usage(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cached_input_tokens=usage.cached_input_tokens,
        reasoning_tokens=usage.reasoning_tokens,
        total_tokens=usage.total_tokens,
        extra=extra,
    )


def read_transcript(response: Response, request: TranscriptionRequest) -> Transcription | str:
    """The transcript JSON of a folded answer, or what makes it unreadable."""
    try:
        document = json.loads(response.text or "")
    except ValueError:
        document = None
    if not isinstance(document, Mapping) or not isinstance(document.get("text"), str):
        return "Gemini's answer is not the transcript JSON asked for"
    segments, words = _spans(document.get("segments")), _spans(document.get("words"))
    if segments is None or words is None:
        return "the transcript's segments or words are unreadable"
    language = document.get("language")
    metadata: dict[str, Any] = {"model": response.model or request.model}
    if response.id:
        metadata["gemini_response_id"] = response.id
    return Transcription(
        text=document["text"].strip(),
        language=language_code(language) if isinstance(language, str) and language else None,
        duration_ms=request.audio.duration_ms,
        segments=segments,
        words=words,
        usage=audio_tokens(response.usage),
        metadata=metadata,
    )
