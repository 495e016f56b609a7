"""The Gemini transcription adapter: checks, the request, one exchange, the chat adapter's decoder
and error classification (see the package doc)."""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any, ClassVar

from ..._json import dumps
from ...adapters import Call
from ...adapters.base import HttpSettings
from ...adapters.http import HttpRequest, HttpResult, HttpSend, TransportFailure
from ...data.audio import Transcription, TranscriptionRequest
from ...data.messages import Message, Role
from ...data.request import Request
from ...data.response import FinishReason
from ...effects import Effect
from ...errors import AdapterError
from ..gemini import DEFAULT_BASE_URL, Gemini
from .decode import read_transcript
from .request import build_body, instruction
from .settings import DEFAULT_MODEL, DEFAULT_TIMEOUT, INLINE_MAX_BYTES, WIRE_MIME_TYPES

__all__ = ["GeminiTranscription"]


class GeminiTranscription(HttpSettings):
    """Transcription through a Gemini model. Settings as every HTTP adapter's (``base_url``,
    ``headers``, ``timeout`` default 300 s, clients); the key is Gemini's (``GEMINI_API_KEY``,
    then ``GOOGLE_API_KEY``), sent in ``x-goog-api-key``."""

    name: ClassVar[str] = "gemini"
    key_provider: ClassVar[str] = "gemini"
    default_base_url: ClassVar[str] = DEFAULT_BASE_URL
    default_model: ClassVar[str] = DEFAULT_MODEL

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        # The chat adapter, with the same settings: its URL rules, decoder and error mapping.
        self._wire = Gemini(**settings)

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

    def _chat(self, request: TranscriptionRequest) -> Request:
        """The chat request this transcription is (the chat adapter's URL and decoder read it)."""
        return Request(
            model=request.model or self.default_model,
            messages=(Message(Role.USER, instruction(request)),),
        )

    def build_request(
        self, request: TranscriptionRequest, call: Call, headers: Mapping[str, str]
    ) -> HttpRequest:
        """``POST {base}/models/{model}:generateContent`` with the JSON body."""
        url = self._wire.url(self._chat(request), call, stream=False)
        merged = {"content-type": "application/json", **headers, **self.extra_headers(call)}
        body = dumps(build_body(request)).encode("utf-8")
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
        """The answer, folded by the chat decoder, as a ``Transcription``."""
        response = self._wire.parse_response(result, self._chat(request), call)

        def failed(reason: str, message: str) -> AdapterError:
            return AdapterError(
                reason,
                message,
                provider=self.name,
                status=result.status,
                request_id=call.request_id,
                metadata={"finish_reason": str(response.finish_reason), **response.metadata},
            )

        if response.finish_reason == FinishReason.CONTENT_FILTER:
            raise failed("content_filter", "Gemini declined to transcribe this audio")
        if response.finish_reason == FinishReason.LENGTH:
            raise failed("malformed_response", "the transcript was cut by the output token limit")
        read = read_transcript(response, request)
        if isinstance(read, str):
            raise failed("malformed_response", read)
        return read
