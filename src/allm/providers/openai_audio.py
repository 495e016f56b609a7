"""OpenAI audio: speech (``POST /audio/speech``, JSON in, audio bytes out, streamed as they are
made) and transcription (``POST /audio/transcriptions``, a multipart upload, JSON out).

Speech: ``input`` up to 4096 characters (checked before any key or byte), voice ``alloy`` unless
given, ``instructions`` only for models that take them (not ``tts-1`` / ``tts-1-hd``), ``speed``
0.25 to 4. The audio's MIME type is the answer's ``content-type``; the usage counts the input
characters (``extra["input_characters"]``), which is what the per-character models bill.

Transcription: ``whisper-1`` (and models this adapter does not know, as OpenAI-compatible servers
run them) answer ``verbose_json``: language, duration, segments and, with ``timestamps="word"``,
words (``timestamp_granularities[]`` is ``word`` and ``segment``: segments cost nothing more).
``gpt-4o-transcribe`` and ``gpt-4o-mini-transcribe`` answer ``json`` only, so asking them for
timestamps is ``AdapterError("unsupported_feature")`` before any I/O; their token usage is mapped
to ``Usage`` (audio tokens in ``extra["audio_input_tokens"]``). Uploads are at most 25 MB.
Whisper names the language in English (``"english"``); ``Transcription.language`` is its
ISO-639-1 code (``"en"``), the provider's word kept in ``metadata["provider_language"]``.

One attempt per call: the audio façade owns the retry loop.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any, ClassVar

from .._json import dumps
from ..adapters import Call
from ..adapters.base import DEFAULT_STREAM_TIMEOUT, HttpSettings, json_or_none
from ..adapters.http import HttpRead, HttpRequest, HttpResult, HttpSend, TransportFailure
from ..adapters.multipart import Upload, multipart_body
from ..data.audio import (
    Audio,
    SpeechRequest,
    SpeechResponse,
    Transcription,
    TranscriptionRequest,
    TranscriptSpan,
)
from ..data.response import Usage
from ..effects import Effect
from ..errors import AdapterError
from .languages import language_code
from .openai import classify_http_error, snippet, wire_usage

__all__ = [
    "MAX_AUDIO_BYTES",
    "MAX_SPEECH_CHARACTERS",
    "OpenAISpeech",
    "OpenAITranscription",
    "speech_model_takes_instructions",
    "transcription_model_has_timestamps",
]

DEFAULT_BASE_URL = "https://api.openai.com/v1"
MAX_SPEECH_CHARACTERS = 4096
MAX_AUDIO_BYTES = 25 * 1024 * 1024
SPEECH_TIMEOUT = 120.0
TRANSCRIPTION_TIMEOUT = 300.0  # a long recording takes minutes
_NO_INSTRUCTIONS = ("tts-1", "tts-1-hd")


def speech_model_takes_instructions(model: str | None) -> bool:
    """Whether ``model`` accepts ``instructions`` (every model but ``tts-1`` / ``tts-1-hd``)."""
    return not (model and any(model == m or model.startswith(m + "-") for m in _NO_INSTRUCTIONS))


def transcription_model_has_timestamps(model: str | None) -> bool:
    """Whether ``model`` answers ``verbose_json`` (the ``gpt-4o*-transcribe`` models do not)."""
    return not (model and model.startswith("gpt-4o") and "transcribe" in model)


class _OpenAIAudio(HttpSettings):
    """Settings, headers and the one-exchange plan both OpenAI audio adapters share."""

    name: ClassVar[str] = "openai"
    key_provider: ClassVar[str] = "openai"
    default_base_url: ClassVar[str] = DEFAULT_BASE_URL
    default_timeout: ClassVar[float] = 60.0

    def __init__(
        self,
        *,
        base_url: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        http_client: Any = None,
        async_http_client: Any = None,
        organization: str | None = None,
        project: str | None = None,
    ) -> None:
        super().__init__(
            base_url=base_url,
            headers=headers,
            timeout=timeout,
            http_client=http_client,
            async_http_client=async_http_client,
        )
        self.organization = organization
        self.project = project

    def request_timeout(self, call: Call) -> float:
        """Seconds to wait for the answer (``timeout`` or ``request_timeout``)."""
        value = call.opt("request_timeout")
        if value is None:
            value = self.setting(call, "timeout", self.default_timeout)
        return float(value)

    def auth_headers(self, call: Call) -> dict[str, str]:
        """``Authorization`` (and organization/project), then extra headers. Resolves the key."""
        headers = {"authorization": f"Bearer {self.api_key(call)}"}
        if self.organization:
            headers["openai-organization"] = self.organization
        if self.project:
            headers["openai-project"] = self.project
        headers.update(self.extra_headers(call))
        return headers

    def _invalid(self, call: Call, message: str, reason: str = "invalid_request") -> AdapterError:
        return AdapterError(reason, message, provider=self.name, request_id=call.request_id)

    def _failure(self, failure: TransportFailure, call: Call) -> AdapterError:
        return AdapterError(
            failure.reason, failure.message, provider=self.name, request_id=call.request_id
        )

    def _malformed(self, result: HttpResult, call: Call, message: str) -> AdapterError:
        return AdapterError(
            "malformed_response",
            message,
            provider=self.name,
            status=result.status,
            request_id=result.headers.get("x-request-id") or call.request_id,
            metadata={"content_type": result.headers.get("content-type", "")},
        )

    def _exchange(
        self, http_request: HttpRequest, call: Call, stream: bool
    ) -> Generator[Effect, Any, HttpResult]:
        timeout = self.request_timeout(call)
        stream_timeout = self.setting(call, "stream_timeout", DEFAULT_STREAM_TIMEOUT)
        read_timeout = stream_timeout if stream else timeout
        result: HttpResult | TransportFailure = yield HttpSend(
            self.transport(call), http_request, stream, timeout, read_timeout
        )
        if isinstance(result, TransportFailure):
            raise self._failure(result, call)
        if result.status >= 400:
            raise classify_http_error(self.name, result, call)
        return result


def _openai_metadata(result: HttpResult) -> dict[str, Any]:
    request_id = result.headers.get("x-request-id")
    return {"openai_request_id": request_id} if request_id else {}


class OpenAISpeech(_OpenAIAudio):
    """OpenAI text to speech (see the module doc). Settings as every HTTP adapter's
    (``base_url``, ``headers``, ``timeout`` default 120 s, ``stream_timeout``, clients), plus
    ``organization`` / ``project``."""

    default_model: ClassVar[str] = "gpt-4o-mini-tts"
    default_voice: ClassVar[str] = "alloy"
    default_timeout: ClassVar[float] = SPEECH_TIMEOUT

    def check(self, request: SpeechRequest, call: Call) -> None:
        """The endpoint's limits, before any key is resolved or byte sent."""
        if len(request.text) > MAX_SPEECH_CHARACTERS:
            raise self._invalid(
                call,
                f"OpenAI speech takes at most {MAX_SPEECH_CHARACTERS} characters of input, "
                f"not {len(request.text)}: split the text",
            )
        if request.speed is not None and not 0.25 <= request.speed <= 4.0:
            raise self._invalid(call, f"speed must be between 0.25 and 4.0, not {request.speed}")
        if request.instructions and not speech_model_takes_instructions(request.model):
            raise self._invalid(
                call, f"{request.model} does not take instructions", "unsupported_feature"
            )

    def build_request(
        self, request: SpeechRequest, call: Call, headers: Mapping[str, str]
    ) -> HttpRequest:
        """``POST {base}/audio/speech`` with the JSON body (``options`` merged last)."""
        body: dict[str, Any] = {
            "model": request.model or self.default_model,
            "input": request.text,
            "voice": request.voice or self.default_voice,
            "response_format": request.format,
        }
        if request.instructions:
            body["instructions"] = request.instructions
        if request.speed is not None:
            body["speed"] = request.speed
        body.update(request.options)
        merged = {"content-type": "application/json", "accept": "audio/*", **headers}
        url = self.base(call) + "/audio/speech"
        return HttpRequest("POST", url, tuple(merged.items()), dumps(body).encode("utf-8"))

    def synthesize(
        self, request: SpeechRequest, call: Call
    ) -> Generator[Effect, Any, SpeechResponse]:
        """Checks and the key now; return the plan of one exchange."""
        self.check(request, call)
        http_request = self.build_request(request, call, self.auth_headers(call))
        return self._plan(http_request, request, call)

    def _plan(
        self, http_request: HttpRequest, request: SpeechRequest, call: Call
    ) -> Generator[Effect, Any, SpeechResponse]:
        result = yield from self._exchange(http_request, call, stream=False)
        mime = self._audio_type(result, request)
        if mime is None:
            raise self._not_audio(result, call, result.body)
        if not result.body:
            raise self._malformed(result, call, "OpenAI speech answered with an empty body")
        return self._response(result, request, mime, result.body)

    def stream_synthesize(
        self, request: SpeechRequest, call: Call
    ) -> Generator[Effect | bytes, Any, SpeechResponse]:
        """Checks and the key now; return the plan that yields the audio as it arrives."""
        self.check(request, call)
        http_request = self.build_request(request, call, self.auth_headers(call))
        return self._stream_plan(http_request, request, call)

    def _stream_plan(
        self, http_request: HttpRequest, request: SpeechRequest, call: Call
    ) -> Generator[Effect | bytes, Any, SpeechResponse]:
        result = yield from self._exchange(http_request, call, stream=True)
        assert result.handle is not None  # a success status leaves the body open
        mime = self._audio_type(result, request)
        size = 0
        page = bytearray()  # a JSON or HTML page where audio was due: kept for the error
        while True:
            chunk = yield HttpRead(result.handle)
            if chunk is None:
                break
            if isinstance(chunk, TransportFailure):
                raise self._failure(chunk, call)
            if mime is None:
                page += chunk
                if len(page) >= 4096:
                    break
            elif chunk:
                size += len(chunk)
                yield chunk
        if mime is None:
            raise self._not_audio(result, call, bytes(page))
        if not size:
            raise self._malformed(result, call, "OpenAI speech answered with an empty body")
        return self._response(result, request, mime, b"")

    @staticmethod
    def _audio_type(result: HttpResult, request: SpeechRequest) -> str | None:
        """The answer's audio MIME type (the format asked for when the server names none), or
        None when the answer is not audio."""
        from ..data.audio import SPEECH_FORMATS

        mime = result.headers.get("content-type", "").split(";")[0].strip().lower()
        if not mime or mime == "application/octet-stream":
            return SPEECH_FORMATS.get(request.format, "application/octet-stream")
        return mime if mime.startswith("audio/") else None

    def _not_audio(self, result: HttpResult, call: Call, body: bytes) -> AdapterError:
        kind = result.headers.get("content-type", "")
        return self._malformed(
            result, call, f"OpenAI speech answered {kind}, not audio: {snippet(body)}"
        )

    def _response(
        self, result: HttpResult, request: SpeechRequest, mime: str, data: bytes
    ) -> SpeechResponse:
        return SpeechResponse(
            Audio(data, mime),
            request.model or self.default_model,
            Usage(extra={"input_characters": len(request.text)}),
            _openai_metadata(result),
        )


