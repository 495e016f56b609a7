"""The Gemini embedding adapter: pre-flight, the key, one exchange."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, ClassVar

from ..._json import dumps
from ...adapters import Call
from ...adapters.base import HttpSettings
from ...adapters.http import HttpRequest, HttpResult, HttpSend, TransportFailure
from ...data.embeddings import EmbeddingRequest, EmbeddingResponse
from ...effects import Effect
from ...errors import AdapterError
from .decode import parse_embeddings
from .request import check_request, embedding_call
from .settings import DEFAULT_MODEL, DEFAULT_TIMEOUT, MAX_BATCH

__all__ = ["GeminiEmbeddings"]


class GeminiEmbeddings(HttpSettings):
    """The Gemini API's embedding endpoints (see the package doc).

    Constructor settings (each also an ``adapter_opts`` key, which wins): ``base_url``
    (default ``https://generativelanguage.googleapis.com/v1beta``), ``headers``, ``timeout``,
    ``http_client``, ``async_http_client``.
    """

    name: ClassVar[str] = "gemini"
    key_provider: ClassVar[str] = "gemini"
    default_base_url: ClassVar[str] = "https://generativelanguage.googleapis.com/v1beta"
    default_model: ClassVar[str] = DEFAULT_MODEL
    max_batch_size: ClassVar[int] = MAX_BATCH
    _classifier: ClassVar[Any] = None

    def check(self, request: EmbeddingRequest, call: Call) -> None:
        """Batch size and model id; raises before any key or I/O."""
        check_request(request, self.max_batch_size)

    def build_request(self, request: EmbeddingRequest, call: Call) -> HttpRequest:
        """The POST, with the key in ``x-goog-api-key``."""
        url, body = embedding_call(request, self.base(call))
        headers = {
            "content-type": "application/json",
            "x-goog-api-key": self.api_key(call),
            **self.extra_headers(call),
        }
        return HttpRequest("POST", url, tuple(headers.items()), dumps(body).encode("utf-8"))

    def embed(
        self, request: EmbeddingRequest, call: Call
    ) -> Generator[Effect, Any, EmbeddingResponse]:
        """Check now, resolve the key; return the plan of one exchange."""
        self.check(request, call)
        return self._plan(request, call, self.build_request(request, call))

    def _plan(
        self, request: EmbeddingRequest, call: Call, http_request: HttpRequest
    ) -> Generator[Effect, Any, EmbeddingResponse]:
        timeout = float(self.setting(call, "timeout", DEFAULT_TIMEOUT))
        result = yield HttpSend(self.transport(call), http_request, False, timeout, timeout)
        if isinstance(result, TransportFailure):
            raise AdapterError(
                result.reason, result.message, provider=self.name, request_id=call.request_id
            )
        if result.status >= 400:
            raise self.classify_error(result, call)
        return self.parse_result(result, request, call)

    def parse_result(
        self, result: HttpResult, request: EmbeddingRequest, call: Call
    ) -> EmbeddingResponse:
        """One answer as an ``EmbeddingResponse`` (``embed`` and batch results)."""
        return parse_embeddings(result, request, self.name, call.request_id)

    def classify_error(self, result: HttpResult, call: Call) -> AdapterError:
        """An error answer as an ``AdapterError``, by the chat adapter's mapping."""
        # The chat adapter's classifier reads Google's error documents; one instance serves all.
        if GeminiEmbeddings._classifier is None:
            from ..gemini import Gemini

            GeminiEmbeddings._classifier = Gemini()
        error: AdapterError = GeminiEmbeddings._classifier.classify_error(result, call)
        return error
