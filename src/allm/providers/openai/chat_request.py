"""The Chat Completions request body (``POST /chat/completions``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ...data.messages import AudioPart, DocumentPart, ImagePart, Message, Role, TextPart
from ...data.request import Request
from ...data.server_tools import ProviderTool, provider_tools_of
from ...data.tools import Tool
from ...output import native_format
from ..logprobs import asked, top_alternatives
from .request import (
    content_text,
    document_filename,
    forced_tool,
    has_image,
    image_url,
    json_schema_format,
    strict_of,
    tool_schema,
    wire_arguments,
)

# -- Chat Completions: request --------------------------------------------------------------------


def chat_content(message: Message) -> Any:
    """User content: a string, or text/image blocks when an image is present."""
    if not has_image(message.content):
        return content_text(message.content)
    blocks: list[dict[str, Any]] = []
    for part in message.content:
        if isinstance(part, TextPart):
            blocks.append({"type": "text", "text": part.text})
        elif isinstance(part, ImagePart):
            blocks.append(
                {"type": "image_url", "image_url": {"url": image_url(part), "detail": part.detail}}
            )
        elif isinstance(part, DocumentPart):
            blocks.append(chat_document(part))
        elif isinstance(part, AudioPart):
            audio = {"data": part.to_base64(), "format": part.format}
            blocks.append({"type": "input_audio", "input_audio": audio})
    return blocks


def chat_document(part: DocumentPart) -> dict[str, Any]:
    """A document as a ``file`` block (inline text documents go as text)."""
    if part.text is not None:
        return {"type": "text", "text": part.text}
    return {
        "type": "file",
        "file": {"filename": document_filename(part), "file_data": part.to_data_uri()},
    }


def chat_provider_kinds(model: str) -> tuple[str, ...]:
    """The provider tools Chat Completions takes: web search, on the search models only."""
    return ("web_search",) if "search" in model else ()


def chat_web_search(tools: tuple[Any, ...]) -> dict[str, Any]:
    """``web_search_options`` for a web search provider tool (Chat Completions' spelling)."""
    for tool in provider_tools_of(tools):
        options: dict[str, Any] = {}
        if "context_size" in tool.config:
            options["search_context_size"] = tool.config["context_size"]
        if "user_location" in tool.config:
            options["user_location"] = {
                "type": "approximate",
                "approximate": dict(tool.config["user_location"]),
            }
        return {"web_search_options": options}
    return {}


def chat_messages(
    request: Request,
    *,
    empty_tool_turn_content: bool = False,
    user_content: Callable[[Message], Any] = chat_content,
) -> list[dict[str, Any]]:
    """The ``messages`` array (design §20.2). An assistant turn with tool calls and no text has
    ``content: null``, or ``""`` with ``empty_tool_turn_content`` (servers that reject null);
    ``user_content`` spells a user message's content (a server with other block types)."""
    out: list[dict[str, Any]] = []
    for message in request.messages:
        role = message.role
        item: dict[str, Any]
        if role == Role.SYSTEM:
            item = {"role": "system", "content": content_text(message.content)}
        elif role == Role.USER:
            item = {"role": "user", "content": user_content(message)}
        elif role == Role.ASSISTANT:
            text = content_text(message.content)
            item = {"role": "assistant", "content": text}
            if message.tool_calls:
                item["content"] = text or ("" if empty_tool_turn_content else None)
                item["tool_calls"] = [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {"name": call.name, "arguments": wire_arguments(call)},
                    }
                    for call in message.tool_calls
                ]
        else:
            item = {
                "role": "tool",
                "tool_call_id": message.tool_call_id,
                "content": content_text(message.content),
            }
        if message.name and role in (Role.USER, Role.ASSISTANT, Role.SYSTEM):
            item["name"] = message.name
        out.append(item)
    return out


def chat_tools(tools: tuple[Tool, ...]) -> list[dict[str, Any]]:
    """Tool definitions, nested under ``function``."""
    out = []
    for tool in tools:
        if isinstance(tool, ProviderTool):
            continue
        function: dict[str, Any] = {
            "name": tool.name,
            "description": tool.description,
            "parameters": tool_schema(tool),
            "strict": strict_of(tool),
        }
        out.append({"type": "function", "function": function})
    return out


def chat_tool_choice(choice: Any) -> Any:
    """``tool_choice`` on the Chat Completions wire."""
    name = forced_tool(choice)
    if name is not None:
        return {"type": "function", "function": {"name": name}}
    if isinstance(choice, Mapping):
        if choice.get("type") == "function" and "name" in choice and "function" not in choice:
            return {"type": "function", "function": {"name": choice["name"]}}
        return dict(choice)
    return choice


def chat_response_format(response_format: Any) -> dict[str, Any] | None:
    """``response_format`` on the Chat Completions wire (json_schema nested); text is omitted."""
    response_format = native_format(response_format, "openai")
    if not isinstance(response_format, Mapping) or response_format.get("type") == "text":
        return None
    schema = json_schema_format(response_format)
    if schema is not None:
        return {"type": "json_schema", "json_schema": schema}
    return dict(response_format)


def chat_neutral_fields(request: Request) -> dict[str, Any]:
    """``stop``, ``top_p``, ``seed``, ``parallel_tool_calls`` and ``logprobs`` as Chat Completions
    spells them (``parallel_tool_calls`` only beside tools: the API refuses it without them;
    ``logprobs: true`` with ``top_logprobs`` when a count was given)."""
    out: dict[str, Any] = {}
    if request.stop:
        out["stop"] = list(request.stop)
    if request.top_p is not None:
        out["top_p"] = request.top_p
    if request.seed is not None:
        out["seed"] = request.seed
    if request.parallel_tool_calls is not None and request.tools:
        out["parallel_tool_calls"] = request.parallel_tool_calls
    if asked(request):
        out["logprobs"] = True
        top = top_alternatives(request)
        if top is not None:
            out["top_logprobs"] = top
    return out
