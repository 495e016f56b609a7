"""``provider_options`` on every wire: the entries of the running provider, deep-merged engine <
request < call, land in the body as written (merged into the objects the adapter writes, a
``None`` taking a field out); every other provider's entry is ignored."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

import allm
from allm.providers.vertex import Vertex

CHAT_ANSWER = {
    "choices": [{"message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]
}
ANTHROPIC_ANSWER = {
    "type": "message",
    "role": "assistant",
    "content": [{"type": "text", "text": "ok"}],
    "stop_reason": "end_turn",
}
GEMINI_ANSWER = {"candidates": [{"content": {"parts": [{"text": "ok"}]}, "finishReason": "STOP"}]}
WEATHER = allm.Tool("weather", "Weather in a city.", {"type": "object"})


@dataclass(frozen=True)
class Wire:
    """One wire: its engine, the answer it gets, what the request sets, the fragment that merges
    into an object the adapter writes for that, and the object expected."""

    name: str  # the provider_options entry it reads
    adapter: Any
    model: str
    answer: dict[str, Any]
    request: dict[str, Any]
    fragment: dict[str, Any]
    expected: dict[str, Any]
    adapter_opts: dict[str, Any] = field(default_factory=dict)
    endpoint: str | None = None


JSON_OBJECT = {"response_format": {"type": "json_object"}}
CHAT_MERGE = (
    {"response_format": {"extra": 1}},
    {"response_format": {"type": "json_object", "extra": 1}},
)
TOOL_CHOICE = {"tools": (WEATHER,), "tool_choice": "auto"}
ANTHROPIC_MERGE = (
    {"tool_choice": {"disable_parallel_tool_use": True}},
    {"tool_choice": {"type": "auto", "disable_parallel_tool_use": True}},
)
GEMINI_MERGE = (
    {"generationConfig": {"candidateCount": 2}},
    {"generationConfig": {"temperature": 0.5, "candidateCount": 2}},
)


def _vertex_credentials() -> dict[str, Any]:
    from tests.providers.vertex.support import PROJECT, credentials

    return {"credentials": credentials(), "project": PROJECT, "location": "us-central1"}


WIRES = [
    Wire("openai", "openai", "gpt-4o-mini", CHAT_ANSWER, JSON_OBJECT, *CHAT_MERGE),
    Wire(
        "openai",
        "openai",
        "gpt-5-mini",
        {
            "status": "completed",
            "output": [
                {
                    "type": "message",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": "ok"}],
                }
            ],
        },
        JSON_OBJECT,
        {"text": {"verbosity": "low"}},
        {"text": {"format": {"type": "json_object"}, "verbosity": "low"}},
        endpoint="responses",
    ),
    Wire(
        "openai_compatible",
        "openai_compatible",
        "llama3",
        CHAT_ANSWER,
        JSON_OBJECT,
        *CHAT_MERGE,
        adapter_opts={"base_url": "http://127.0.0.1:9/v1"},
    ),
    Wire("groq", "groq", "llama-3.3-70b-versatile", CHAT_ANSWER, JSON_OBJECT, *CHAT_MERGE),
    Wire(
        "azure",
        "azure",
        "gpt-4o-prod",
        CHAT_ANSWER,
        JSON_OBJECT,
        *CHAT_MERGE,
        adapter_opts={"resource": "contoso"},
    ),
    Wire("mistral", "mistral", "mistral-small-latest", CHAT_ANSWER, JSON_OBJECT, *CHAT_MERGE),
    Wire(
        "anthropic",
        "anthropic",
        "claude-sonnet-4-5",
        ANTHROPIC_ANSWER,
        TOOL_CHOICE,
        *ANTHROPIC_MERGE,
    ),
    Wire(
        "gemini", "gemini", "gemini-2.5-flash", GEMINI_ANSWER, {"temperature": 0.5}, *GEMINI_MERGE
    ),
    Wire(
        "ollama",
        "ollama",
        "llama3",
        {"model": "llama3", "message": {"role": "assistant", "content": "ok"}, "done": True},
        {"temperature": 0.5},
        {"options": {"num_ctx": 4096}},
        {"options": {"temperature": 0.5, "num_ctx": 4096}},
    ),
    Wire(
        "bedrock",
        "bedrock",
        "amazon.nova-lite-v1:0",
        {
            "output": {"message": {"role": "assistant", "content": [{"text": "ok"}]}},
            "stopReason": "end_turn",
        },
        {"max_tokens": 5},
        {"inferenceConfig": {"stopSequences": ["END"]}},
        {"inferenceConfig": {"maxTokens": 5, "stopSequences": ["END"]}},
        adapter_opts={"region": "us-east-1"},
    ),
    Wire("vertex", Vertex, "gemini-2.5-flash", GEMINI_ANSWER, {"temperature": 0.5}, *GEMINI_MERGE),
    Wire(
        "vertex",
        Vertex,
        "claude-sonnet-4-5@20250929",
        ANTHROPIC_ANSWER,
        TOOL_CHOICE,
        *ANTHROPIC_MERGE,
        adapter_opts={"credentials": None},  # filled in by _engine: Claude needs credentials
    ),
]
IDS = [f"{wire.name}-{wire.model}" for wire in WIRES]


def _engine(wire: Wire, bodies: list[Any], **fields: Any) -> allm.Engine:
    def handle(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json=wire.answer)

    adapter_opts: dict[str, Any] = {
        "http_client": httpx.Client(transport=httpx.MockTransport(handle)),
        **wire.adapter_opts,
    }
    if "credentials" in adapter_opts:
        adapter_opts.update(_vertex_credentials())
    if wire.endpoint is not None:
        adapter_opts["endpoint"] = wire.endpoint
    adapter = wire.adapter() if isinstance(wire.adapter, type) else wire.adapter
    return allm.Engine(
        adapter=adapter, model=wire.model, adapter_opts=adapter_opts, retry=False, **fields
    )


def _send(
    wire: Wire, engine: allm.Engine, bodies: list[Any], request: allm.Request, **opts: Any
) -> dict[str, Any]:
    key = {} if "credentials" in wire.adapter_opts or wire.name == "ollama" else {"api_key": "k"}
    response = allm.generate(engine, request, streaming=False, **key, **opts)
    assert response.text == "ok", response.error
    body: dict[str, Any] = bodies[-1]
    return body


@pytest.mark.parametrize("wire", WIRES, ids=IDS)
def test_the_levels_deep_merge_into_the_body_and_other_providers_are_ignored(wire: Wire) -> None:
    other = "gemini" if wire.name != "gemini" else "anthropic"
    bodies: list[Any] = []
    engine = _engine(
        wire,
        bodies,
        provider_options={
            wire.name: {"x_engine": 1, "x_nest": {"engine": 1, "shared": "engine"}},
            other: {"x_other": True},
        },
    )
    request = allm.request(
        [allm.user("hi")],
        provider_options={wire.name: {"x_nest": {"request": 2, "shared": "request"}}},
        **wire.request,
    )
    body = _send(
        wire,
        engine,
        bodies,
        request,
        provider_options={wire.name: {"x_nest": {"shared": "call"}, **wire.fragment}},
    )
    assert body["x_engine"] == 1
    assert body["x_nest"] == {"engine": 1, "request": 2, "shared": "call"}
    for key, value in wire.expected.items():
        assert body[key] == value
    assert "x_other" not in json.dumps(body)


@pytest.mark.parametrize("wire", WIRES, ids=IDS)
def test_a_none_takes_out_a_field_the_adapter_writes(wire: Wire) -> None:
    bodies: list[Any] = []
    engine = _engine(wire, bodies)
    request = allm.request([allm.user("hi")], **wire.request)
    (field_name,) = wire.expected
    body = _send(wire, engine, bodies, request, provider_options={wire.name: {field_name: None}})
    assert field_name not in body
