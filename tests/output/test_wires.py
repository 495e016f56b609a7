"""Typed output over every wire: a recorded structured answer (streaming and not) gives the typed
value, the request carries the wire's rewritten schema, and OpenAI bodies match OpenAI's published
OpenAPI schema (tests/fixtures/openapi)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from tests.providers.openapi import assert_valid
from tests.providers.wire import FIXTURES, Case, load

import allm
from allm.providers import Anthropic, Gemini, OpenAI

TYPED = FIXTURES.parent / "wire-typed"


class CityFacts(BaseModel):
    city: str
    population: int
    mayor: str | None = None  # optional: strict mode must send it required and nullable


class Origin(BaseModel):
    language: str
    year: int
    creator: str = "unknown"  # optional with a non-null default


class CityInfo(BaseModel):
    city: str
    country: str
    population: int


def typed_case(directory: str, name: str) -> Case:
    return load(directory, name, TYPED)


def engine(adapter: Any, case: Case, **opts: Any) -> allm.Engine:
    return allm.Engine(
        adapter=adapter,
        adapter_opts={"http_client": case.client("whole"), **opts},
        retry=False,
    )


# (wire, case loader, adapter, adapter options, model, output type, expected value)
WIRES: list[tuple[str, Any, Any, dict[str, Any], str, Any, Any]] = [
    (
        "openai-chat",
        lambda: load("openai-chat", "structured_output_nonstream"),
        OpenAI,
        {"endpoint": "chat_completions"},
        "gpt-4o-2024-08-06",
        CityFacts,
        CityFacts(city="Reykjavík", population=139875),
    ),
    (
        "openai-chat",
        lambda: typed_case("openai-chat", "typed_stream"),
        OpenAI,
        {"endpoint": "chat_completions"},
        "gpt-4o-2024-08-06",
        CityFacts,
        CityFacts(city="Reykjavík", population=139875),
    ),
    (
        "openai-responses",
        lambda: load("openai-responses", "structured_output_nonstream"),
        OpenAI,
        {"endpoint": "responses"},
        "gpt-4.1",
        Origin,
        Origin(language="Python", year=1991),
    ),
    (
        "openai-responses",
        lambda: typed_case("openai-responses", "typed_stream"),
        OpenAI,
        {"endpoint": "responses"},
        "gpt-4.1",
        Origin,
        Origin(language="Python", year=1991),
    ),
    (
        "gemini",
        lambda: load("gemini", "structured_output_nonstream"),
        Gemini,
        {},
        "gemini-2.5-flash",
        Origin,
        Origin(language="Rust", year=2015),
    ),
    (
        "gemini",
        lambda: typed_case("gemini", "typed_stream"),
        Gemini,
        {},
        "gemini-2.5-flash",
        Origin,
        Origin(language="Rust", year=2015),
    ),
    (
        "anthropic",
        lambda: load("anthropic", "structured_output_nonstream"),
        Anthropic,
        {},
        "claude-haiku-4-5",
        allm.output(CityInfo, name="city_info"),
        CityInfo(city="Lisbon", country="Portugal", population=545000),
    ),
    (
        "anthropic",
        lambda: load("anthropic", "structured_output_stream"),
        Anthropic,
        {},
        "claude-haiku-4-5",
        allm.output(CityInfo, name="city_info"),
        CityInfo(city="Lisbon", country="Portugal", population=545000),
    ),
]


@pytest.mark.parametrize(
    "wire",
    WIRES,
    ids=[
        f"{w[0]}-{'stream' if 'stream' in w[1]().name.split('_')[-1] else 'whole'}" for w in WIRES
    ],
)
def test_a_recorded_structured_answer_gives_the_typed_value(wire: Any) -> None:
    name, make_case, adapter, opts, model, kind, expected = wire
    case = make_case()
    streaming = bool(case.expect.get("stream"))
    target = engine(adapter(), case, **opts)
    response = allm.generate(
        target,
        [allm.user("?")],
        model=model,
        response_format=kind,
        api_key="k",
        streaming=streaming,
    )
    assert response.finish_reason == "stop", response.error
    assert response.parsed == expected
    assert allm.unwrap(response) == response.text
    body = case.sent_body()
    if name == "openai-chat":
        sent = body["response_format"]
        assert_valid(sent, "ResponseFormatJsonSchema")
        schema = sent["json_schema"]["schema"]
        assert sent["json_schema"]["strict"] is True
        assert schema["additionalProperties"] is False
        assert schema["required"] == ["city", "population", "mayor"]
        assert {"type": "null"} in schema["properties"]["mayor"]["anyOf"]
    elif name == "openai-responses":
        sent = body["text"]["format"]
        assert_valid(sent, "TextResponseFormatJsonSchema")
        assert sent["strict"] is True
        assert sent["schema"]["required"] == ["language", "year", "creator"]
        assert sent["schema"]["properties"]["creator"]["type"] == ["string", "null"]
        assert "default" not in sent["schema"]["properties"]["creator"]
    elif name == "gemini":
        config = body["generationConfig"]
        assert config["responseMimeType"] == "application/json"
        schema = config["responseSchema"]
        assert schema["propertyOrdering"] == ["language", "year", "creator"]
        assert "additionalProperties" not in schema
    else:
        tool = body["tools"][-1]
        assert tool["name"] == "respond_with_json_city_info"
        assert tool["input_schema"]["required"] == ["city", "country", "population"]
        assert body["tool_choice"] == {"type": "tool", "name": "respond_with_json_city_info"}


@pytest.mark.parametrize(
    ("directory", "endpoint", "kind", "tool_schema", "choice_schema"),
    [
        (
            "openai-chat",
            "chat_completions",
            CityFacts,
            "ChatCompletionTool",
            "ChatCompletionNamedToolChoice",
        ),
        ("openai-responses", "responses", Origin, "FunctionTool", "ToolChoiceFunction"),
    ],
)
def test_openai_tool_mode_sends_a_forced_strict_function_that_matches_the_openapi_schema(
    directory: str, endpoint: str, kind: Any, tool_schema: str, choice_schema: str
) -> None:
    case = load(directory, "structured_output_nonstream")
    target = engine(OpenAI(), case, endpoint=endpoint)
    spec = allm.output(kind, mode="tool")
    response = allm.generate(
        target, [allm.user("?")], model="gpt-4.1", response_format=spec, api_key="k"
    )
    assert response.parsed is not None  # a text answer still counts
    body = case.sent_body()
    assert_valid(body["tools"][0], tool_schema)
    assert_valid(body["tool_choice"], choice_schema)
    assert "response_format" not in body and "format" not in body.get("text", {})


def test_anthropic_native_mode_sends_output_config_with_closed_objects() -> None:
    case = load("anthropic", "structured_output_nonstream")
    target = engine(Anthropic(), case)
    spec = allm.output(CityInfo, mode="native")
    allm.generate(
        target, [allm.user("?")], model="claude-haiku-4-5", response_format=spec, api_key="k"
    )
    body = case.sent_body()
    fmt = body["output_config"]["format"]
    assert fmt["type"] == "json_schema"
    assert fmt["schema"]["additionalProperties"] is False
    assert "tools" not in body


def test_the_wire_fixtures_are_where_the_tests_read_them() -> None:
    assert sorted(p.name for p in Path(TYPED).iterdir()) == [
        "gemini",
        "openai-chat",
        "openai-responses",
    ]


def test_gemini_tool_mode_forces_the_answer_function() -> None:
    case = load("gemini", "structured_output_nonstream")
    target = engine(Gemini(), case)
    spec = allm.output(Origin, mode="tool")
    response = allm.generate(
        target,
        [allm.user("?")],
        model="gemini-2.5-flash",
        response_format=spec,
        api_key="k",
        streaming=False,
    )
    assert response.parsed == Origin(language="Rust", year=2015)  # a text answer still counts
    body = case.sent_body()
    (declaration,) = body["tools"][0]["functionDeclarations"]
    assert declaration["name"] == "respond_with_json_Origin"
    assert declaration["parameters"]["properties"]["creator"]["nullable"] is True
    assert body["toolConfig"]["functionCallingConfig"] == {
        "mode": "ANY",
        "allowedFunctionNames": ["respond_with_json_Origin"],
    }
    assert "responseSchema" not in body.get("generationConfig", {})
