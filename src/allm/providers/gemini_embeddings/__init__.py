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

from .adapter import GeminiEmbeddings
from .settings import DEFAULT_MODEL, MAX_BATCH, TASK_TYPES

__all__ = ["DEFAULT_MODEL", "MAX_BATCH", "TASK_TYPES", "GeminiEmbeddings"]
