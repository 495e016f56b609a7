"""Neutral request fields (W1) on every wire: ``stop``, ``top_p``, ``seed``, ``parallel_tool_calls``
in each provider's spelling, or a pre-flight ``unsupported_option`` before any I/O."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

import allm
from allm.errors import ValidationError
from allm.providers.fake import text

WEATHER = allm.Tool(
    "get_weather",
    "Weather for a city.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)

# wire -> (engine fields, model, a canned non-streaming answer)
WIRES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "openai-chat": (
        "openai",
        "gpt-4o-mini",
        {"choices": [{"message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]},
    ),
    "openai-responses": (
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
    ),
    "openai-compatible": (
        "openai_compatible",
        "llama3",
        {"choices": [{"message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]},
    ),
    "anthropic": (
        "anthropic",
        "claude-sonnet-4-5",
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "text", "text": "ok"}],
            "stop_reason": "end_turn",
        },
    ),
    "gemini": (
        "gemini",
        "gemini-2.5-flash",
        {"candidates": [{"content": {"parts": [{"text": "ok"}]}, "finishReason": "STOP"}]},
    ),
}


def body_sent(
    wire: str,
    *,
    tools: tuple[allm.Tool, ...] = (),
    options: dict[str, Any] | None = None,
    **opts: Any,
) -> dict[str, Any]:
    adapter, model, answer = WIRES[wire]
    bodies: list[dict[str, Any]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        import json

        bodies.append(json.loads(request.content))
        return httpx.Response(200, json=answer)

    adapter_opts: dict[str, Any] = {
        "http_client": httpx.Client(transport=httpx.MockTransport(handle)),
    }
    if adapter == "openai_compatible":
        adapter_opts["base_url"] = "http://127.0.0.1:9/v1"
    if wire == "openai-responses":
        adapter_opts["endpoint"] = "responses"
    engine = allm.Engine(
        adapter=adapter, model=model, adapter_opts=adapter_opts, tools=tools, retry=False
    )
    request = allm.request([allm.user("hi")], options=options or {})
    response = allm.generate(engine, request, streaming=False, api_key="k", **opts)
    assert response.text == "ok", response.error
    return bodies[0]


def generation(body: dict[str, Any]) -> dict[str, Any]:
    return dict(body.get("generationConfig") or {})


# what each wire sends for: stop=("END", "STOP"), top_p=0.5, seed=7
EXPECTED: dict[str, dict[str, Any]] = {
    "openai-chat": {"stop": ["END", "STOP"], "top_p": 0.5, "seed": 7},
    "openai-compatible": {"stop": ["END", "STOP"], "top_p": 0.5, "seed": 7},
    "anthropic": {"stop_sequences": ["END", "STOP"], "top_p": 0.5},
    "gemini": {"stopSequences": ["END", "STOP"], "topP": 0.5, "seed": 7},
    "openai-responses": {"top_p": 0.5},
}
SUPPORTED = {
    "openai-chat": ("stop", "top_p", "seed"),
    "openai-compatible": ("stop", "top_p", "seed"),
    "anthropic": ("stop", "top_p"),
    "gemini": ("stop", "top_p", "seed"),
    "openai-responses": ("top_p",),
}
VALUES: dict[str, Any] = {"stop": ("END", "STOP"), "top_p": 0.5, "seed": 7}


@pytest.mark.parametrize("wire", sorted(WIRES))
def test_sampling_fields_in_each_wires_spelling(wire: str) -> None:
    opts = {name: VALUES[name] for name in SUPPORTED[wire]}
    body = body_sent(wire, **opts)
    where = generation(body) if wire == "gemini" else body
    for key, value in EXPECTED[wire].items():
        assert where[key] == value, key
    assert "stop" not in body or wire.startswith("openai-c")


@pytest.mark.parametrize(
    ("wire", "field"),
    [
        ("openai-responses", "stop"),
        ("openai-responses", "seed"),
        ("anthropic", "seed"),
        ("gemini", "parallel_tool_calls"),
    ],
)
def test_a_field_the_wire_cannot_express_is_refused_before_any_io(wire: str, field: str) -> None:
    value = False if field == "parallel_tool_calls" else VALUES[field]
    with pytest.raises(ValidationError) as info:
        body_sent(wire, **{field: value})
    assert info.value.reason == "invalid_request"
    assert ((field,), "unsupported_option") in info.value.errors


def test_every_unsupported_field_is_listed_at_once() -> None:
    with pytest.raises(ValidationError) as info:
        body_sent("openai-responses", stop=["x"], seed=1)
    assert set(info.value.errors) >= {
        (("stop",), "unsupported_option"),
        (("seed",), "unsupported_option"),
    }


@pytest.mark.parametrize("wire", ["openai-chat", "openai-compatible", "openai-responses"])
@pytest.mark.parametrize("parallel", [True, False])
def test_parallel_tool_calls_on_openai(wire: str, parallel: bool) -> None:
    body = body_sent(wire, tools=(WEATHER,), parallel_tool_calls=parallel)
    assert body["parallel_tool_calls"] is parallel
    # without tools the API refuses the field, so it is not sent
    assert "parallel_tool_calls" not in body_sent(wire, parallel_tool_calls=parallel)


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        (None, {"type": "auto", "disable_parallel_tool_use": True}),
        ("required", {"type": "any", "disable_parallel_tool_use": True}),
        (
            ("tool", "get_weather"),
            {"type": "tool", "name": "get_weather", "disable_parallel_tool_use": True},
        ),
        ("none", {"type": "none"}),
    ],
)
def test_parallel_tool_calls_on_anthropic(choice: Any, expected: dict[str, Any]) -> None:
    body = body_sent("anthropic", tools=(WEATHER,), parallel_tool_calls=False, tool_choice=choice)
    assert body["tool_choice"] == expected
    allowed = body_sent("anthropic", tools=(WEATHER,), parallel_tool_calls=True)
    assert allowed["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": False}
    assert "tool_choice" not in body_sent("anthropic", parallel_tool_calls=False)


def test_a_request_field_a_call_keyword_and_an_engine_param() -> None:
    request = allm.request([allm.user("hi")], stop="END", seed=3)
    assert request.stop == ("END",)
    record: list[Any] = []
    engine = allm.Engine(
        adapter="fake",
        params={"top_p": 0.2, "seed": 1},
        adapter_opts={"script": [text("a")], "record": record},
    )
    allm.generate(engine, request, stop=["A", "B"])
    sent = record[0][0]
    assert (sent.stop, sent.top_p, sent.seed) == (("A", "B"), 0.2, 3)


def test_a_neutral_field_outranks_the_same_raw_option() -> None:
    body = body_sent("openai-chat", top_p=0.5, options={"top_p": 0.1})
    assert body["top_p"] == 0.5


@pytest.mark.parametrize(
    ("fields", "path", "reason"),
    [
        ({"stop": ("",)}, ("stop", 0), "not_a_string"),
        ({"stop": 5}, ("stop",), "invalid_type"),
        ({"top_p": 1.5}, ("top_p",), "out_of_range"),
        ({"top_p": "x"}, ("top_p",), "invalid_type"),
        ({"seed": 1.5}, ("seed",), "invalid_type"),
        ({"parallel_tool_calls": "no"}, ("parallel_tool_calls",), "invalid_type"),
    ],
)
def test_bad_neutral_values_are_refused(fields: dict[str, Any], path: Any, reason: str) -> None:
    engine = allm.Engine(adapter="fake", adapter_opts={"script": []})
    with pytest.raises(ValidationError) as info:
        allm.generate(engine, [allm.user("hi")], **fields)
    assert (path, reason) in info.value.errors


def test_the_fields_round_trip_through_the_codec() -> None:
    request = allm.request(
        [allm.user("hi")], stop=("a", "b"), top_p=0.5, seed=2, parallel_tool_calls=False
    )
    assert allm.from_json(allm.to_json(request)) == request
