"""The OpenAI embedding adapters: pre-flight, then one exchange through ``OpenAIRest``."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, ClassVar

from ...adapters import Call
from ...adapters.http import HttpRequest, HttpResult
from ...data.embeddings import EmbeddingRequest, EmbeddingResponse
from ...effects import Effect
from ..openai.rest import OpenAIRest
from .decode import parse_embeddings
from .request import check_request, embedding_body
from .settings import DEFAULT_MODEL, ENCODING_FORMAT, MAX_INPUTS, PATH

__all__ = ["OpenAICompatibleEmbeddings", "OpenAIEmbeddings"]


class OpenAIEmbeddings(OpenAIRest):
    """OpenAI's embeddings API (see the package doc). The ``encoding_format`` adapter option may
    be set to ``"float"`` for a server that rejects base64."""

    default_model: ClassVar[str | None] = DEFAULT_MODEL
    max_batch_size: ClassVar[int] = MAX_INPUTS

    def check(self, request: EmbeddingRequest, call: Call) -> None:
        """The per-request rules; raises before any key or I/O."""
        self.check_base_url(call)
        check_request(request, self.name, self.max_batch_size)

    def embed(
        self, request: EmbeddingRequest, call: Call
    ) -> Generator[Effect, Any, EmbeddingResponse]:
        """Check now, resolve the key; return the plan of one exchange."""
        return self._plan(request, call, self.build_request(request, call))

    def build_request(self, request: EmbeddingRequest, call: Call) -> HttpRequest:
        """The checks, then the ``POST /embeddings`` (the key resolved here); what ``embed``
        sends and what a batch line carries."""
        self.check(request, call)
        body = embedding_body(request, self.setting(call, "encoding_format", ENCODING_FORMAT))
        return self.json_request(call, PATH, body, self.auth_headers(call))

    def parse_document(
        self, document: dict[str, Any], result: HttpResult, request: EmbeddingRequest, call: Call
    ) -> EmbeddingResponse:
        """One answer's JSON object as an ``EmbeddingResponse`` (``embed`` and batch results)."""
        return parse_embeddings(
            document, result, request, lambda message: self.malformed(call, result, message)
        )

    def _plan(
        self, request: EmbeddingRequest, call: Call, http_request: HttpRequest
    ) -> Generator[Effect, Any, EmbeddingResponse]:
        document, result = yield from self.exchange(call, http_request)
        return self.parse_document(document, result, request, call)


class OpenAICompatibleEmbeddings(OpenAIEmbeddings):
    """The embeddings wire on any server at ``base_url`` (vLLM, llama.cpp, LM Studio, Ollama's
    ``/v1``, gateways). The key is optional (``OPENAI_COMPATIBLE_API_KEY`` or ``api_key=``); a
    ``dimensions`` the model cannot give is the server's to refuse. The model has no default."""

    name: ClassVar[str] = "openai_compatible"
    key_provider: ClassVar[str] = "openai_compatible"
    default_base_url: ClassVar[str] = ""
    requires_key: ClassVar[bool] = False
    default_model: ClassVar[str | None] = None