# -- transcription ---------------------------------------------------------------------------------


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


class OpenAITranscription(_OpenAIAudio):
    """OpenAI speech to text (see the module doc). Settings as every HTTP adapter's
    (``timeout`` default 300 s), plus ``organization`` / ``project``."""

    default_model: ClassVar[str] = "gpt-4o-mini-transcribe"
    default_timeout: ClassVar[float] = TRANSCRIPTION_TIMEOUT

    def max_audio_bytes(self) -> int:
        """The largest upload the endpoint takes (25 MB)."""
        return MAX_AUDIO_BYTES

    def check(self, request: TranscriptionRequest, call: Call) -> None:
        """Timestamps only from models that give them, before any key or byte."""
        model = request.model or self.default_model
        if request.timestamps is not None and not transcription_model_has_timestamps(model):
            raise self._invalid(
                call,
                f"{model} answers text only; ask whisper-1 for {request.timestamps} timestamps",
                "unsupported_feature",
            )

    def body_fields(self, request: TranscriptionRequest) -> list[tuple[str, Any]]:
        """The form fields, in order (``options`` last; a list value repeats as ``name[]``)."""
        model = request.model or self.default_model
        verbose = transcription_model_has_timestamps(model)
        fields: list[tuple[str, Any]] = [
            ("model", model),
            ("response_format", "verbose_json" if verbose else "json"),
        ]
        for name in ("language", "prompt", "temperature"):
            value = getattr(request, name)
            if value is not None:
                fields.append((name, value))
        if request.timestamps == "word":
            fields += [
                ("timestamp_granularities[]", "word"),
                ("timestamp_granularities[]", "segment"),
            ]
        elif request.timestamps == "segment":
            fields.append(("timestamp_granularities[]", "segment"))
        for name, value in request.options.items():
            if isinstance(value, list | tuple):
                key = name if name.endswith("[]") else name + "[]"
                fields.extend((key, item) for item in value)
            else:
                fields.append((name, value))
        return fields

    def build_request(
        self, request: TranscriptionRequest, call: Call, headers: Mapping[str, str]
    ) -> HttpRequest:
        """``POST {base}/audio/transcriptions``: the fields, then the file."""
        audio = request.audio
        upload = Upload("file", f"audio.{audio.extension}", audio.mime_type, audio.data)
        content_type, body = multipart_body(self.body_fields(request), [upload])
        merged = {"content-type": content_type, "accept": "application/json", **headers}
        url = self.base(call) + "/audio/transcriptions"
        return HttpRequest("POST", url, tuple(merged.items()), body)

    def transcribe(
        self, request: TranscriptionRequest, call: Call
    ) -> Generator[Effect, Any, Transcription]:
        """Checks and the key now; return the plan of one exchange."""
        self.check(request, call)
        http_request = self.build_request(request, call, self.auth_headers(call))
        return self._plan(http_request, request, call)

    def _plan(
        self, http_request: HttpRequest, request: TranscriptionRequest, call: Call
    ) -> Generator[Effect, Any, Transcription]:
        result = yield from self._exchange(http_request, call, stream=False)
        return self.parse_response(result, request, call)

    def parse_response(
        self, result: HttpResult, request: TranscriptionRequest, call: Call
    ) -> Transcription:
        """A ``json`` or ``verbose_json`` body as a ``Transcription``."""
        body = json_or_none(result.body)
        if not isinstance(body, Mapping) or not isinstance(body.get("text"), str):
            raise self._malformed(
                result, call, f"the transcription answer has no text: {snippet(result.body)}"
            )
        segments, words = _spans(body.get("segments"), "text"), _spans(body.get("words"), "word")
        if segments is None or words is None:
            raise self._malformed(
                result, call, "the transcription's segments or words are unreadable"
            )
        metadata = _openai_metadata(result)
        raw_language = body.get("language")
        language = request.language
        if isinstance(raw_language, str) and raw_language:
            metadata["provider_language"] = raw_language
            language = language_code(raw_language)
        if isinstance(body.get("logprobs"), list):
            metadata["logprobs"] = body["logprobs"]
        metadata["model"] = request.model or self.default_model
        return Transcription(
            text=body["text"].strip(),
            language=language,
            duration_ms=_ms(body.get("duration")) or request.audio.duration_ms,
            segments=segments,
            words=words,
            usage=transcription_usage(body.get("usage")),
            metadata=metadata,
        )
