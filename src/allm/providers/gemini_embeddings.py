"""Gemini embeddings: ``models/{model}:embedContent`` for one input,
``models/{model}:batchEmbedContents`` for several (at most 100 per request; the façade splits
longer lists).

``input_type`` becomes ``taskType`` (``"query"`` is ``RETRIEVAL_QUERY``, ``"document"``
``RETRIEVAL_DOCUMENT``; ``options["task_type"]`` sends any other Gemini task type as it is);
``dimensions`` becomes ``outputDimensionality``. Other options (``title``, ...) go into each
request as they are. The key travels in ``x-goog-api-key``. Gemini reports no token usage for
embeddings, so ``usage`` stays empty. Errors are classified as on the chat wire.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Mapping
from typing import Any, ClassVar

from .. import keys
from .._json import dumps
from ..adapters import Call
from ..adapters.base import HttpSettings, json_or_none
from ..adapters.http import HttpRequest, HttpResult, HttpSend, TransportFailure
from ..data.embeddings import EmbeddingRequest, EmbeddingResponse
from ..effects import Effect
from ..errors import AdapterError, ValidationError

__all__ = ["MAX_BATCH", "TASK_TYPES", "GeminiEmbeddings"]

MAX_BATCH = 100
TASK_TYPES = {"query": "RETRIEVAL_QUERY", "document": "RETRIEVAL_DOCUMENT"}
DEFAULT_TIMEOUT = 60.0
_MODEL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class GeminiEmbeddings(HttpSettings):
    """The Gemini API's embedding endpoints (see the module doc).

    Constructor settings (each also an ``adapter_opts`` key, which wins): ``base_url``
    (default ``https://generativelanguage.googleapis.com/v1beta``), ``headers``, ``timeout``,
    ``http_client``, ``async_http_client``.
    """

    name: ClassVar[str] = "gemini"
    key_provider: ClassVar[str] = "gemini"
    default_base_url: ClassVar[str] = "https://generativelanguage.googleapis.com/v1beta"
    default_model: ClassVar[str] = "gemini-embedding-001"
    max_batch_size: ClassVar[int] = MAX_BATCH
    _classifier: Any = None

    @staticmethod
    def model_id(model: str | None) -> str:
        """The bare model id (``models/`` dropped)."""
        model = model or ""
        return model[len("models/") :] if model.startswith("models/") else model

    def check(self, request: EmbeddingRequest, call: Call) -> None:
        """Batch size and a model id safe in a URL path; raises before any key or I/O."""
        errors = []
        model = self.model_id(request.model)
        if not _MODEL_ID.fullmatch(model) or ".." in model:
            errors.append((("model",), "invalid_model_id"))
        if len(request.inputs) > self.max_batch_size:
            errors.append((("inputs",), "too_many_inputs"))
        if errors:
            raise ValidationError(
                "invalid_request", "gemini cannot embed this request", errors=errors
            )

    def content(self, request: EmbeddingRequest, text: str) -> dict[str, Any]:
        """One ``EmbedContentRequest`` (without ``model``)."""
        options: Mapping[str, Any] = request.options
        entry: dict[str, Any] = {"content": {"parts": [{"text": text}]}}
        task = options.get("task_type") or TASK_TYPES.get(request.input_type or "")
        if task:
            entry["taskType"] = task
        if request.dimensions is not None:
            entry["outputDimensionality"] = request.dimensions
        entry.update((key, value) for key, value in options.items() if key != "task_type")
        return entry

    def build_request(self, request: EmbeddingRequest, call: Call) -> HttpRequest:
        """``embedContent`` for one input, ``batchEmbedContents`` for several."""
        model = self.model_id(request.model)
        if len(request.inputs) == 1:
            url = f"{self.base(call)}/models/{model}:embedContent"
            body: dict[str, Any] = self.content(request, request.inputs[0])
        else:
            url = f"{self.base(call)}/models/{model}:batchEmbedContents"
            body = {
                "requests": [
                    {"model": f"models/{model}", **self.content(request, text)}
                    for text in request.inputs
                ]
            }
        headers = {
            "content-type": "application/json",
            "x-goog-api-key": keys.fetch(self.key_provider, call.api_key),
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
            raise self._classify(result, call)
        return self.parse(result, request, call)

    def _classify(self, result: HttpResult, call: Call) -> AdapterError:
        # The chat adapter's classifier knows Google's error documents; one instance serves all.
        if GeminiEmbeddings._classifier is None:
            from .gemini import Gemini

            GeminiEmbeddings._classifier = Gemini()
        error: AdapterError = GeminiEmbeddings._classifier.classify_error(result, call)
        return error

    def parse(self, result: HttpResult, request: EmbeddingRequest, call: Call) -> EmbeddingResponse:
        """``{"embedding": {"values"}}`` or ``{"embeddings": [...]}`` as a response."""
        document = json_or_none(result.body)
        if isinstance(document, dict) and isinstance(document.get("embedding"), dict):
            items: Any = [document["embedding"]]
        else:
            items = document.get("embeddings") if isinstance(document, dict) else None
        vectors = []
        if isinstance(items, list) and len(items) == len(request.inputs):
            for item in items:
                values = item.get("values") if isinstance(item, dict) else None
                if not isinstance(values, list) or not all(
                    isinstance(x, int | float) and not isinstance(x, bool) for x in values
                ):
                    break
                vectors.append(tuple(float(x) for x in values))
        if len(vectors) != len(request.inputs):
            raise AdapterError(
                "malformed_response",
                f"the Gemini answer has no usable embedding for each of the "
                f"{len(request.inputs)} input(s)",
                provider=self.name,
                status=result.status,
                request_id=call.request_id,
            )
        return EmbeddingResponse(tuple(vectors), self.model_id(request.model), metadata={})
