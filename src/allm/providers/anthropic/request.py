"""Anthropic request building: the Messages body, structured output as a forced tool, thinking
blocks sent back."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ...adapters import Call
from ...adapters.base import HttpAdapter, text_of
from ...adapters.http import HttpRequest
from ...adapters.options import deep_merge
from ...data.messages import AudioPart, DocumentPart, Image, ImagePart, Message, Role, TextPart
from ...data.reasoning import CachePoint
from ...data.request import Request
from ...data.server_tools import ProviderTool, provider_tools_of
from ...output import anthropic_output_config
from ..parts import server_tool_calls
from ..reasoning import REASONING_ALIASES, cache_retention, has_cache_points
from .caching import apply_auto_cache, cache_control, marked_blocks, system_field, thinking_fields
from .settings import (
    API_VERSION,
    DEFAULT_MAX_TOKENS,
    REDACTED_THINKING_ID,
    STRUCTURED_TOOL_DESCRIPTION,
    STRUCTURED_TOOL_PREFIX,
    THINKING_ID,
    _thinking_enabled,
)

_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")

# Provider tools: (type, name, beta header) as the Messages API spells them.
PROVIDER_TOOLS: dict[str, tuple[str, str, str | None]] = {
    "web_search": ("web_search_20250305", "web_search", None),
    "code_execution": ("code_execution_20250825", "code_execution", "code-execution-2025-08-25"),
    "url_context": ("web_fetch_20250910", "web_fetch", "web-fetch-2025-09-10"),
}
_TOOL_CONFIG = ("max_uses", "allowed_domains", "blocked_domains")


def provider_tool(tool: ProviderTool) -> dict[str, Any]:
    """A provider tool as the Messages API spells it."""
    kind, name, _ = PROVIDER_TOOLS[tool.kind]
    spec: dict[str, Any] = {"type": kind, "name": name}
    for key in _TOOL_CONFIG:
        if key in tool.config:
            spec[key] = tool.config[key]
    if tool.kind == "web_search" and "user_location" in tool.config:
        spec["user_location"] = {"type": "approximate", **dict(tool.config["user_location"])}
    return spec


def beta_headers(
    request: Request, betas_by_kind: Mapping[str, str | None] | None = None
) -> dict[str, str]:
    """``anthropic-beta`` for the provider tools that still need one (``betas_by_kind`` where a
    platform names other betas than the Claude API's)."""
    if betas_by_kind is None:
        betas_by_kind = {kind: spec[2] for kind, spec in PROVIDER_TOOLS.items()}
    betas: list[str] = []
    for tool in provider_tools_of(request.tools):
        beta = betas_by_kind.get(tool.kind)
        if beta and beta not in betas:
            betas.append(beta)
    return {"anthropic-beta": ",".join(betas)} if betas else {}


def part_rule(part: DocumentPart | AudioPart) -> str | None:
    """Why the Messages API cannot carry ``part``: it takes documents, never audio."""
    return "unsupported_option" if isinstance(part, AudioPart) else None


def _json_format(response_format: Any) -> tuple[str, dict[str, Any]] | None:
    """(schema name, schema) for a structured ``response_format``, else None."""
    if not isinstance(response_format, Mapping):
        return None
    kind = response_format.get("type")
    if kind == "json_schema":
        schema = response_format.get("schema")
        return str(response_format.get("name") or "response"), dict(schema or {})
    if kind == "json_object":
        return "object", {"type": "object"}
    return None


def structured_tool_name(request: Request) -> str | None:
    """The synthetic tool that carries structured output for ``request``, or None.

    None when the request asks for no JSON, or when an earlier assistant turn already called the
    synthetic tool (it is not injected again, so the user's tools stay callable).
    """
    fmt = _json_format(request.response_format)
    if fmt is None:
        return None
    name = (STRUCTURED_TOOL_PREFIX + _NAME_UNSAFE.sub("_", fmt[0]))[:64]
    for message in request.messages:
        if message.role == Role.ASSISTANT and any(call.name == name for call in message.tool_calls):
            return None
    return name


def _thinking_blocks(blocks: Any) -> Iterable[dict[str, Any]]:
    """Anthropic thinking blocks from an assistant message's ``reasoning_blocks``.

    Blocks this adapter produced (``id`` "thinking" / "redacted_thinking") and native Anthropic
    blocks (with a ``type``) are sent back verbatim; a thinking block without a signature, or a
    block from another provider, is left out (the API would reject it).
    """
    if not isinstance(blocks, Sequence) or isinstance(blocks, str):
        return
    for block in blocks:
        if not isinstance(block, Mapping):
            continue
        kind = block.get("type")
        if kind in (THINKING_ID, REDACTED_THINKING_ID):
            yield dict(block)
            continue
        marker = block.get("id")
        signature = block.get("signature")
        if not isinstance(signature, str) or not signature:
            continue
        if marker == THINKING_ID:
            yield {"type": "thinking", "thinking": block.get("text") or "", "signature": signature}
        elif marker == REDACTED_THINKING_ID:
            yield {"type": "redacted_thinking", "data": signature}


class AnthropicRequests(HttpAdapter):
    """The Messages API request: the body, its messages, tools and tool choice."""

    # -- request ----------------------------------------------------------------------------------

    def build_request(self, request: Request, call: Call, *, stream: bool) -> HttpRequest:
        """``POST {base}/messages`` with the key, the API version and the JSON body."""
        body = self.build_body(request, call, stream=stream)
        headers = {"x-api-key": self.api_key(call), "anthropic-version": API_VERSION}
        headers.update(beta_headers(request))
        return self.json_request(call, f"{self.base(call)}/messages", body, headers)

    def build_body(self, request: Request, call: Call, *, stream: bool) -> dict[str, Any]:
        """The Messages API body for ``request`` (no key involved: safe to log)."""
        extras: dict[str, Any] = {**call.params, **request.options}
        for alias in REASONING_ALIASES:  # the neutral reasoning, never sent verbatim
            extras.pop(alias, None)
        fragment = thinking_fields(request, call.params)
        if "thinking" in fragment:
            extras["thinking"] = fragment["thinking"]
        if "output_config" in fragment:
            extras["output_config"] = {
                **extras.get("output_config", {}),
                **fragment["output_config"],
            }
        thinking = extras.get("thinking")
        if "thinking" in call.provider_options:  # merged into the body last: it is what is sent
            thinking = deep_merge(thinking, call.provider_options["thinking"], none_removes=True)
        max_tokens = fragment.get("max_tokens", request.max_tokens)
        if max_tokens is None:
            max_tokens = DEFAULT_MAX_TOKENS
            budget = thinking.get("budget_tokens") if isinstance(thinking, Mapping) else None
            if _thinking_enabled(thinking) and isinstance(budget, int) and budget >= max_tokens:
                max_tokens = budget + DEFAULT_MAX_TOKENS  # the budget must stay below max_tokens
        body: dict[str, Any] = {"model": request.model, "max_tokens": max_tokens}
        system = system_field(request.messages, cache_retention(request))
        if system is not None:
            body["system"] = system
        body["messages"] = self.wire_messages(request.messages)
        tools = [
            provider_tool(tool)
            if isinstance(tool, ProviderTool)
            else self.wire_tool(tool.name, tool.description, tool.schema)
            for tool in request.tools
        ]
        for tool, spec in zip(request.tools, tools, strict=True):
            if not isinstance(tool, ProviderTool) and tool.cache:
                spec["cache_control"] = cache_control("short")
        extra_tools = extras.pop("tools", None)  # provider tools (web search, ...) join ours
        if isinstance(extra_tools, list | tuple):
            tools.extend(extra_tools)
        elif extra_tools is not None:
            extras["tools"] = extra_tools
        choice = self.wire_tool_choice(request.tool_choice, bool(tools))
        synthetic = structured_tool_name(request)
        if synthetic is not None:
            fmt = _json_format(request.response_format)
            assert fmt is not None
            tools.append(self.wire_tool(synthetic, STRUCTURED_TOOL_DESCRIPTION, fmt[1]))
            # Thinking refuses a forced tool choice; then the model is only offered the tool.
            forced = not _thinking_enabled(thinking)
            choice = {"type": "tool", "name": synthetic} if forced else {"type": "auto"}
        if tools:
            body["tools"] = tools
        if request.parallel_tool_calls is not None and tools:
            choice = dict(choice or {"type": "auto"})
            if choice.get("type") in ("auto", "any", "tool"):
                choice["disable_parallel_tool_use"] = not request.parallel_tool_calls
        if choice is not None:
            body["tool_choice"] = choice
        if request.temperature is not None:
            body["temperature"] = request.temperature
        body.update(extras)
        if request.top_p is not None:  # a neutral field outranks a raw option
            body["top_p"] = request.top_p
        if request.stop:
            body["stop_sequences"] = list(request.stop)
        output_config = anthropic_output_config(request.response_format)
        if output_config is not None:
            body["output_config"] = {**body.get("output_config", {}), **output_config}
        apply_auto_cache(body, request)
        if stream:
            body["stream"] = True
        else:
            body.pop("stream", None)
        return body

    @staticmethod
    def wire_tool(name: str, description: str, schema: Mapping[str, Any]) -> dict[str, Any]:
        """One tool definition."""
        tool: dict[str, Any] = {"name": name}
        if description:
            tool["description"] = description
        tool["input_schema"] = dict(schema)
        return tool

    @staticmethod
    def wire_tool_choice(choice: Any, has_tools: bool) -> dict[str, Any] | None:
        """``tool_choice`` on the wire: auto/none/any/tool; None when nothing is to be sent."""
        if choice is None:
            return None
        if isinstance(choice, Mapping):
            if choice.get("type") == "function" and isinstance(choice.get("function"), Mapping):
                return {"type": "tool", "name": choice["function"].get("name")}
            return dict(choice)
        if isinstance(choice, tuple):
            return {"type": "tool", "name": choice[1]}
        if choice in ("auto", "none"):
            return {"type": choice} if has_tools else None
        if choice == "required":
            return {"type": "any"}
        return {"type": "tool", "name": choice}

    def wire_messages(self, messages: Sequence[Message]) -> list[dict[str, Any]]:
        """Conversation turns (system messages are hoisted elsewhere). Consecutive tool results
        become ONE user turn of ``tool_result`` blocks, as parallel tool calls require."""
        wire: list[dict[str, Any]] = []
        results: list[dict[str, Any]] | None = None
        for message in messages:
            role = message.role
            if role == Role.SYSTEM:
                continue
            if role == Role.TOOL:
                block = self.tool_result_block(message)
                if results is None:
                    results = [block]
                    wire.append({"role": "user", "content": results})
                else:
                    results.append(block)
                continue
            results = None
            if role == Role.ASSISTANT:
                turn = self.assistant_turn(message)
                if turn is not None:
                    wire.append(turn)
            else:
                wire.append({"role": "user", "content": self.user_content(message.content)})
        return wire

    def user_content(self, content: Any) -> str | list[dict[str, Any]]:
        """A string, or text and image blocks when there is an image."""
        if isinstance(content, str):
            return content
        if not any(isinstance(part, ImagePart | DocumentPart | CachePoint) for part in content):
            return text_of(content)
        return marked_blocks(content, self.content_block)

    def content_block(self, part: Any) -> dict[str, Any] | None:
        """A text, image or document part as a block (None for anything else)."""
        if isinstance(part, TextPart):
            return {"type": "text", "text": part.text}
        if isinstance(part, ImagePart):
            return self.image_block(part.image)
        if isinstance(part, DocumentPart):
            return self.document_block(part)
        return None

    @staticmethod
    def document_block(part: DocumentPart) -> dict[str, Any]:
        """A ``document`` block: a text, URL or base64 source, titled with the part's name;
        ``citations`` enabled when the part's ``metadata["citations"]`` is true."""
        if part.text is not None:
            source = {"type": "text", "media_type": "text/plain", "data": part.text}
        elif part.source.type == "url":
            source = {"type": "url", "url": str(part.source.value)}
        else:
            media_type = part.mime_type or "application/pdf"
            source = {"type": "base64", "media_type": media_type, "data": part.to_base64()}
        block: dict[str, Any] = {"type": "document", "source": source}
        if part.name:
            block["title"] = part.name
        if part.metadata.get("citations") is True:
            block["citations"] = {"enabled": True}
        return block

    @staticmethod
    def image_block(image: Image) -> dict[str, Any]:
        """An image as a URL source or a base64 source (``detail`` has no Anthropic meaning)."""
        source = image.source
        if source.type == "url":
            return {"type": "image", "source": {"type": "url", "url": str(source.value)}}
        if source.type == "base64":
            data = str(source.value)
        else:
            data = base64.b64encode(image.to_bytes()).decode("ascii")
        return {
            "type": "image",
            "source": {"type": "base64", "media_type": image.mime_type, "data": data},
        }

    def tool_result_block(self, message: Message) -> dict[str, Any]:
        """A tool message as a ``tool_result`` block (text, or text and images)."""
        block: dict[str, Any] = {"type": "tool_result", "tool_use_id": message.tool_call_id}
        block["content"] = self.user_content(message.content)
        if message.metadata.get("is_error") is True:
            block["is_error"] = True
        return block

    def assistant_turn(self, message: Message) -> dict[str, Any] | None:
        """Thinking blocks first (verbatim, with their signatures), then text, then ``tool_use``.

        An assistant message with nothing to say is left out: the API rejects empty turns.
        """
        blocks = list(_thinking_blocks(message.metadata.get("reasoning_blocks")))
        for server_call in server_tool_calls(message):
            # The API needs the server tool blocks back, each use before its result.
            kept = server_call.metadata.get("blocks")
            if isinstance(kept, list | tuple):
                blocks.extend(dict(block) for block in kept if isinstance(block, Mapping))
        text = text_of(message.content)
        if not blocks and not message.tool_calls:
            return {"role": "assistant", "content": text} if text else None
        if text:
            blocks.append({"type": "text", "text": text})
        for call in message.tool_calls:
            blocks.append(
                {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}
            )
        if blocks and has_cache_points(message):
            blocks[-1]["cache_control"] = cache_control("short")
        return {"role": "assistant", "content": blocks} if blocks else None
