"""Provider (server-side) tools and what they report back: the tool a provider runs itself
(web search, code execution, URL context, file search), the record of one run, and a citation."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "PROVIDER_TOOL_KINDS",
    "Citation",
    "CitationKind",
    "ProviderTool",
    "ServerToolCall",
    "function_tools",
    "provider_tools_of",
]

PROVIDER_TOOL_KINDS = ("web_search", "code_execution", "url_context", "file_search")
CitationKind = Literal["url", "document", "grounding"]


@dataclass(frozen=True, slots=True)
class ProviderTool:
    """A tool the provider runs on its side; it goes in ``tools=`` beside function tools.

    ``kind`` is one of ``PROVIDER_TOOL_KINDS``; ``config`` holds the neutral settings
    (``max_uses``, ``allowed_domains``, ``vector_store_ids``, ...), translated per wire.
    """

    kind: str
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The kind, so tool lists merge and de-duplicate by name as they do for ``Tool``."""
        return self.kind


@dataclass(frozen=True, slots=True)
class ServerToolCall:
    """One run of a provider tool: what was asked (``arguments``) and what came back.

    ``name`` is the neutral kind (``"web_search"``, ...); ``metadata["blocks"]`` keeps the
    provider's own items where its wire needs them sent back on the next turn.
    """

    id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    result: Any = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Citation:
    """A source the answer cites: a URL, a document passage or a grounding chunk.

    ``start`` / ``end`` are character offsets into the answer text when the provider gives them.
    """

    kind: CitationKind | str
    url: str | None = None
    title: str | None = None
    cited_text: str | None = None
    start: int | None = None
    end: int | None = None
    source: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def function_tools(tools: Iterable[Any]) -> tuple[Any, ...]:
    """The tools that are not provider tools (the ones allm runs)."""
    return tuple(item for item in tools if not isinstance(item, ProviderTool))


def provider_tools_of(tools: Iterable[Any]) -> tuple[ProviderTool, ...]:
    """The provider tools of a tool list, in order."""
    return tuple(item for item in tools if isinstance(item, ProviderTool))
