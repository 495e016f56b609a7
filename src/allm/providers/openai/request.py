"""Request building shared by both OpenAI wires (and the headers of every OpenAI API): tool
schemas, content, response formats."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..._json import dumps
from ..._json import loads as json_loads
from ...adapters import Call
from ...data.messages import AudioPart, DocumentPart, ImagePart, TextPart
from ...data.request import Request
from ...data.tools import Tool, ToolCall


def account_headers(
    api_key: str | None, organization: str | None, project: str | None
) -> dict[str, str]:
    """``Authorization`` (when there is a key), and the organization and project headers when
    they are set: what every OpenAI API (chat, images, audio, REST) is sent."""
    headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
    if organization:
        headers["openai-organization"] = organization
    if project:
        headers["openai-project"] = project
    return headers


def wire_arguments(call: ToolCall) -> str:
    """The argument string to send back: the model's own when it is valid JSON."""
    raw = call.raw_arguments
    if raw:
        try:
            json_loads(raw)
        except ValueError:
            pass
        else:
            return raw
    return dumps(call.arguments)


# -- request pieces shared by both endpoints ------------------------------------------------------


def merge_extras(
    body: dict[str, Any], request: Request, call: Call, consumed: tuple[str, ...]
) -> None:
    """``request.options`` then ``call.params`` onto the body (a ``None`` value removes a key)."""
    for source in (request.options, call.params):
        for key, value in source.items():
            if key in consumed:
                continue
            if value is None:
                body.pop(key, None)
            else:
                body[key] = value


def tool_schema(tool: Tool) -> dict[str, Any]:
    """A tool's parameters schema."""
    return dict(tool.schema)


def strict_of(tool: Tool) -> bool:
    """What both OpenAI wires send as the tool's ``strict`` (always sent; OpenAI's schema
    requires it on Responses): ``Tool.strict``, else a bool ``metadata["strict"]`` (the older
    spelling), else false."""
    if tool.strict is not None:
        return tool.strict
    legacy = tool.metadata.get("strict")
    return legacy if isinstance(legacy, bool) else False


def forced_tool(choice: Any) -> str | None:
    """The tool name a ``tool_choice`` forces, if it names one."""
    if isinstance(choice, tuple) and len(choice) == 2 and choice[0] == "tool":
        return str(choice[1])
    if isinstance(choice, str) and choice not in ("auto", "none", "required"):
        return choice
    return None


def image_url(part: ImagePart) -> str:
    """The URL OpenAI fetches, or a ``data:`` URI for local bytes."""
    if part.image.source.type == "url":
        return str(part.image.source.value)
    return part.image.to_data_uri()


def content_text(content: Any) -> str:
    """A message's text (string content, or its text parts joined by newlines)."""
    if isinstance(content, str):
        return content
    return "\n".join(part.text for part in content if isinstance(part, TextPart))


def has_image(content: Any) -> bool:
    """Whether content holds an image, document or audio part (so it is sent as blocks)."""
    return not isinstance(content, str) and any(
        isinstance(p, ImagePart | DocumentPart | AudioPart) for p in content
    )


def document_filename(part: DocumentPart) -> str:
    """The file name OpenAI shows the model: the part's name, else one from its MIME type."""
    if part.name:
        return part.name
    return "document.pdf" if part.mime_type == "application/pdf" else "document"


def openai_part_rule(part: DocumentPart | AudioPart, *, audio: bool, urls: bool) -> str | None:
    """Why an OpenAI wire cannot carry ``part`` (None when it can): audio only where the wire
    takes it, and then only wav or mp3; a document URL only where the wire fetches files."""
    if isinstance(part, AudioPart):
        if not audio:
            return "unsupported_option"
        return None if part.format in ("wav", "mp3") else "unsupported_audio_format"
    if part.source.type == "url" and not urls:
        return "unsupported_option"
    return None


def json_schema_format(response_format: Any) -> dict[str, Any] | None:
    """A ``json_schema`` response format as ``{name, schema, strict}``, or None."""
    if not isinstance(response_format, Mapping) or response_format.get("type") != "json_schema":
        return None
    nested = response_format.get("json_schema")
    source = nested if isinstance(nested, Mapping) else response_format
    found: dict[str, Any] = {"name": source.get("name"), "schema": source.get("schema")}
    if source.get("strict") is not None:
        found["strict"] = source.get("strict")
    if source.get("description") is not None:
        found["description"] = source.get("description")
    return found
