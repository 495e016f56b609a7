"""Helpers for the OpenAI adapter tests: a fixture's request.json body turned back into an allm
request (so the adapter can be asked to build it again), engines wired to a recorded case, and
the sync/async twins of each API."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import httpx
from tests.providers.wire import Case

import allm
from allm.data.messages import ImagePart, Message, TextPart
from allm.data.tools import Tool, ToolCall
from allm.providers.openai import OpenAI, OpenAICompatible

CHAT = "openai-chat"
RESPONSES = "openai-responses"
ENDPOINTS = {CHAT: "chat_completions", RESPONSES: "responses"}
PARAMS = ("reasoning_effort", "reasoning_summary", "verbosity")


# -- request.json -> allm ---------------------------------------------------------------------------


def _tool(name: str, description: str, parameters: Any, strict: Any) -> Tool:
    chosen = strict if isinstance(strict, bool) else None
    return Tool(name, description or "", parameters or {}, strict=chosen)


def _parts(content: Any) -> Any:
    if isinstance(content, str):
        return content
    parts: list[Any] = []
    for block in content:
        kind = block.get("type")
        if kind in ("text", "input_text"):
            parts.append(TextPart(block["text"]))
        elif kind == "image_url":
            url, detail = block["image_url"]["url"], block["image_url"].get("detail", "auto")
            parts.append(_image(url, detail))
        elif kind == "input_image":
            parts.append(_image(block["image_url"], block.get("detail", "auto")))
    return parts


def _image(url: str, detail: str) -> ImagePart:
    if url.startswith("data:"):
        return ImagePart.from_data_uri(url, detail=detail)  # type: ignore[arg-type]
    return ImagePart.from_url(url, detail=detail)  # type: ignore[arg-type]


def _call(
    call_id: str, name: str, arguments: str, metadata: dict[str, Any] | None = None
) -> ToolCall:
    return ToolCall(call_id, name, json.loads(arguments or "{}"), arguments, metadata or {})


def chat_request(body: dict[str, Any]) -> tuple[allm.Request, dict[str, Any]]:
    """A Chat Completions body as (Request, call keywords)."""
    messages: list[Message] = []
    for item in body["messages"]:
        role = item["role"]
        if role in ("system", "developer"):
            messages.append(allm.system(item["content"]))
        elif role == "user":
            messages.append(Message("user", _parts(item["content"])))
        elif role == "assistant":
            calls = tuple(
                _call(c["id"], c["function"]["name"], c["function"]["arguments"])
                for c in item.get("tool_calls") or ()
            )
            messages.append(Message("assistant", item.get("content") or "", tool_calls=calls))
        elif role == "tool":
            messages.append(allm.tool_result(item["tool_call_id"], item["content"]))
    fields: dict[str, Any] = {"model": body["model"]}
    options: dict[str, Any] = {}
    params: dict[str, Any] = {}
    for key, value in body.items():
        if key in ("messages", "model", "stream"):
            continue
        if key == "stream_options" and value == {"include_usage": True}:
            continue
        if key == "tools":
            fields["tools"] = tuple(
                _tool(
                    t["function"]["name"],
                    t["function"].get("description", ""),
                    t["function"].get("parameters"),
                    t["function"].get("strict"),
                )
                for t in value
            )
        elif key == "tool_choice":
            fields["tool_choice"] = value["function"]["name"] if isinstance(value, dict) else value
        elif key in ("max_tokens", "max_completion_tokens"):
            fields["max_tokens"] = value
        elif key == "temperature":
            fields["temperature"] = value
        elif key == "response_format":
            if value.get("type") == "json_schema":
                spec = value["json_schema"]
                fields["response_format"] = allm.json_schema(
                    spec["name"], spec["schema"], spec.get("strict", True)
                )
            else:
                fields["response_format"] = value["type"]
        elif key in PARAMS:
            params[key] = value
        elif key == "logprobs" and value is True:
            fields["logprobs"] = body.get("top_logprobs", True)
        elif key == "top_logprobs" and body.get("logprobs") is True:
            continue
        else:
            options[key] = value
    return allm.Request(messages=tuple(messages), options=options, **fields), params


def responses_request(body: dict[str, Any]) -> tuple[allm.Request, dict[str, Any]]:
    """A Responses body as (Request, call keywords)."""
    source = body["input"]
    if isinstance(source, str):
        source = [{"role": "user", "content": source}]
    messages: list[Message] = []
    pending_reasoning: list[dict[str, Any]] = []
    for item in source:
        kind = item.get("type")
        if kind == "reasoning":
            for part in item.get("summary") or [{"text": ""}]:
                pending_reasoning.append(
                    {
                        "text": part["text"],
                        "signature": item.get("encrypted_content"),
                        "id": item["id"],
                    }
                )
        elif kind == "function_call":
            metadata = {"item_id": item["id"]} if "id" in item else {}
            call = _call(item["call_id"], item["name"], item["arguments"], metadata)
            last = messages[-1] if messages else None
            if last is not None and last.role == "assistant":
                messages[-1] = Message(
                    "assistant",
                    last.content,
                    tool_calls=(*last.tool_calls, call),
                    metadata=last.metadata,
                )
            else:
                meta = {"reasoning_blocks": tuple(pending_reasoning)} if pending_reasoning else {}
                messages.append(Message("assistant", "", tool_calls=(call,), metadata=meta))
                pending_reasoning = []
        elif kind == "function_call_output":
            messages.append(allm.tool_result(item["call_id"], item["output"]))
        elif item.get("role") in ("system", "developer"):
            messages.append(allm.system(item["content"]))
        elif item.get("role") == "user":
            messages.append(Message("user", _parts(item["content"])))
        elif item.get("role") == "assistant":
            meta = {"reasoning_blocks": tuple(pending_reasoning)} if pending_reasoning else {}
            pending_reasoning = []
            messages.append(Message("assistant", _parts(item["content"]), metadata=meta))
    fields: dict[str, Any] = {"model": body["model"]}
    options: dict[str, Any] = {}
    params: dict[str, Any] = {}
    for key, value in body.items():
        if key in ("input", "model", "stream"):
            continue
        if key == "tools":
            fields["tools"] = tuple(
                _tool(t["name"], t.get("description", ""), t.get("parameters"), t.get("strict"))
                for t in value
            )
        elif key == "tool_choice":
            fields["tool_choice"] = value["name"] if isinstance(value, dict) else value
        elif key == "max_output_tokens" and value >= 16:
            # below OpenAI's minimum the field is refused before any I/O; the recorded 400
            # (error_400_integer_below_min) is reached with the raw option instead
            fields["max_tokens"] = value
        elif key == "temperature":
            fields["temperature"] = value
        elif key == "text":
            found = value.get("format")
            if found and found.get("type") == "json_schema":
                fields["response_format"] = allm.json_schema(
                    found["name"], found["schema"], found.get("strict", True)
                )
            elif found:
                fields["response_format"] = found["type"]
            if "verbosity" in value:
                params["verbosity"] = value["verbosity"]
        elif key == "reasoning":
            if "effort" in value:
                params["reasoning_effort"] = value["effort"]
            if "summary" in value:
                params["reasoning_summary"] = value["summary"]
        elif key == "include" and value == ["message.output_text.logprobs"]:
            fields["logprobs"] = body.get("top_logprobs", True)
        elif key == "top_logprobs" and "logprobs" in fields:
            continue
        else:
            options[key] = value
    return allm.Request(messages=tuple(messages), options=options, **fields), params


def request_for(case: Case) -> tuple[allm.Request, dict[str, Any]]:
    """The allm request (and call keywords) that should make the adapter send ``case``'s body."""
    body = case.request["body"]
    return chat_request(body) if case.directory == CHAT else responses_request(body)


