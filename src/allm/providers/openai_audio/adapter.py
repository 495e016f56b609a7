"""The OpenAI audio adapters: settings, headers and one exchange, wired to the request builders
and the decoders of this package (see the package doc for the rules)."""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any, ClassVar

from ...adapters import Call
from ...adapters.base import DEFAULT_STREAM_TIMEOUT, json_or_none
from ...adapters.http import HttpRead, HttpRequest, HttpResult, HttpSend, TransportFailure
from ...adapters.multipart import multipart_body
from ...data.audio import Audio, SpeechRequest, SpeechResponse, Transcription, TranscriptionRequest
from ...data.response import Usage
from ...effects import Effect
from ...errors import AdapterError
from ..openai import classify_http_error, snippet
from ..openai.rest import OpenAIRest
from .decode import audio_type, openai_metadata, read_transcription
from .request import speech_body, transcription_fields, transcription_upload
from .settings import (
    DEFAULT_SPEECH_MODEL,
    DEFAULT_TRANSCRIPTION_MODEL,
    DEFAULT_VOICE,
    MAX_AUDIO_BYTES,
    MAX_SPEECH_CHARACTERS,
    SPEECH_TIMEOUT,
    TRANSCRIPTION_TIMEOUT,
    speech_model_takes_instructions,
    transcription_model_has_timestamps,
)

__all__ = ["OpenAISpeech", "OpenAITranscription"]

_PAGE_LIMIT = 4096  # bytes of a non-audio answer kept for its error message


class _OpenAIAudio(OpenAIRest):
    """The one-exchange plan both OpenAI audio adapters share (settings and headers are the
    REST base's), for audio bodies and streams as well as JSON."""

    default_timeout: ClassVar[float] = 60.0

    def request_timeout(self, call: Call) -> float:
        """Seconds to wait for the answer (``timeout`` or ``request_timeout``)."""
        value = call.opt("request_timeout")
        if value is None:
            value = self.setting(call, "timeout", self.default_timeout)
        return float(value)

    def _invalid(self, call: Call, message: str, reason: str = "invalid_request") -> AdapterError:
        return AdapterError(reason, message, provider=self.name, request_id=call.request_id)

    def _failure(self, failure: TransportFailure, call: Call) -> AdapterError:
        return AdapterError(
            failure.reason, failure.message, provider=self.name, request_id=call.request_id
        )

    def _malformed(self, result: HttpResult, call: Call, message: str) -> AdapterError:
        error = self.malformed(call, result, message)
        error.metadata["content_type"] = result.headers.get("content-type", "")
        return error

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


class OpenAISpeech(_OpenAIAudio):
    """OpenAI text to speech. Settings as every HTTP adapter's (``base_url``, ``headers``,
    ``timeout`` default 120 s, ``stream_timeout``, clients), plus ``organization`` /
    ``project``."""

    default_model: ClassVar[str] = DEFAULT_SPEECH_MODEL
    default_voice: ClassVar[str] = DEFAULT_VOICE
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
        """``POST {base}/audio/speech`` with the JSON body."""
        return self.json_request(
            call, "/audio/speech", speech_body(request), {"accept": "audio/*", **headers}
        )

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
        mime = audio_type(result, request)
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
        mime = audio_type(result, request)
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
                if len(page) >= _PAGE_LIMIT:
                    break
            elif chunk:
                size += len(chunk)
                yield chunk
        if mime is None:
            raise self._not_audio(result, call, bytes(page))
        if not size:
            raise self._malformed(result, call, "OpenAI speech answered with an empty body")
        return self._response(result, request, mime, b"")

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
            openai_metadata(result),
        )


class OpenAITranscription(_OpenAIAudio):
    """OpenAI speech to text. Settings as every HTTP adapter's (``timeout`` default 300 s), plus
    ``organization`` / ``project``."""

    default_model: ClassVar[str] = DEFAULT_TRANSCRIPTION_MODEL
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

    def build_request(
        self, request: TranscriptionRequest, call: Call, headers: Mapping[str, str]
    ) -> HttpRequest:
        """``POST {base}/audio/transcriptions``: the fields, then the file."""
        fields, upload = transcription_fields(request), transcription_upload(request)
        content_type, body = multipart_body(fields, [upload])
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
        model = request.model or self.default_model
        read = read_transcription(
            json_or_none(result.body), request, model, openai_metadata(result)
        )
        if isinstance(read, str):
            raise self._malformed(result, call, f"{read}: {snippet(result.body)}")
        return read
