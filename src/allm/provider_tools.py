"""Constructors of provider (server-side) tools: ``tools=[allm.provider_tools.web_search()]``.

Each returns a ``ProviderTool(kind, config)``; the adapter spells it as its wire does, and a
provider that lacks the kind refuses the call before any I/O (docs/requests.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .data.server_tools import Citation, ProviderTool, ServerToolCall

__all__ = [
    "Citation",
    "ProviderTool",
    "ServerToolCall",
    "code_execution",
    "file_search",
    "url_context",
    "web_search",
]


def _config(**values: Any) -> dict[str, Any]:
    return {
        key: list(value) if isinstance(value, tuple) else value
        for key, value in values.items()
        if value is not None
    }


def web_search(
    *,
    max_uses: int | None = None,
    allowed_domains: Sequence[str] | None = None,
    blocked_domains: Sequence[str] | None = None,
    user_location: dict[str, Any] | None = None,
    context_size: str | None = None,
) -> ProviderTool:
    """Let the model search the web (``context_size`` is OpenAI's ``search_context_size``)."""
    return ProviderTool(
        "web_search",
        _config(
            max_uses=max_uses,
            allowed_domains=None if allowed_domains is None else list(allowed_domains),
            blocked_domains=None if blocked_domains is None else list(blocked_domains),
            user_location=user_location,
            context_size=context_size,
        ),
    )


def code_execution() -> ProviderTool:
    """Let the model run code in the provider's sandbox."""
    return ProviderTool("code_execution")


def url_context(*, max_uses: int | None = None) -> ProviderTool:
    """Let the model read the pages at URLs named in the conversation."""
    return ProviderTool("url_context", _config(max_uses=max_uses))


def file_search(vector_store_ids: Sequence[str], *, max_results: int | None = None) -> ProviderTool:
    """Let the model search the provider-side stores (OpenAI vector stores, Gemini file search
    stores) named by ``vector_store_ids``."""
    return ProviderTool(
        "file_search",
        _config(vector_store_ids=list(vector_store_ids), max_results=max_results),
    )
