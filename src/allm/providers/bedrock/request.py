"""The Converse request body: messages of content blocks, system, inferenceConfig, toolConfig,
and ``additionalModelRequestFields`` for what Converse has no field for."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any

from ...adapters import Call
from ...adapters.base import text_of
from ...adapters.options import deep_merge
from ...data.messages import AudioPart, DocumentPart, Image, ImagePart, Message, Role, TextPart
from ...data.reasoning import CachePoint
from ...data.request import Request
from ...data.server_tools import ProviderTool
from ..parts import server_tool_calls
from ..reasoning import REASONING_ALIASES, has_cache_points
from .caching import apply_auto_cache, cache_point, system_blocks
from .parts import audio_block, document_block, system_tools
from .settings import (
    ADDITIONAL,
    IMAGE_FORMATS,
    INFERENCE,
    INFERENCE_CONFIG,
    NOT_BODY,
    REASONING_ID,
    REDACTED_REASONING_ID,
    TOP_LEVEL,
)
from .thinking import reasoning_fields

# The neutral reasoning keywords: mapped by ``thinking``, never sent as written.
_NEUTRAL_PARAMS = frozenset({*REASONING_ALIASES, "verbosity"})


def build_body(request: Request, call: Call) -> dict[str, Any]:
    """The Converse / ConverseStream body (the same for both; no credential in it)."""
    body: dict[str, Any] = {"messages": wire_messages(request.messages)}
    system = system_blocks(request.messages)
    if system:
        body["system"] = system
    inference: dict[str, Any] = {}
    additional: dict[str, Any] = {}
    for name, value in {**call.params, **request.options}.items():
        if name in NOT_BODY or name in _NEUTRAL_PARAMS or value is None:
            continue
        if name in TOP_LEVEL:
            body[TOP_LEVEL[name]] = value
        elif name in INFERENCE:
            inference[INFERENCE[name]] = list(value) if name.startswith("stop") else value
        elif name in INFERENCE_CONFIG and isinstance(value, Mapping):
            inference.update(value)
        elif name in ADDITIONAL and isinstance(value, Mapping):
            additional.update(value)
        else:
            additional[name] = value  # what Converse lacks (top_k, thinking, ...) goes to the model
    if request.max_tokens is not None:
        inference["maxTokens"] = request.max_tokens
    if request.temperature is not None:
        inference["temperature"] = request.temperature
    if request.top_p is not None:
        inference["topP"] = request.top_p
    if request.stop:
        inference["stopSequences"] = list(request.stop)
    fragment = reasoning_fields(request, call.params)
    for key, value in fragment.get("inferenceConfig", {}).items():
        inference.setdefault(key, value)
    if inference:
        body["inferenceConfig"] = inference
    tool_config = _tool_config(request)
    if tool_config is not None:
        body["toolConfig"] = tool_config
    # A raw ``thinking`` (or ``reasoningConfig``) in the options is kept; the neutral field's
    # keys are merged over it, so ``reasoning=`` wins where both say something.
    additional = deep_merge(additional, fragment.get("additionalModelRequestFields", {}))
    if additional:
        body["additionalModelRequestFields"] = additional
    apply_auto_cache(body, request)
    return body


def _tool_config(request: Request) -> dict[str, Any] | None:
    if not request.tools:
        return None
    tools: list[dict[str, Any]] = []
    for tool in request.tools:
        if isinstance(tool, ProviderTool):
            continue
        spec = {
            "name": tool.name,
            "description": tool.description or tool.name,
            "inputSchema": {"json": dict(tool.schema or {"type": "object"})},
        }
        tools.append({"toolSpec": spec})
        if tool.cache:  # the tools up to this one are a cached prefix
            tools.append(cache_point("short"))
    tools.extend(system_tools(request.tools))
    config: dict[str, Any] = {"tools": tools}
    choice = wire_tool_choice(request.tool_choice)
    if choice is not None:
        config["toolChoice"] = choice
    return config


def tool_choice_name(choice: Any) -> str | None:
    """The tool a ``tool_choice`` forces by name, or None."""
    if isinstance(choice, tuple) and len(choice) == 2:
        return str(choice[1])
    if isinstance(choice, Mapping):
        function = choice.get("function")
        if isinstance(function, Mapping):
            return str(function.get("name") or "")
        if choice.get("type") == "tool":
            return str(choice.get("name") or "")
        if isinstance(choice.get("tool"), Mapping):
            return str(choice["tool"].get("name") or "")
        return None
    if isinstance(choice, str) and choice not in ("auto", "none", "required", "any"):
        return choice
    return None


def wire_tool_choice(choice: Any) -> dict[str, Any] | None:
    """``toolChoice``: ``{"auto": {}}``, ``{"any": {}}`` or ``{"tool": {"name": ...}}``."""
    if choice is None or choice == "none":
        return None
    if choice == "auto" or (isinstance(choice, Mapping) and "auto" in choice):
        return {"auto": {}}
    if choice in ("required", "any") or (isinstance(choice, Mapping) and "any" in choice):
        return {"any": {}}
    if isinstance(choice, Mapping) and choice.get("type") in ("auto", "any"):
        return {str(choice["type"]): {}}
    name = tool_choice_name(choice)
    return {"tool": {"name": name}} if name else None


def wire_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """Conversation turns (system messages go to ``system``). Consecutive tool results become
    ONE user turn of ``toolResult`` blocks, as parallel tool calls require."""
    wire: list[dict[str, Any]] = []
    results: list[dict[str, Any]] | None = None
    for message in messages:
        role = message.role
        if role == Role.SYSTEM:
            continue
        if role == Role.TOOL:
            block = tool_result_block(message)
            if results is None:
                results = [block]
                wire.append({"role": "user", "content": results})
            else:
                results.append(block)
            if has_cache_points(message):  # a tool result cannot hold one: it follows
                results.append(cache_point(_retention(message)))
            continue
        results = None
        if role == Role.ASSISTANT:
            content = assistant_content(message)
            if content:
                wire.append({"role": "assistant", "content": content})
        else:
            wire.append({"role": "user", "content": user_content(message.content)})
    return wire


def _retention(message: Message) -> str:
    """The retention of a message's last ``CachePoint``."""
    points = [p for p in message.content if isinstance(p, CachePoint)]
    return points[-1].retention if points else "short"


