"""Converse answers beyond text: citations (``citationsContent`` blocks and ``citation`` deltas)
and Nova's system tool runs (a ``toolUse`` of type ``server_tool_use`` and its ``toolResult``),
as ``Citation`` and ``ServerToolCall`` values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...data.server_tools import Citation, ServerToolCall
from ..wire import as_dict, as_int, as_list, as_str
from .parts import TOOL_KINDS

SERVER_TOOL_USE = "server_tool_use"
# https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_CitationLocation.html
_DOCUMENT_LOCATIONS = ("documentChar", "documentPage", "documentChunk")


def citation(raw: Any) -> Citation | None:
    """A Converse ``Citation`` (or a streamed ``CitationsDelta``): a ``web`` location is a URL
    citation, a document location a document one (``documentChar`` offsets as ``start`` /
    ``end``, the document's index as ``source``)."""
    if not isinstance(raw, Mapping):
        return None
    location = as_dict(raw.get("location"))
    cited = "".join(
        str(piece["text"])
        for piece in as_list(raw.get("sourceContent"))
        if isinstance(piece, Mapping) and isinstance(piece.get("text"), str)
    )
    title = as_str(raw.get("title"))
    web = location.get("web")
    if isinstance(web, Mapping):
        extra = {"domain": web["domain"]} if isinstance(web.get("domain"), str) else {}
        return Citation(
            "url", url=as_str(web.get("url")), title=title, cited_text=cited or None, metadata=extra
        )
    for kind in _DOCUMENT_LOCATIONS:
        where = location.get(kind)
        if isinstance(where, Mapping):
            index = as_int(where.get("documentIndex"))
            chars = kind == "documentChar"
            return Citation(
                "document",
                title=title,
                cited_text=cited or None,
                start=as_int(where.get("start")) if chars else None,
                end=as_int(where.get("end")) if chars else None,
                source=str(index) if index is not None else as_str(raw.get("source")),
                metadata={"location": {kind: dict(where)}},
            )
    return Citation(
        "document",
        title=title,
        cited_text=cited or None,
        source=as_str(raw.get("source")),
        metadata={"location": dict(location)} if location else {},
    )


def merged_results(items: list[Any]) -> list[Any]:
    """A tool result's content items, consecutive text pieces joined (a stream cuts them)."""
    merged: list[Any] = []
    for item in items:
        text = item.get("text") if isinstance(item, Mapping) else None
        last = merged[-1] if merged and isinstance(merged[-1], dict) else {}
        if isinstance(text, str) and isinstance(last.get("text"), str):
            merged[-1] = {"text": merged[-1]["text"] + text}
        else:
            merged.append(dict(item) if isinstance(item, Mapping) else item)
    return merged


class SystemToolRuns:
    """The system tool uses of one turn, paired with their results into ``ServerToolCall``s."""

    __slots__ = ("uses",)

    def __init__(self) -> None:
        self.uses: dict[str, dict[str, Any]] = {}

    def use(self, use_id: str, name: str, arguments: dict[str, Any]) -> None:
        """A finished ``toolUse`` block of type ``server_tool_use``."""
        block = {"toolUseId": use_id, "name": name, "type": SERVER_TOOL_USE, "input": arguments}
        self.uses[use_id] = {"toolUse": block}

    def result(self, start: Mapping[str, Any], content: list[Any]) -> ServerToolCall:
        """A finished ``toolResult`` block: the call it completes, both blocks kept so the next
        turn can send them back."""
        use_id = str(start.get("toolUseId") or "")
        result = {key: start[key] for key in ("toolUseId", "type", "status") if key in start}
        result["content"] = merged_results(content)
        used = self.uses.pop(use_id, None)
        name = str(as_dict(as_dict(used).get("toolUse")).get("name") or start.get("type") or "")
        arguments = as_dict(as_dict(as_dict(used).get("toolUse")).get("input"))
        blocks = (used, {"toolResult": result}) if used else ({"toolResult": result},)
        return ServerToolCall(
            use_id,
            TOOL_KINDS.get(name, name),
            dict(arguments),
            result["content"],
            {"tool_name": name, "blocks": blocks},
        )
