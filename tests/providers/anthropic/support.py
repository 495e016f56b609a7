"""Helpers for the Anthropic tests: a recorded request body back into an allm Request, engines
over a transcript or a loopback server, and small builders for SSE bodies."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from tests.providers.wire import Case

import allm
from allm.data.messages import Image, ImagePart, Message, Role, TextPart
from allm.data.tools import ToolCall
from allm.providers.anthropic import STRUCTURED_TOOL_PREFIX, Anthropic

DIRECTORY = "anthropic"
_BODY_FIELDS = {"model", "max_tokens", "temperature", "system", "messages", "tools", "tool_choice"}


def _parts(blocks: Sequence[Mapping[str, Any]]) -> tuple[TextPart | ImagePart, ...]:
    parts: list[TextPart | ImagePart] = []
    for block in blocks:
        if block["type"] == "text":
            parts.append(TextPart(block["text"]))
        elif block["type"] == "image":
            source = block["source"]
            if source["type"] == "url":
                parts.append(ImagePart(Image.from_url(source["url"])))
            else:
                parts.append(ImagePart(Image.from_base64(source["data"], source["media_type"])))
    return tuple(parts)


def _messages(wire: Sequence[Mapping[str, Any]]) -> list[Message]:
    messages: list[Message] = []
    for turn in wire:
        content = turn["content"]
        if turn["role"] == "user":
            if isinstance(content, str):
                messages.append(allm.user(content))
            elif all(block["type"] == "tool_result" for block in content):
                for block in content:
                    messages.append(allm.tool_result(block["tool_use_id"], block["content"]))
            else:
                messages.append(Message(Role.USER, _parts(content)))
        elif isinstance(content, str):
            messages.append(allm.assistant(content))
        else:
            text = "".join(b["text"] for b in content if b["type"] == "text")
            calls = tuple(
                ToolCall(b["id"], b["name"], b["input"]) for b in content if b["type"] == "tool_use"
            )
            reasoning = tuple(
                {"text": b["thinking"], "signature": b["signature"], "id": "thinking"}
                for b in content
                if b["type"] == "thinking"
            )
            metadata = {"reasoning_blocks": reasoning} if reasoning else {}
            messages.append(Message(Role.ASSISTANT, text, tool_calls=calls, metadata=metadata))
    return messages


def request_from_body(
    body: Mapping[str, Any], provider: str = "anthropic"
) -> tuple[allm.Request, dict[str, Any]]:
    """The allm request (and call keywords) whose wire body is ``body`` on ``provider``.

    A forced ``respond_with_json_*`` tool is the structured-output strategy, so it becomes a
    ``response_format``; a non-string ``system`` and provider tool types go through
    ``request.options``; other unknown body fields go in the call's ``provider_options``.
    """
    options: dict[str, Any] = {}
    messages: list[Message] = []
    system = body.get("system")
    if isinstance(system, str):
        messages.append(allm.system(system))
    elif system is not None:
        options["system"] = system
    messages.extend(_messages(body["messages"]))
    choice_wire = body.get("tool_choice")
    tools: list[allm.Tool] = []
    response_format = None
    for tool in body.get("tools", []):
        if "type" in tool:  # a server tool: provider specific, passed as it is
            options.setdefault("tools", []).append(tool)
        elif tool["name"].startswith(STRUCTURED_TOOL_PREFIX) and choice_wire == {
            "type": "tool",
            "name": tool["name"],
        }:
            name = tool["name"][len(STRUCTURED_TOOL_PREFIX) :]
            response_format = allm.json_schema(name, tool["input_schema"])
            choice_wire = None
        else:
            tools.append(allm.Tool(tool["name"], tool.get("description", ""), tool["input_schema"]))
    choice: Any = None
    if choice_wire is not None:
        kind = choice_wire["type"]
        choice = {"auto": "auto", "none": "none", "any": "required"}.get(kind)
        if kind == "tool":
            choice = ("tool", choice_wire["name"])
    request = allm.request(
        messages,
        model=body["model"],
        tools=tools,
        tool_choice=choice,
        max_tokens=body.get("max_tokens"),
        temperature=body.get("temperature"),
        response_format=response_format,
        options=options,
    )
    extra = {k: v for k, v in body.items() if k not in _BODY_FIELDS and k != "stream"}
    return request, ({"provider_options": {provider: extra}} if extra else {})


def engine_for(case: Case, how: Any = "whole", **adapter_opts: Any) -> allm.Engine:
    """An engine whose injected clients serve ``case`` cut as ``how``; no retries."""
    return allm.Engine(
        adapter=Anthropic(),
        model=case.request["body"]["model"],
        adapter_opts={
            "http_client": case.client(how),
            "async_http_client": case.async_client(how),
            **adapter_opts,
        },
        retry=False,
    )


def sse_body(*events: tuple[str, Mapping[str, Any] | str]) -> bytes:
    """Named SSE events (JSON payloads, or raw strings) as bytes."""
    out = []
    for name, payload in events:
        data = payload if isinstance(payload, str) else json.dumps(payload)
        out.append(f"event: {name}\ndata: {data}\n\n")
    return "".join(out).encode("utf-8")


def text_events(
    text: str, *, message_id: str = "msg_01Test", stop: str = "end_turn", complete: bool = True
) -> bytes:
    """A small text stream; ``complete=False`` stops after the text delta."""
    events = [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": message_id,
                    "type": "message",
                    "role": "assistant",
                    "model": "claude-haiku-4-5-20251001",
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": 5, "output_tokens": 1},
                },
            },
        ),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": text},
            },
        ),
    ]
    if complete:
        events += [
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": stop, "stop_sequence": None},
                    "usage": {"output_tokens": 7},
                },
            ),
            ("message_stop", {"type": "message_stop"}),
        ]
    return sse_body(*events)


STREAM_HEADERS = {"content-type": "text/event-stream; charset=utf-8", "request-id": "req_test"}


class Served:
    """A MockTransport that answers from a script (the last answer repeats), records every
    request, and counts how often each response body was closed."""

    def __init__(
        self, *answers: tuple[int, Mapping[str, str], bytes], chunk_size: int = 64
    ) -> None:
        self.answers = list(answers)
        self.chunk_size = chunk_size
        self.requests: list[Any] = []
        self.closes = 0

    def _answer(self, request: Any) -> tuple[int, Mapping[str, str], bytes]:
        self.requests.append(request)
        if len(self.answers) > 1:
            return self.answers.pop(0)
        return self.answers[0]

    def bodies(self) -> list[Any]:
        """The JSON bodies sent, in order."""
        return [json.loads(r.content) for r in self.requests]

    def client(self) -> Any:
        import httpx

        served = self

        class Body(httpx.SyncByteStream):
            def __init__(self, data: bytes) -> None:
                self.data = data

            def __iter__(self) -> Any:
                size = served.chunk_size
                for start in range(0, len(self.data), size):
                    yield self.data[start : start + size]

            def close(self) -> None:
                served.closes += 1

        def handler(request: httpx.Request) -> httpx.Response:
            status, headers, body = self._answer(request)
            return httpx.Response(status, headers=dict(headers), stream=Body(body))

        return httpx.Client(transport=httpx.MockTransport(handler))

    def async_client(self) -> Any:
        import httpx

        served = self

        class Body(httpx.AsyncByteStream):
            def __init__(self, data: bytes) -> None:
                self.data = data

            async def __aiter__(self) -> Any:
                size = served.chunk_size
                for start in range(0, len(self.data), size):
                    yield self.data[start : start + size]

            async def aclose(self) -> None:
                served.closes += 1

        async def handler(request: httpx.Request) -> httpx.Response:
            status, headers, body = self._answer(request)
            return httpx.Response(status, headers=dict(headers), stream=Body(body))

        return httpx.AsyncClient(transport=httpx.MockTransport(handler))

    def engine(self, model: str = "claude-haiku-4-5", retry: Any = False, **fields: Any) -> Any:
        return allm.Engine(
            adapter=Anthropic(),
            model=model,
            adapter_opts={"http_client": self.client(), "async_http_client": self.async_client()},
            retry=retry,
            **fields,
        )
