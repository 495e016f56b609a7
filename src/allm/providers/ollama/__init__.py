"""Ollama's native chat API (``POST /api/chat``, an NDJSON stream) at ``OLLAMA_HOST``
(``docs/design/providers-azure-mistral-ollama.md``)."""

from __future__ import annotations

from .adapter import Ollama
from .decode import OllamaStreamDecoder
from .request import build_body
from .settings import DEFAULT_HOST, host_url

__all__ = ["DEFAULT_HOST", "Ollama", "OllamaStreamDecoder", "build_body", "host_url"]
