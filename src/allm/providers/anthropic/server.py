"""Anthropic server tools in answers: ``server_tool_use`` and ``*_tool_result`` blocks paired
into ``ServerToolCall`` values, and text-block citations as ``Citation`` values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...data.server_tools import Citation, ServerToolCall
from ..wire import as_int, as_str

# The API's server tool names, as the neutral provider tool kinds.
_KINDS = {
    "web_search": "web_search",
    "web_fetch": "url_context",
    "code_execution": "code_execution",
    "bash_code_execution": "code_execution",
    "text_editor_code_execution": "code_execution",
}


def is_result_block(kind: Any) -> bool:
    """Whether a block type is a server tool's result (``web_search_tool_result``, ...)."""
    return isinstance(kind, str) and kind.endswith("_tool_result") and kind != "tool_result"


class ServerBlocks:
    """The server tool blocks of one turn, in order, and the calls they pair into."""

    __slots__ = ("blocks", "uses")

    def __init__(self) -> None:
        self.blocks: list[dict[str, Any]] = []
        self.uses: dict[str, dict[str, Any]] = {}

    def use(self, block: Mapping[str, Any]) -> None:
        """A finished ``server_tool_use`` block (its ``input`` complete)."""
        kept = dict(block)
        self.blocks.append(kept)
        self.uses[str(kept.get("id") or "")] = kept

    def result(self, block: Mapping[str, Any]) -> ServerToolCall:
        """A result block: the call it completes."""
        kept = dict(block)
        self.blocks.append(kept)
        call_id = str(kept.get("tool_use_id") or "")
        use = self.uses.get(call_id, {})
        name = str(use.get("name") or str(kept.get("type", "")).removesuffix("_tool_result"))
        arguments = use.get("input")
        return ServerToolCall(
            call_id,
            _KINDS.get(name, name),
            dict(arguments) if isinstance(arguments, Mapping) else {},
            kept.get("content"),
            {"tool_name": name, "blocks": (use, kept) if use else (kept,)},
        )


def citation(raw: Any) -> Citation | None:
    """A text block's citation (``web_search_result_location``, ``char_location``, ...)."""
    if not isinstance(raw, Mapping):
        return None
    kind = raw.get("type")
    cited = as_str(raw.get("cited_text"))
    if kind == "web_search_result_location":
        extra = {"encrypted_index": raw["encrypted_index"]} if "encrypted_index" in raw else {}
        return Citation(
            "url",
            url=as_str(raw.get("url")),
            title=as_str(raw.get("title")),
            cited_text=cited,
            metadata={"type": kind, **extra},
        )
    index = raw.get("document_index")
    metadata = {
        key: value
        for key, value in raw.items()
        if key not in ("cited_text", "document_title", "document_index", "url", "title")
    }
    return Citation(
        "document",
        url=as_str(raw.get("url")),
        title=as_str(raw.get("document_title")) or as_str(raw.get("title")),
        cited_text=cited,
        start=as_int(raw.get("start_char_index")),
        end=as_int(raw.get("end_char_index")),
        source=str(index) if index is not None else None,
        metadata=metadata,
    )
