"""The ``generateContent`` body: contents, tool config, generation config, schemas cleaned of keys Gemini rejects."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..._json import loads
from ...adapters import Call
from ...adapters.base import (
    text_of,
)
from ...data.messages import AudioPart, DocumentPart, Image, ImagePart, Message, Role, TextPart
from ...data.request import Request
from ...data.server_tools import ProviderTool
from ...errors import ValidationError
from ...output import native_format
from ..logprobs import asked, top_alternatives
from .settings import (
    _GENERATION_CONFIG_KEYS,
    _NOT_BODY,
    _RENAMED,
    _THINKING_KEYS,
    _TOP_LEVEL,
    SKIP_SIGNATURE,
    TEXT_SIGNATURE_ID,
    THOUGHT_SIGNATURE_ID,
    _camel,
    _camel_keys,
)
from .thinking import thinking_config

# JSON Schema keys the Gemini ``Schema`` object rejects.
_SCHEMA_DROP = frozenset(
    {
        "additionalProperties",
        "$schema",
        "$id",
        "$comment",
        "$defs",
        "definitions",
        "examples",
        "patternProperties",
        "unevaluatedProperties",
        "strict",
    }
)
_SCHEMA_MAX_DEPTH = 32


def sanitize_schema(schema: Any, _depth: int = 0, _defs: Mapping[str, Any] | None = None) -> Any:
    """``schema`` as Gemini's ``Schema`` object accepts it.

    Drops ``additionalProperties``, ``$schema``, ``$defs`` and the other JSON Schema keys Gemini
    rejects; inlines local ``$ref``s (``#/$defs/X``, ``#/definitions/X``); turns ``oneOf`` into
    ``anyOf``, ``const`` into a one-value ``enum`` and ``type: [T, "null"]`` into ``type: T,
    nullable: true``. Property names are never touched.
    """
    if not isinstance(schema, Mapping):
        return schema
    if _defs is None:
        _defs = {**(schema.get("definitions") or {}), **(schema.get("$defs") or {})}
    if _depth > _SCHEMA_MAX_DEPTH:
        return {}
    ref = schema.get("$ref")
    if isinstance(ref, str):
        target = _defs.get(ref.rsplit("/", 1)[-1]) if ref.startswith("#/") else None
        merged = {**(target if isinstance(target, Mapping) else {}), **schema}
        merged.pop("$ref", None)
        return sanitize_schema(merged, _depth + 1, _defs)
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _SCHEMA_DROP or key == "$ref":
            continue
        if key == "properties" and isinstance(value, Mapping):
            out[key] = {
                str(name): sanitize_schema(sub, _depth + 1, _defs) for name, sub in value.items()
            }
        elif key in ("items", "not") and isinstance(value, Mapping):
            out[key] = sanitize_schema(value, _depth + 1, _defs)
        elif key in ("anyOf", "oneOf", "allOf", "prefixItems") and isinstance(value, list):
            name = "anyOf" if key == "oneOf" else key
            out[name] = [sanitize_schema(sub, _depth + 1, _defs) for sub in value]
        elif key == "const":
            out.setdefault("enum", [value])
        elif key == "type" and isinstance(value, list):
            kinds = [kind for kind in value if kind != "null"]
            if len(kinds) == 1:
                out["type"] = kinds[0]
            elif kinds:
                out["anyOf"] = [{"type": kind} for kind in kinds]
            if len(kinds) != len(value):
                out["nullable"] = True
        else:
            out[key] = value
    return out


def _has_parameters(schema: Mapping[str, Any]) -> bool:
    # Gemini rejects an OBJECT schema with no properties: a tool without arguments sends none.
    if not schema:
        return False
    return not (schema.get("type", "object") == "object" and not schema.get("properties"))


# -- request building -----------------------------------------------------------------------------


def generation_config(request: Request, call: Call) -> tuple[dict[str, Any], dict[str, Any]]:
    """``generationConfig`` and the extra top-level body fields, from the request and options.

    Engine params (``call.params``) come first, ``request.options`` over them,
    then the request's own ``max_tokens`` / ``temperature`` / ``response_format``. snake_case
    names are camel-cased (``top_p`` -> ``topP``); ``stop`` -> ``stopSequences``, ``max_tokens`` ->
    ``maxOutputTokens``, ``thinking_config`` -> ``thinkingConfig`` (its keys too),
    ``reasoning_effort`` -> ``thinkingConfig.thinkingLevel``; ``safety_settings``,
    ``cached_content`` and ``tool_config`` go to the top level; a ``generationConfig`` mapping is
    merged verbatim.
    """
    config: dict[str, Any] = {}
    top: dict[str, Any] = {}
    for source in (call.params, request.options):
        for key, value in source.items():
            _apply_option(str(key), value, config, top)
    thinking = thinking_config(request)
    if thinking:  # the neutral field over the raw options
        config["thinkingConfig"] = {**config.get("thinkingConfig", {}), **thinking}
    if request.max_tokens is not None:
        config["maxOutputTokens"] = request.max_tokens
    if request.temperature is not None:
        config["temperature"] = request.temperature
    if request.stop:
        config["stopSequences"] = list(request.stop)
    if request.top_p is not None:
        config["topP"] = request.top_p
    if request.seed is not None:
        config["seed"] = request.seed
    if asked(request):
        config["responseLogprobs"] = True
        alternatives = top_alternatives(request)
        if alternatives is not None:
            config["logprobs"] = alternatives
    fmt = native_format(request.response_format, "gemini")
    if isinstance(fmt, Mapping):
        kind = fmt.get("type")
        if kind == "json_object":
            config["responseMimeType"] = "application/json"
        elif kind == "json_schema":
            nested = fmt.get("json_schema")
            schema = fmt.get("schema")
            if schema is None and isinstance(nested, Mapping):
                schema = nested.get("schema")
            config["responseMimeType"] = "application/json"
            if isinstance(schema, Mapping):
                config["responseSchema"] = sanitize_schema(schema)
    return config, top


def _apply_option(key: str, value: Any, config: dict[str, Any], top: dict[str, Any]) -> None:
    if key in _NOT_BODY or value is None:
        return
    if key in _GENERATION_CONFIG_KEYS and isinstance(value, Mapping):
        config.update(value)
    elif key in _TOP_LEVEL:
        top[_TOP_LEVEL[key]] = value
    elif key in _THINKING_KEYS and isinstance(value, Mapping):
        config.setdefault("thinkingConfig", {}).update(_camel_keys(value))
    elif key == "reasoning_effort":
        config.setdefault("thinkingConfig", {})["thinkingLevel"] = value
    elif key in ("stop", "stop_sequences", "stopSequences"):
        config["stopSequences"] = [value] if isinstance(value, str) else list(value)
    elif key in ("response_schema", "responseSchema"):
        config["responseSchema"] = sanitize_schema(value)
    else:
        config[_RENAMED.get(key) or _camel(key)] = value


def _tool_config(choice: Any) -> dict[str, Any] | None:
    """``toolConfig`` for a ``tool_choice``: auto/required/none, a tool name, ``("tool", name)``,
    an OpenAI-style ``{"type": "function", "function": {"name"}}``, or a dict passed through."""
    if choice is None:
        return None
    if isinstance(choice, tuple) and len(choice) == 2:
        choice = choice[1]
    if isinstance(choice, Mapping):
        function = choice.get("function")
        if choice.get("type") == "function" and isinstance(function, Mapping):
            choice = function.get("name")
        elif choice.get("type") == "tool" and isinstance(choice.get("name"), str):
            choice = choice["name"]
        else:
            return dict(choice)
    if choice == "auto":
        return {"functionCallingConfig": {"mode": "AUTO"}}
    if choice == "required":
        return {"functionCallingConfig": {"mode": "ANY"}}
    if choice == "none":
        return {"functionCallingConfig": {"mode": "NONE"}}
    if isinstance(choice, str) and choice:
        return {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [choice]}}
    return None


def _inline_data(image: Image) -> dict[str, Any]:
    if image.source.type == "base64":
        data = str(image.source.value)
    else:
        import base64

        data = base64.b64encode(image.to_bytes()).decode("ascii")
    return {"inlineData": {"mimeType": image.mime_type, "data": data}}


def _user_parts(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"text": content}]
    parts: list[dict[str, Any]] = []
    for part in content:
        if isinstance(part, TextPart):
            parts.append({"text": part.text})
        elif isinstance(part, ImagePart):
            parts.append(_inline_data(part.image))
        elif isinstance(part, DocumentPart | AudioPart):
            parts.append(_media_part(part))
    return parts or [{"text": ""}]


def _media_part(part: DocumentPart | AudioPart) -> dict[str, Any]:
    """A document or audio part: ``fileData`` for a URL, else ``inlineData``."""
    if part.source.type == "url":
        file_data = {"fileUri": str(part.source.value)}
        if part.mime_type:
            file_data["mimeType"] = part.mime_type
        return {"fileData": file_data}
    return {"inlineData": {"mimeType": part.mime_type, "data": part.to_base64()}}


_PROVIDER_TOOLS = {
    "web_search": "googleSearch",
    "code_execution": "codeExecution",
    "url_context": "urlContext",
    "file_search": "fileSearch",
}
PROVIDER_TOOL_KINDS = tuple(_PROVIDER_TOOLS)


def provider_tool(tool: ProviderTool) -> dict[str, Any]:
    """A provider tool as ``generateContent`` spells it (one ``Tool`` object each)."""
    config: dict[str, Any] = {}
    if tool.kind == "file_search":
        config["fileSearchStoreNames"] = list(tool.config.get("vector_store_ids", ()))
        if "max_results" in tool.config:
            config["topK"] = tool.config["max_results"]
    return {_PROVIDER_TOOLS[tool.kind]: config}


def _tool_response(content: Any) -> dict[str, Any]:
    """A tool message's content as ``functionResponse.response`` (a JSON object): the tool's
    JSON object when the content is one, else ``{"output": text}``."""
    text = text_of(content)
    if text.startswith("{"):
        try:
            value = loads(text)
        except ValueError:
            value = None
        if isinstance(value, dict):
            return value
    return {"output": text}


def _signatures(metadata: Mapping[str, Any]) -> tuple[str | None, list[dict[str, Any]]]:
    """The answer-text signature and the signed thought parts kept on an assistant message."""
    text_signature: str | None = None
    thought_parts: list[dict[str, Any]] = []
    blocks = metadata.get("reasoning_blocks")
    if isinstance(blocks, Sequence) and not isinstance(blocks, str):
        for block in blocks:
            if not isinstance(block, Mapping):
                continue
            signature = block.get("signature")
            if not isinstance(signature, str) or not signature:
                continue
            marker = block.get("id")
            if marker == TEXT_SIGNATURE_ID and text_signature is None:
                text_signature = signature
            elif marker == THOUGHT_SIGNATURE_ID:
                thought_parts.append(
                    {
                        "text": str(block.get("text") or ""),
                        "thought": True,
                        "thoughtSignature": signature,
                    }
                )
    explicit = metadata.get("thought_signature")
    if isinstance(explicit, str) and explicit:
        text_signature = explicit
    return text_signature, thought_parts


def _model_parts(message: Message, synthetic: set[str]) -> list[dict[str, Any]]:
    text_signature, parts = _signatures(message.metadata)
    text = text_of(message.content)
    if text or text_signature:
        part: dict[str, Any] = {"text": text}
        if text_signature:
            part["thoughtSignature"] = text_signature
        parts.append(part)
    call_parts: list[dict[str, Any]] = []
    foreign = True
    for call in message.tool_calls:
        function: dict[str, Any] = {"name": call.name, "args": dict(call.arguments or {})}
        if call.id not in synthetic:
            function["id"] = call.id
        part = {"functionCall": function}
        signature = call.metadata.get("thought_signature")
        if isinstance(signature, str) and signature:
            part["thoughtSignature"] = signature
            foreign = False
        if call.metadata.get("synthetic_id"):
            foreign = False
        call_parts.append(part)
    if call_parts and foreign:
        call_parts[0]["thoughtSignature"] = SKIP_SIGNATURE
    return parts + call_parts


def _contents(
    messages: Sequence[Message],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``systemInstruction`` parts and ``contents`` for a conversation."""
    system: list[dict[str, Any]] = []
    contents: list[dict[str, Any]] = []
    names: dict[str, str] = {}
    synthetic: set[str] = set()
    problems: list[tuple[tuple[str | int, ...], str]] = []
    results_open = False  # the last content holds tool results: later ones join it
    for index, message in enumerate(messages):
        role = message.role
        if role == Role.SYSTEM:
            system.append({"text": text_of(message.content)})
            continue
        if role == Role.TOOL:
            call_id = message.tool_call_id or ""
            name = names.get(call_id) or message.name
            if not name:
                problems.append((("messages", index, "tool_call_id"), "unknown_tool_call_id"))
                continue
            response: dict[str, Any] = {"name": name, "response": _tool_response(message.content)}
            if call_id and call_id not in synthetic:
                response["id"] = call_id
            part = {"functionResponse": response}
            if results_open:
                contents[-1]["parts"].append(part)
            else:
                contents.append({"role": "user", "parts": [part]})
                results_open = True
            continue
        results_open = False
        if role == Role.ASSISTANT:
            for call in message.tool_calls:
                names[call.id] = call.name
                if call.metadata.get("synthetic_id"):
                    synthetic.add(call.id)
            parts = _model_parts(message, synthetic)
            if parts:
                contents.append({"role": "model", "parts": parts})
        else:
            contents.append({"role": "user", "parts": _user_parts(message.content)})
    if problems:
        raise ValidationError(
            "invalid_message",
            "a tool result answers no earlier tool call, so Gemini cannot name it",
            errors=problems,
        )
    return system, contents
