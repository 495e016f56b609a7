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

import base64
import json
from collections.abc import Generator, Mapping
from typing import Any, ClassVar
from urllib.parse import quote

from .._json import dumps
from ..adapters import Call
from ..adapters.base import HttpSettings
from ..adapters.http import HttpRequest, HttpResult, HttpSend, TransportFailure
from ..data.audio import Transcription, TranscriptionRequest, TranscriptSpan
from ..data.messages import Message, Role
from ..data.request import Request
from ..data.response import FinishReason, Usage
from ..effects import Effect
from ..errors import AdapterError
from .gemini import DEFAULT_BASE_URL, Gemini
from .languages import language_code

__all__ = ["INLINE_MAX_BYTES", "WIRE_MIME_TYPES", "GeminiTranscription", "transcription_schema"]

INLINE_MAX_BYTES = 14 * 1024 * 1024
DEFAULT_TIMEOUT = 300.0
# allm's audio MIME types -> the ones Gemini documents for audio input
WIRE_MIME_TYPES = {
    "audio/wav": "audio/wav",
    "audio/mpeg": "audio/mp3",
    "audio/aiff": "audio/aiff",
    "audio/aac": "audio/aac",
    "audio/ogg": "audio/ogg",
    "audio/flac": "audio/flac",
}
_INSTRUCTION = (
    "Transcribe the speech in this audio exactly as spoken, without summarizing, translating or "
    "correcting it. Put the whole transcript in `text` and the ISO-639-1 code of the spoken "
    "language in `language`."
)
_SEGMENTS = (
    " Split the transcript into `segments` at sentence or phrase boundaries; give each its `text` "
    "and its `start` and `end` in seconds from the beginning of the audio."
)
_WORDS = " Also list every word in `words`, each with its `text`, `start` and `end` in seconds."


def _span_schema() -> dict[str, Any]:
    return {
        "type": "OBJECT",
        "properties": {
            "start": {"type": "NUMBER"},
            "end": {"type": "NUMBER"},
            "text": {"type": "STRING"},
        },
        "required": ["start", "end", "text"],
        "propertyOrdering": ["start", "end", "text"],
    }


def transcription_schema(timestamps: str | None) -> dict[str, Any]:
    """The ``responseSchema`` of the answer for the timestamps asked for."""
    properties: dict[str, Any] = {"text": {"type": "STRING"}, "language": {"type": "STRING"}}
    order = ["language", "text"]
    if timestamps is not None:
        properties["segments"] = {"type": "ARRAY", "items": _span_schema()}
        order.append("segments")
    if timestamps == "word":
        properties["words"] = {"type": "ARRAY", "items": _span_schema()}
        order.append("words")
    return {
        "type": "OBJECT",
        "properties": properties,
        "required": list(order),
        "propertyOrdering": order,
    }


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


def _audio_tokens(usage: Usage) -> Usage:
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


