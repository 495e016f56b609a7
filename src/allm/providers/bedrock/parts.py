"""Documents, audio and system tools in a Converse request (docs/requests.md).

Converse takes ``document`` blocks (bytes, inline text or an S3 object, with ``citations``
when asked) and ``audio`` blocks; its only server-side tools are Amazon Nova's system tools,
``nova_grounding`` (web search) and ``nova_code_interpreter`` (code execution)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ...data.messages import AudioPart, DocumentPart, ImageSource
from ...data.server_tools import ProviderTool
from ...errors import FieldError
from ..parts import part_and_tool_problems

# https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_DocumentBlock.html
DOCUMENT_FORMATS = {
    "application/pdf": "pdf",
    "text/csv": "csv",
    "application/msword": "doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.ms-excel": "xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "text/html": "html",
    "text/plain": "txt",
    "text/markdown": "md",
}
# https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_AudioBlock.html
AUDIO_FORMATS = frozenset(
    {"mp3", "opus", "wav", "aac", "flac", "mp4", "ogg", "mkv", "mka", "x-aac", "m4a", "mpeg"}
    | {"mpga", "pcm", "webm"}
)
# Nova's system tools, by the provider tool kinds they serve
# (https://docs.aws.amazon.com/nova/latest/nova2-userguide/web-grounding.html,
# https://docs.aws.amazon.com/nova/latest/userguide/tool-built-in.html).
SYSTEM_TOOLS = {"web_search": "nova_grounding", "code_execution": "nova_code_interpreter"}
TOOL_KINDS = {name: kind for kind, name in SYSTEM_TOOLS.items()}
# A document name may hold letters, digits, single spaces, hyphens, parentheses and brackets.
_NAME_OUTSIDE = re.compile(r"[^A-Za-z0-9\-()\[\] ]+")


def is_nova(model: Any) -> bool:
    """Whether a model id (or inference profile) is one of Amazon Nova's."""
    return "nova" in str(model or "").lower()


def _s3(source: ImageSource) -> bool:
    return source.type == "url" and str(source.value).startswith("s3://")


def part_rule(part: DocumentPart | AudioPart) -> str | None:
    """Why Converse cannot carry ``part`` (None when it can): a URL that is not an S3 object,
    a document or audio format it does not list."""
    if part.source.type == "url" and not _s3(part.source):
        return "unsupported_option"
    if isinstance(part, AudioPart):
        return None if part.format in AUDIO_FORMATS else "unsupported_audio_format"
    if part.text is not None or DOCUMENT_FORMATS.get(part.mime_type or "") is not None:
        return None
    return "unsupported_document_format"


def parts_and_tools_problems(request: Any) -> list[FieldError]:
    """Every part Converse cannot carry and every provider tool the model lacks (Nova's two
    system tools take no settings, so a tool's ``config`` entries are refused too)."""
    kinds = tuple(SYSTEM_TOOLS) if is_nova(request.model) else ()
    problems = part_and_tool_problems(request, part_rule, kinds)
    for index, tool in enumerate(request.tools):
        if isinstance(tool, ProviderTool) and tool.kind in kinds:
            problems.extend((("tools", index, key), "unsupported_option") for key in tool.config)
    return problems


def document_name(part: DocumentPart) -> str:
    """The part's name in the characters Converse allows (``report.pdf`` is ``report pdf``)."""
    name = " ".join(_NAME_OUTSIDE.sub(" ", part.name or "").split())[:200]
    return name or "document"


def document_block(part: DocumentPart) -> dict[str, Any]:
    """A ``document`` block: inline text, an S3 object or base64 bytes; ``citations`` enabled
    when the part's ``metadata["citations"]`` is true."""
    if part.text is not None:
        source: dict[str, Any] = {"text": part.text}
    elif _s3(part.source):
        source = {"s3Location": {"uri": str(part.source.value)}}
    else:
        source = {"bytes": part.to_base64()}
    block: dict[str, Any] = {
        "format": "txt" if part.text is not None else DOCUMENT_FORMATS[part.mime_type or ""],
        "name": document_name(part),
        "source": source,
    }
    if part.metadata.get("citations") is True:
        block["citations"] = {"enabled": True}
    return {"document": block}


def audio_block(part: AudioPart) -> dict[str, Any]:
    """An ``audio`` block: base64 bytes or an S3 object."""
    if _s3(part.source):
        source: dict[str, Any] = {"s3Location": {"uri": str(part.source.value)}}
    else:
        source = {"bytes": part.to_base64()}
    return {"audio": {"format": part.format, "source": source}}


def system_tools(tools: Iterable[Any]) -> list[dict[str, Any]]:
    """``toolConfig.tools`` entries for the provider tools (``{"systemTool": {"name"}}``)."""
    return [
        {"systemTool": {"name": SYSTEM_TOOLS[tool.kind]}}
        for tool in tools
        if isinstance(tool, ProviderTool)
    ]