def user_content(content: Any, *, marks: bool = True) -> list[dict[str, Any]]:
    """Text, image, document and audio blocks; with ``marks``, a ``cachePoint`` block after the
    block before each ``CachePoint``."""
    if isinstance(content, str):
        return [{"text": content}]
    blocks: list[dict[str, Any]] = []
    for part in content:
        if isinstance(part, CachePoint):
            if marks and blocks:
                blocks.append(cache_point(part.retention))
        elif isinstance(part, TextPart):
            blocks.append({"text": part.text})
        elif isinstance(part, ImagePart):
            blocks.append(image_block(part.image))
        elif isinstance(part, DocumentPart):
            blocks.append(document_block(part))
        elif isinstance(part, AudioPart):
            blocks.append(audio_block(part))
    return blocks


def image_block(image: Image) -> dict[str, Any]:
    """An image as base64 bytes (the JSON wire of ``ImageBlock.source.bytes``)."""
    if image.source.type == "base64":
        data = str(image.source.value)
    else:
        data = base64.b64encode(image.to_bytes()).decode("ascii")
    kind = IMAGE_FORMATS.get(image.mime_type or "", "png")
    return {"image": {"format": kind, "source": {"bytes": data}}}


def tool_result_block(message: Message) -> dict[str, Any]:
    """A tool message as a ``toolResult`` block (text, or text and images)."""
    result: dict[str, Any] = {
        "toolUseId": message.tool_call_id,
        "content": user_content(message.content, marks=False),
    }
    if message.metadata.get("is_error") is True:
        result["status"] = "error"
    return {"toolResult": result}


def reasoning_blocks(blocks: Any) -> list[dict[str, Any]]:
    """``reasoningContent`` blocks from an assistant message's ``reasoning_blocks``: the ones
    this adapter produced, sent back as they came (a block from another provider is left out)."""
    if not isinstance(blocks, Sequence) or isinstance(blocks, str):
        return []
    wire: list[dict[str, Any]] = []
    for block in blocks:
        if not isinstance(block, Mapping):
            continue
        marker = block.get("id")
        signature = block.get("signature")
        if marker == REASONING_ID:
            text: dict[str, Any] = {"text": block.get("text") or ""}
            if isinstance(signature, str) and signature:
                text["signature"] = signature
            wire.append({"reasoningContent": {"reasoningText": text}})
        elif marker == REDACTED_REASONING_ID and isinstance(signature, str):
            wire.append({"reasoningContent": {"redactedContent": signature}})
    return wire


def assistant_content(message: Message) -> list[dict[str, Any]]:
    """Reasoning first (with its signature), the system tools' ``toolUse`` / ``toolResult``
    blocks as they came, then text, then ``toolUse`` blocks."""
    blocks = reasoning_blocks(message.metadata.get("reasoning_blocks"))
    for server_call in server_tool_calls(message):
        kept = server_call.metadata.get("blocks")
        if isinstance(kept, list | tuple):
            blocks.extend(dict(block) for block in kept if isinstance(block, Mapping))
    text = text_of(message.content)
    if text:
        blocks.append({"text": text})
    for tool_call in message.tool_calls:
        blocks.append(
            {
                "toolUse": {
                    "toolUseId": tool_call.id,
                    "name": tool_call.name,
                    "input": tool_call.arguments,
                }
            }
        )
    if blocks and has_cache_points(message):
        blocks.append(cache_point(_retention(message)))
    return blocks