class GeminiTranscription(HttpSettings):
    """Transcription through a Gemini model (see the module doc). Settings as every HTTP
    adapter's (``base_url``, ``headers``, ``timeout`` default 300 s, clients); the key is
    Gemini's (``GEMINI_API_KEY``, then ``GOOGLE_API_KEY``), sent in ``x-goog-api-key``."""

    name: ClassVar[str] = "gemini"
    key_provider: ClassVar[str] = "gemini"
    default_base_url: ClassVar[str] = DEFAULT_BASE_URL
    default_model: ClassVar[str] = "gemini-2.5-flash"

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        self._wire = Gemini()  # the chat adapter's decoder and error classification

    def max_audio_bytes(self) -> int:
        """The largest audio sent inline (the request must stay under 20 MB)."""
        return INLINE_MAX_BYTES

    def check(self, request: TranscriptionRequest, call: Call) -> None:
        """Only the audio formats Gemini reads, before any key or byte."""
        if request.audio.mime_type not in WIRE_MIME_TYPES:
            kinds = ", ".join(sorted(WIRE_MIME_TYPES))
            raise AdapterError(
                "unsupported_feature",
                f"Gemini reads audio as {kinds}, not {request.audio.mime_type}",
                provider=self.name,
                request_id=call.request_id,
                metadata={"feature": "audio_format", "mime_type": request.audio.mime_type},
            )

    def _chat_request(self, request: TranscriptionRequest) -> Request:
        """The chat request this transcription stands for (the chat decoder reads it)."""
        return Request(
            model=request.model or self.default_model,
            messages=(Message(Role.USER, self.instruction(request)),),
        )

    def instruction(self, request: TranscriptionRequest) -> str:
        """The prompt sent with the audio."""
        text = _INSTRUCTION
        if request.timestamps is not None:
            text += _SEGMENTS
        if request.timestamps == "word":
            text += _WORDS
        if request.language:
            text += f" The audio is in the language with ISO-639-1 code {request.language!r}."
        if request.prompt:
            text += f" Context that may help (names, spelling): {request.prompt}"
        return text

    def build_body(self, request: TranscriptionRequest) -> dict[str, Any]:
        """The ``generateContent`` body (``options`` merged into ``generationConfig``)."""
        audio = request.audio
        parts = [
            {"text": self.instruction(request)},
            {
                "inlineData": {
                    "mimeType": WIRE_MIME_TYPES[audio.mime_type],
                    "data": base64.b64encode(audio.data).decode("ascii"),
                }
            },
        ]
        config: dict[str, Any] = {
            "responseMimeType": "application/json",
            "responseSchema": transcription_schema(request.timestamps),
        }
        if request.temperature is not None:
            config["temperature"] = request.temperature
        config.update(request.options)
        return {"contents": [{"role": "user", "parts": parts}], "generationConfig": config}

    def build_request(
        self, request: TranscriptionRequest, call: Call, headers: Mapping[str, str]
    ) -> HttpRequest:
        """``POST {base}/models/{model}:generateContent`` with the JSON body."""
        model = str(request.model or self.default_model)
        if not model.startswith(("models/", "tunedModels/")):
            model = f"models/{model}"
        url = f"{self.base(call)}/{quote(model, safe='/')}:generateContent"
        merged = {"content-type": "application/json", **headers, **self.extra_headers(call)}
        body = dumps(self.build_body(request)).encode("utf-8")
        return HttpRequest("POST", url, tuple(merged.items()), body)

    def transcribe(
        self, request: TranscriptionRequest, call: Call
    ) -> Generator[Effect, Any, Transcription]:
        """Checks and the key now; return the plan of one exchange."""
        self.check(request, call)
        headers = {"x-goog-api-key": self.api_key(call)}
        return self._plan(self.build_request(request, call, headers), request, call)

    def _plan(
        self, http_request: HttpRequest, request: TranscriptionRequest, call: Call
    ) -> Generator[Effect, Any, Transcription]:
        timeout = float(
            call.opt("request_timeout") or self.setting(call, "timeout", DEFAULT_TIMEOUT)
        )
        result: HttpResult | TransportFailure = yield HttpSend(
            self.transport(call), http_request, False, timeout, timeout
        )
        if isinstance(result, TransportFailure):
            raise AdapterError(
                result.reason, result.message, provider=self.name, request_id=call.request_id
            )
        if result.status >= 400:
            raise self._wire.classify_error(result, call)
        return self.parse_response(result, request, call)

    def parse_response(
        self, result: HttpResult, request: TranscriptionRequest, call: Call
    ) -> Transcription:
        """The answer's JSON as a ``Transcription``."""
        response = self._wire.parse_response(result, self._chat_request(request), call)

        def malformed(message: str) -> AdapterError:
            return AdapterError(
                "malformed_response",
                message,
                provider=self.name,
                status=result.status,
                request_id=call.request_id,
                metadata={"finish_reason": str(response.finish_reason)},
            )

        if response.finish_reason == FinishReason.CONTENT_FILTER:
            raise AdapterError(
                "content_filter",
                "Gemini declined to transcribe this audio",
                provider=self.name,
                status=result.status,
                request_id=call.request_id,
                metadata=dict(response.metadata),
            )
        if response.finish_reason == FinishReason.LENGTH:
            raise malformed("the transcript was cut by the output token limit")
        try:
            document = json.loads(response.text or "")
        except ValueError:
            document = None
        if not isinstance(document, Mapping) or not isinstance(document.get("text"), str):
            raise malformed("Gemini's answer is not the transcript JSON asked for")
        segments, words = _spans(document.get("segments")), _spans(document.get("words"))
        if segments is None or words is None:
            raise malformed("the transcript's segments or words are unreadable")
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
            usage=_audio_tokens(response.usage),
            metadata=metadata,
        )
