"""The Responses request body (``POST /responses``): input items, tools, reasoning, formats."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ...adapters import Call
from ...data.messages import DocumentPart, ImagePart, Message, Role, TextPart
from ...data.request import Request
from ...data.server_tools import ProviderTool
from ...output import native_format
from ..logprobs import asked, top_alternatives
from .request import (
    content_text,
    document_filename,
    forced_tool,
    has_image,
    image_url,
    json_schema_format,
    merge_extras,
    strict_of,
    tool_schema,
    wire_arguments,
)
from .settings import _OWN_PARAMS, reasoning_params
from .thinking import cache_fields, responses_reasoning

_REASONING_MODELS = re.compile(r"^(gpt-5|o[1-9])")
_ENCRYPTED = "reasoning.encrypted_content"
_LOGPROBS = "message.output_text.logprobs"
RESPONSES_PROVIDER_KINDS = ("web_search", "code_execution", "file_search")


# -- request --------------------------------------------------------------------------------------


def _user_content(message: Message) -> Any:
    if not has_image(message.content):
        return content_text(message.content)
    blocks: list[dict[str, Any]] = []
    for part in message.content:
        if isinstance(part, TextPart):
            blocks.append({"type": "input_text", "text": part.text})
        elif isinstance(part, ImagePart):
            blocks.append(
                {"type": "input_image", "image_url": image_url(part), "detail": part.detail}
            )
        elif isinstance(part, DocumentPart):
            blocks.append(_input_file(part))
    return blocks


def _input_file(part: DocumentPart) -> dict[str, Any]:
    """A document as ``input_file`` (``file_url`` for a URL, else ``file_data``); inline text
    documents go as ``input_text``."""
    if part.text is not None:
        return {"type": "input_text", "text": part.text}
    if part.source.type == "url":
        return {"type": "input_file", "file_url": str(part.source.value)}
    return {
        "type": "input_file",
        "filename": document_filename(part),
        "file_data": part.to_data_uri(),
    }


def provider_tool(tool: ProviderTool) -> dict[str, Any]:
    """A provider tool as the Responses API spells it."""
    config = tool.config
    if tool.kind == "web_search":
        spec: dict[str, Any] = {"type": "web_search"}
        if "allowed_domains" in config:
            spec["filters"] = {"allowed_domains": list(config["allowed_domains"])}
        if "user_location" in config:
            spec["user_location"] = {"type": "approximate", **dict(config["user_location"])}
        if "context_size" in config:
            spec["search_context_size"] = config["context_size"]
        return spec
    if tool.kind == "code_execution":
        return {"type": "code_interpreter", "container": {"type": "auto"}}
    spec = {"type": "file_search", "vector_store_ids": list(config.get("vector_store_ids", ()))}
    if "max_results" in config:
        spec["max_num_results"] = config["max_results"]
    return spec


def reasoning_items(message: Message, *, stored: bool) -> list[dict[str, Any]]:
    """The reasoning items an assistant turn carried (``metadata["reasoning_blocks"]``), grouped
    back by item id. Without ``encrypted_content`` an item can only be found by id on a stored
    response, so it is left out when ``store`` is false."""
    groups: dict[str, dict[str, Any]] = {}
    for block in _list_of(message.metadata.get("reasoning_blocks")):
        if not isinstance(block, Mapping):
            continue
        item_id = block.get("id")
        if not isinstance(item_id, str) or not item_id.startswith("rs_"):
            continue  # not an OpenAI reasoning item (another provider's thinking, say)
        group = groups.setdefault(item_id, {"summary": [], "encrypted": None})
        text = block.get("text")
        if isinstance(text, str) and text:
            group["summary"].append({"type": "summary_text", "text": text})
        signature = block.get("signature")
        if isinstance(signature, str) and signature:
            group["encrypted"] = signature
    items = []
    for item_id, group in groups.items():
        if group["encrypted"] is None and not stored:
            continue
        item: dict[str, Any] = {"type": "reasoning", "id": item_id, "summary": group["summary"]}
        if group["encrypted"] is not None:
            item["encrypted_content"] = group["encrypted"]
        items.append(item)
    return items


def _list_of(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def input_items(request: Request) -> list[dict[str, Any]]:
    """The ``input`` list (design §20.5)."""
    stored = request.options.get("store") is not False
    items: list[dict[str, Any]] = []
    for message in request.messages:
        role = message.role
        if role == Role.SYSTEM:
            items.append({"role": "system", "content": content_text(message.content)})
        elif role == Role.USER:
            items.append({"role": "user", "content": _user_content(message)})
        elif role == Role.ASSISTANT:
            text = content_text(message.content)
            if not message.tool_calls:
                items.append({"role": "assistant", "content": text})
                continue
            reasoning = reasoning_items(message, stored=stored)
            items.extend(reasoning)
            if text:
                items.append({"role": "assistant", "content": text})
            for call in message.tool_calls:
                item: dict[str, Any] = {
                    "type": "function_call",
                    "call_id": call.id,
                    "name": call.name,
                    "arguments": wire_arguments(call),
                }
                item_id = call.metadata.get("item_id")
                if reasoning and isinstance(item_id, str) and item_id.startswith("fc_"):
                    item["id"] = item_id  # the pair reasoning -> function_call as it was output
                items.append(item)
        else:
            items.append(
                {
                    "type": "function_call_output",
                    "call_id": message.tool_call_id,
                    "output": content_text(message.content),
                }
            )
    return items


def _tool_choice(choice: Any) -> Any:
    name = forced_tool(choice)
    if name is not None:
        return {"type": "function", "name": name}
    if isinstance(choice, Mapping):
        function = choice.get("function")
        if choice.get("type") == "function" and isinstance(function, Mapping):
            return {"type": "function", "name": function.get("name")}
        return dict(choice)
    return choice


def _format(response_format: Any) -> dict[str, Any] | None:
    response_format = native_format(response_format, "openai")
    if response_format == "text":
        return {"type": "text"}  # design §20.5: sent explicitly
    if not isinstance(response_format, Mapping):
        return None
    schema = json_schema_format(response_format)
    if schema is not None:
        return {"type": "json_schema", **schema}
    return dict(response_format)


def build_body(
    request: Request, call: Call, *, stream: bool, validate: bool = True
) -> dict[str, Any]:
    """The Responses body: ``input`` items, flat tools, ``text.format``, ``max_output_tokens``,
    ``reasoning{effort, summary}``, ``text.verbosity``, then options and params."""
    model = str(request.model or "")
    body: dict[str, Any] = {"model": model, "input": input_items(request)}
    if request.tools:
        tools = []
        for tool in request.tools:
            if isinstance(tool, ProviderTool):
                tools.append(provider_tool(tool))
                continue
            spec: dict[str, Any] = {
                "type": "function",
                "name": tool.name,
                "description": tool.description,
                "parameters": tool_schema(tool),
                "strict": strict_of(tool),
            }
            tools.append(spec)
        body["tools"] = tools
    if request.tool_choice is not None and request.tools:
        body["tool_choice"] = _tool_choice(request.tool_choice)
    controls = reasoning_params(call, validate=validate)
    text: dict[str, Any] = {}
    text_format = _format(request.response_format)
    if text_format is not None:
        text["format"] = text_format
    if "verbosity" in controls:
        text["verbosity"] = controls["verbosity"]
    if text:
        body["text"] = text
    if request.max_tokens is not None:
        body["max_output_tokens"] = request.max_tokens
    if request.temperature is not None:
        body["temperature"] = request.temperature
    body.update(responses_reasoning(request, call, validate=validate))
    body.update(cache_fields(request))
    if (
        request.options.get("store") is False
        and "include" not in request.options
        and "include" not in call.params
        and _REASONING_MODELS.match(model)
    ):
        body["include"] = [_ENCRYPTED]  # carries reasoning across turns without storage
    if stream:
        body["stream"] = True
    merge_extras(body, request, call, _OWN_PARAMS)
    # a neutral field outranks a raw option
    if request.top_p is not None:
        body["top_p"] = request.top_p
    if request.parallel_tool_calls is not None and request.tools:
        body["parallel_tool_calls"] = request.parallel_tool_calls
    if asked(request):
        given = body.get("include")
        include = list(given) if isinstance(given, list | tuple) else []
        body["include"] = include if _LOGPROBS in include else [*include, _LOGPROBS]
        top = top_alternatives(request)
        if top is not None:
            body["top_logprobs"] = top
    return body
