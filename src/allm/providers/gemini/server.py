"""Gemini answers beyond text: code execution parts, grounding (search and URL context) and
images, as ``ServerToolCall`` / ``Citation`` / ``ImagePart`` values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...data.server_tools import Citation, ServerToolCall
from ...events import Event
from ..parts import Extras, image_part
from ..wire import as_int, as_list, as_str


def _map(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


class GeminiExtras(Extras):
    """Extras of one Gemini answer: parts are read as they stream, grounding at the end."""

    __slots__ = ("code", "grounding", "url_context")

    def __init__(self) -> None:
        super().__init__()
        self.code: dict[str, Any] | None = None
        self.grounding: dict[str, Any] = {}
        self.url_context: dict[str, Any] = {}

    def part(self, part: Mapping[str, Any], out: list[Event]) -> bool:
        """Read a non-text part; True when it was one of ours."""
        if isinstance(part.get("executableCode"), Mapping):
            self.code = _map(part["executableCode"])
            return True
        if isinstance(part.get("codeExecutionResult"), Mapping):
            arguments = self.code or {}
            self.code = None
            call = ServerToolCall(
                f"code_execution_{len(self.server_calls)}",
                "code_execution",
                arguments,
                _map(part["codeExecutionResult"]),
                {"blocks": ({"executableCode": arguments}, dict(part))},
            )
            added = self.add_call(call)
            if added is not None:
                out.append(added)
            return True
        inline = part.get("inlineData")
        if isinstance(inline, Mapping) and isinstance(inline.get("data"), str):
            mime = as_str(inline.get("mimeType")) or ""
            if mime.startswith("image/"):
                self.images.append(image_part(inline["data"], mime))
            return True
        return False

    def candidate(self, candidate: Mapping[str, Any]) -> None:
        """Keep the latest grounding and URL context metadata of the candidate."""
        # Absent on most chunks: test for None first (the ABC check of None is not free).
        grounding = candidate.get("groundingMetadata")
        if grounding is not None and isinstance(grounding, Mapping):
            self.grounding = dict(grounding)
        url_context = candidate.get("urlContextMetadata")
        if url_context is not None and isinstance(url_context, Mapping):
            self.url_context = dict(url_context)

    def finish(self, out: list[Event]) -> None:
        """The grounding's search call, URL context call and citations, at the answer's end."""
        grounding = self.grounding
        queries = as_list(grounding.get("webSearchQueries"))
        chunks = as_list(grounding.get("groundingChunks"))
        if queries:
            call = ServerToolCall(
                "web_search", "web_search", {"queries": queries}, chunks, {"grounding": grounding}
            )
            added = self.add_call(call)
            if added is not None:
                out.append(added)
        urls = as_list(self.url_context.get("urlMetadata"))
        if urls:
            added = self.add_call(ServerToolCall("url_context", "url_context", {}, urls, {}))
            if added is not None:
                out.append(added)
        for found in grounding_citations(grounding):
            event = self.add_citation(found)
            if event is not None:
                out.append(event)


def _chunk_citation(chunk: Any, index: int, segment: Mapping[str, Any]) -> Citation:
    body = _map(chunk)
    source = _map(body.get("web")) or _map(body.get("retrievedContext"))
    return Citation(
        "grounding",
        url=as_str(source.get("uri")),
        title=as_str(source.get("title")),
        cited_text=as_str(segment.get("text")),
        start=as_int(segment.get("startIndex")),
        end=as_int(segment.get("endIndex")),
        metadata={"chunk_index": index},
    )


def grounding_citations(grounding: Mapping[str, Any]) -> list[Citation]:
    """One citation per supported segment and chunk (``groundingSupports``), else one per
    chunk. Offsets are as Gemini reports them (UTF-8 byte offsets into the answer)."""
    chunks = as_list(grounding.get("groundingChunks"))
    supports = as_list(grounding.get("groundingSupports"))
    found: list[Citation] = []
    for support in supports:
        segment = _map(_map(support).get("segment"))
        for index in as_list(_map(support).get("groundingChunkIndices")):
            if isinstance(index, int) and 0 <= index < len(chunks):
                found.append(_chunk_citation(chunks[index], index, segment))
    if not supports:
        found.extend(_chunk_citation(chunk, index, {}) for index, chunk in enumerate(chunks))
    return found
