"""Helpers for the Gemini tests: engines over recorded transcripts, and the allm request that
should produce a transcript's recorded request body (the inverse of the adapter's builder)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
from tests.providers.wire import Case

import allm
from allm.data.messages import ImagePart, Message, Role, TextPart
from allm.data.tools import ToolCall
from allm.providers.gemini import TEXT_SIGNATURE_ID, THOUGHT_SIGNATURE_ID, Gemini

KEY = "test-key"
WEATHER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"location": {"type": "string"}},
    "required": ["location"],
}


def model_of(case: Case) -> str:
    """The model id in the case's URL."""
    url = case.request["url"]
    return str(url.split("/models/", 1)[1].split(":", 1)[0])


def engine_for(
    case: Case, how: str | Sequence[int] = "whole", *, retry: Any = False, **opts: Any
) -> allm.Engine:
    """An engine whose sync and async clients both serve ``case``."""
    return allm.Engine(
        adapter=Gemini(),
        model=model_of(case),
        adapter_opts={
            "http_client": case.client(how),
            "async_http_client": case.async_client(how),
            **opts,
        },
        retry=retry,
    )


def _tool_content(response: Any) -> str:
    if isinstance(response, dict) and set(response) == {"output"}:
        return str(response["output"])
    return _dumps(response)


def _dumps(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


def request_from_wire(body: dict[str, Any]) -> allm.Request:
    """The allm ``Request`` whose Gemini body is ``body`` (for the transcripts' request.json)."""
    messages: list[Message] = []
    for part in (body.get("systemInstruction") or {}).get("parts", []):
        messages.append(allm.system(part["text"]))
    calls_by_name: dict[str, list[str]] = {}
    counter = 0
    for content in body["contents"]:
        parts = content["parts"]
        if content["role"] == "model":
            text = "".join(p["text"] for p in parts if "text" in p and not p.get("thought"))
            blocks: list[dict[str, Any]] = []
            calls: list[ToolCall] = []
            for p in parts:
                if p.get("thought") and p.get("thoughtSignature"):
                    blocks.append(
                        {
                            "text": p["text"],
                            "signature": p["thoughtSignature"],
                            "id": THOUGHT_SIGNATURE_ID,
                        }
                    )
                elif "text" in p and p.get("thoughtSignature"):
                    blocks.append(
                        {"text": "", "signature": p["thoughtSignature"], "id": TEXT_SIGNATURE_ID}
                    )
                elif "functionCall" in p:
                    fc = p["functionCall"]
                    metadata: dict[str, Any] = {}
                    if p.get("thoughtSignature"):
                        metadata["thought_signature"] = p["thoughtSignature"]
                    call_id = fc.get("id")
                    if call_id is None:
                        counter += 1
                        call_id = f"fc_synthetic_{counter}"
                        metadata["synthetic_id"] = True
                    calls.append(ToolCall(call_id, fc["name"], fc.get("args", {}), None, metadata))
                    calls_by_name.setdefault(fc["name"], []).append(call_id)
            messages.append(
                Message(
                    Role.ASSISTANT,
                    text,
                    tool_calls=tuple(calls),
                    metadata={"reasoning_blocks": tuple(blocks)} if blocks else {},
                )
            )
            continue
        responses = [p["functionResponse"] for p in parts if "functionResponse" in p]
        if responses:
            for fr in responses:
                call_id = fr.get("id") or calls_by_name[fr["name"]].pop(0)
                messages.append(allm.tool_result(call_id, _tool_content(fr["response"])))
            continue
        if len(parts) == 1 and "text" in parts[0]:
            messages.append(allm.user(parts[0]["text"]))
        else:
            items: list[Any] = []
            for p in parts:
                if "text" in p:
                    items.append(TextPart(p["text"]))
                else:
                    data = p["inlineData"]
                    items.append(ImagePart(allm.Image.from_base64(data["data"], data["mimeType"])))
            messages.append(allm.user(items))
    fields: dict[str, Any] = {}
    options: dict[str, Any] = {}
    config = dict(body.get("generationConfig") or {})
    if "maxOutputTokens" in config:
        fields["max_tokens"] = config.pop("maxOutputTokens")
    if "temperature" in config:
        fields["temperature"] = config.pop("temperature")
    if config.get("responseMimeType") == "application/json":
        config.pop("responseMimeType")
        schema = config.pop("responseSchema", None)
        fields["response_format"] = (
            allm.json_schema("answer", schema) if schema is not None else {"type": "json_object"}
        )
    if config.pop("responseLogprobs", None) is True:
        fields["logprobs"] = config.pop("logprobs", True)
    if config:
        options["generationConfig"] = config
    tools = []
    for group in body.get("tools") or []:
        for declaration in group["functionDeclarations"]:
            tools.append(
                allm.Tool(
                    declaration["name"],
                    declaration.get("description", ""),
                    declaration.get("parameters") or {},
                )
            )
    if tools:
        fields["tools"] = tools
    mode_config = (body.get("toolConfig") or {}).get("functionCallingConfig")
    if mode_config:
        mode = mode_config["mode"]
        allowed = mode_config.get("allowedFunctionNames")
        if mode == "ANY" and allowed and len(allowed) == 1:
            fields["tool_choice"] = allowed[0]
        else:
            fields["tool_choice"] = {"AUTO": "auto", "ANY": "required", "NONE": "none"}[mode]
    for key in ("safetySettings", "cachedContent"):
        if key in body:
            options[key] = body[key]
    if options:
        fields["options"] = options
    return allm.request(messages, **fields)


class CountingStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body that counts how often it was closed (sync and async)."""

    def __init__(self, chunks: Sequence[bytes]) -> None:
        self.chunks = list(chunks)
        self.closes = 0
        self.served = 0

    def __iter__(self) -> Any:
        for chunk in self.chunks:
            self.served += 1
            yield chunk

    async def __aiter__(self) -> Any:
        for chunk in self.chunks:
            self.served += 1
            yield chunk

    def close(self) -> None:
        self.closes += 1

    async def aclose(self) -> None:
        self.closes += 1


def text_roles(messages: Sequence[Message]) -> list[str]:
    """The role of each message (for readable assertions)."""
    return [str(m.role) for m in messages]


__all__ = [
    "KEY",
    "WEATHER_SCHEMA",
    "CountingStream",
    "engine_for",
    "model_of",
    "request_from_wire",
    "text_roles",
]
