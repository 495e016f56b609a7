"""The ``/api/chat`` request body: messages with base64 ``images`` and whole tool calls,
``options`` for the sampling controls, ``format`` for structured output, ``think``."""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Any

from ...adapters import Call
from ...adapters.base import text_of
from ...data.messages import ImagePart, Role
from ...data.reasoning import Reasoning
from ...data.request import Request
from ...errors import FieldError, ValidationError
from ...output import native_format
from ..logprobs import asked, top_alternatives
from ..openai import json_schema_format, merge_extras
from ..reasoning import cache_key_problems, unsupported

# Call keywords this adapter reads itself: never copied into the body as they are.
OWN_PARAMS = ("reasoning_effort", "think", "max_line_bytes")
# Models whose ``think`` takes a level ("low" / "medium" / "high") rather than a boolean.
_LEVEL_MODELS = re.compile(r"^gpt-oss")
_EFFORTS = {"low": "low", "medium": "medium", "high": "high", "minimal": "low", "xhigh": "high"}


def url_image_errors(request: Request) -> None:
    """Ollama takes image bytes only: an image given by URL is refused before any I/O."""
    problems = [
        (("messages", index, "content", part_index), "unsupported_image_source")
        for index, message in enumerate(request.messages)
        if isinstance(message.content, tuple)
        for part_index, part in enumerate(message.content)
        if isinstance(part, ImagePart) and part.image.source.type == "url"
    ]
    if problems:
        raise ValidationError("invalid_message", errors=problems)


def _images(content: Any) -> list[str]:
    if isinstance(content, str):
        return []
    out = []
    for part in content:
        if isinstance(part, ImagePart):
            source = part.image.source
            if source.type == "base64":
                out.append(str(source.value))
            else:
                out.append(base64.b64encode(part.image.to_bytes()).decode("ascii"))
    return out


def ollama_messages(request: Request) -> list[dict[str, Any]]:
    """The ``messages`` array; a tool result names its tool (Ollama has no call ids)."""
    names: dict[str, str] = {}
    out: list[dict[str, Any]] = []
    for message in request.messages:
        role = message.role
        item: dict[str, Any] = {"role": str(role), "content": text_of(message.content)}
        if message.role == Role.USER:
            images = _images(message.content)
            if images:
                item["images"] = images
        elif message.role == Role.ASSISTANT and message.tool_calls:
            item["tool_calls"] = [
                {"function": {"name": call.name, "arguments": dict(call.arguments)}}
                for call in message.tool_calls
            ]
            names.update((call.id, call.name) for call in message.tool_calls)
        elif message.role == Role.TOOL:
            name = message.name or names.get(message.tool_call_id or "")
            if name:
                item["tool_name"] = name
        out.append(item)
    return out


def _format(response_format: Any) -> Any:
    response_format = native_format(response_format, "openai")
    if not isinstance(response_format, Mapping) or response_format.get("type") == "text":
        return None
    schema = json_schema_format(response_format)
    if schema is not None:
        return schema["schema"]
    return "json" if response_format.get("type") == "json_object" else None


def _think(request: Request, call: Call) -> Any:
    if "think" in call.params and call.params["think"] is not None:
        return call.params["think"]
    reasoning = request.reasoning
    if isinstance(reasoning, Reasoning) and reasoning.effort is not None:
        return _think_value(request, reasoning.effort)
    effort = call.params.get("reasoning_effort")
    if effort is None:
        return None
    if effort == "none":
        return False
    return _EFFORTS.get(str(effort), str(effort))


def _think_value(request: Request, effort: str) -> Any:
    """``think`` for a neutral effort: ``false`` for ``"none"``, a level on the models Ollama
    documents levels for (gpt-oss), else ``true``."""
    if effort == "none":
        return False
    if _LEVEL_MODELS.match(str(request.model or "")):
        return _EFFORTS.get(effort, "medium")
    return True


def reasoning_sent(request: Request, call: Call) -> dict[str, Any]:
    """The ``think`` the call's reasoning set (``metadata["reasoning_sent"]``)."""
    think = _think(request, call)
    return {} if think is None else {"think": think}


def neutral_problems(request: Request) -> list[FieldError]:
    """What ``/api/chat`` cannot express: ``parallel_tool_calls``, a ``tool_choice`` that forces
    a call (the API has no ``tool_choice``), a reasoning budget or summary, a prompt-cache key."""
    problems = cache_key_problems(request)
    if request.parallel_tool_calls is not None:
        problems.append(unsupported("parallel_tool_calls"))
    if request.tool_choice not in (None, "auto", "none"):
        problems.append(unsupported("tool_choice"))
    reasoning = request.reasoning
    if isinstance(reasoning, Reasoning):
        if reasoning.budget_tokens is not None:
            problems.append(unsupported("reasoning", "budget_tokens"))
        if reasoning.summary is not None:
            problems.append(unsupported("reasoning", "summary"))
    return problems


def _options(request: Request) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for name, value in (
        ("temperature", request.temperature),
        ("top_p", request.top_p),
        ("seed", request.seed),
        ("num_predict", request.max_tokens),
    ):
        if value is not None:
            options[name] = value
    if request.stop:
        options["stop"] = list(request.stop)
    return options


def build_body(request: Request, call: Call, *, stream: bool) -> dict[str, Any]:
    """The ``/api/chat`` body. Raw options and engine params go to the top level (``keep_alive``,
    ``options``); the neutral sampling fields go into ``options`` and outrank them."""
    body: dict[str, Any] = {
        "model": str(request.model or ""),
        "messages": ollama_messages(request),
        "stream": stream,
    }
    if request.tools and request.tool_choice != "none":
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": tool.name,
                    "description": tool.description,
                    "parameters": dict(tool.schema),
                },
            }
            for tool in request.tools
        ]
    response_format = _format(request.response_format)
    if response_format is not None:
        body["format"] = response_format
    think = _think(request, call)
    if think is not None:
        body["think"] = think
    merge_extras(body, request, call, OWN_PARAMS)
    neutral = _options(request)
    if neutral:
        given = body.get("options")
        body["options"] = {**(given if isinstance(given, Mapping) else {}), **neutral}
    if asked(request):
        body["logprobs"] = True
        top = top_alternatives(request)
        if top is not None:
            body["top_logprobs"] = top
    body["stream"] = stream
    return body