def expected_body(case: Case) -> dict[str, Any]:
    """request.json's body, with a string ``input`` written as the one user message it means."""
    body = dict(case.request["body"])
    if isinstance(body.get("input"), str):
        body["input"] = [{"role": "user", "content": body["input"]}]
    return body


# -- engines and drivers -----------------------------------------------------------------------------


def is_compatible(case: Case) -> bool:
    return case.expect.get("adapter") == "openai_compatible"


def engine_for(case: Case, how: Any = "whole", **engine_fields: Any) -> allm.Engine:
    """An engine whose clients serve ``case``'s recorded body cut as ``how``."""
    opts: dict[str, Any] = {
        "http_client": case.client(how),
        "async_http_client": case.async_client(how),
        "endpoint": ENDPOINTS[case.directory],
    }
    adapter: Any
    if is_compatible(case):
        adapter = OpenAICompatible(base_url=case.expect["base_url"])
    else:
        adapter = OpenAI()
    engine_fields.setdefault("retry", False)
    return allm.Engine(adapter=adapter, adapter_opts=opts, **engine_fields)


def key_opts(case: Case) -> dict[str, Any]:
    """The key call keyword (none for a compatible server that takes no key)."""
    return {} if is_compatible(case) else {"api_key": "test-key"}


def run(api: str, engine: allm.Engine, request: Any, *, stream: bool, **opts: Any) -> allm.Response:
    """One call through the sync or async API, streaming or not."""
    if api == "sync":
        if stream:
            return allm.stream_generate(engine, request, **opts).collect()
        return allm.generate(engine, request, streaming=False, **opts)

    async def go() -> allm.Response:
        if stream:
            events = await allm.astream_generate(engine, request, **opts)
            return await events.collect()
        return await allm.agenerate(engine, request, streaming=False, **opts)

    return anyio.run(go)


def events(api: str, engine: allm.Engine, request: Any, **opts: Any) -> list[Any]:
    """Every event of one stream, through the sync or async API."""
    if api == "sync":
        return list(allm.stream_generate(engine, request, **opts))

    async def go() -> list[Any]:
        stream = await allm.astream_generate(engine, request, **opts)
        return [event async for event in stream]

    return anyio.run(go)


# -- a mock server that counts closes -------------------------------------------------------------------


class CountingBody(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body that counts how often it was closed."""

    def __init__(self, chunks: list[bytes], counter: dict[str, int]) -> None:
        self.chunks, self.counter = chunks, counter

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk

    def close(self) -> None:
        self.counter["closed"] += 1

    async def aclose(self) -> None:
        self.counter["closed"] += 1


class Server:
    """httpx.MockTransport answers in order (the last repeats), recording requests and closes."""

    def __init__(self, *answers: tuple[int, dict[str, str], list[bytes]]) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []
        self.counter = {"closed": 0}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        status, headers, chunks = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return httpx.Response(status, headers=headers, stream=CountingBody(chunks, self.counter))

    def opts(self) -> dict[str, Any]:
        async def handler(request: httpx.Request) -> httpx.Response:
            return self(request)

        return {
            "http_client": httpx.Client(transport=httpx.MockTransport(self)),
            "async_http_client": httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        }

    def body(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)
