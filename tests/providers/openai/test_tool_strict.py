"""Tool strictness (W1): both OpenAI wires always send ``strict`` (false unless set);
``@allm.tool(strict=True)`` derives a strict-compatible schema; other wires send no ``strict``."""

from __future__ import annotations

from typing import Any

import pytest
from tests.providers.openai.test_openai_requests import WEATHER, send

import allm
from allm.data.tools import Tool
from allm.errors import ConfigurationError

MODELS = {"chat": "gpt-4o-mini", "responses": "gpt-5-mini"}


def sent_tools(wire: str, *tools: Tool) -> list[dict[str, Any]]:
    _, body = send(allm.request([allm.user("hi")], tools=list(tools)), model=MODELS[wire])
    if wire == "chat":
        return [tool["function"] for tool in body["tools"]]
    return list(body["tools"])


@pytest.mark.parametrize("wire", sorted(MODELS))
@pytest.mark.parametrize(("strict", "sent"), [(None, False), (False, False), (True, True)])
def test_both_openai_wires_always_send_strict(wire: str, strict: Any, sent: bool) -> None:
    tool = Tool(WEATHER.name, WEATHER.description, WEATHER.schema, strict=strict)
    assert sent_tools(wire, tool)[0]["strict"] is sent


@pytest.mark.parametrize("wire", sorted(MODELS))
def test_the_older_metadata_spelling_still_counts(wire: str) -> None:
    tool = Tool(WEATHER.name, WEATHER.description, WEATHER.schema, metadata={"strict": True})
    assert sent_tools(wire, tool)[0]["strict"] is True
    field_wins = Tool("t", "d", {}, metadata={"strict": True}, strict=False)
    assert sent_tools(wire, field_wins)[0]["strict"] is False


def test_strict_must_be_a_bool_or_none() -> None:
    with pytest.raises(TypeError, match=r"Tool\.strict"):
        Tool("t", "d", {}, strict="yes")  # type: ignore[arg-type]


def test_strict_round_trips_through_the_codec() -> None:
    tool = Tool("t", "d", {"type": "object", "properties": {}}, strict=True)
    assert allm.from_json(allm.to_json(tool)) == tool


def forecast(city: str, days: int = 3, unit: str | None = None) -> str:
    """Forecast for a city."""
    return f"{city}:{days}:{unit}"


def test_a_strict_derived_schema_is_strict_compatible() -> None:
    tool = allm.tool(strict=True)(forecast)
    assert tool.strict is True
    schema = tool.schema
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["city", "days", "unit"]
    assert schema["properties"]["days"] == {"type": ["integer", "null"]}  # default dropped
    assert sent_tools("responses", tool)[0] == {
        "type": "function",
        "name": "forecast",
        "description": "Forecast for a city.",
        "parameters": schema,
        "strict": True,
    }


def test_a_strict_tool_reads_a_null_optional_argument_as_absent() -> None:
    tool = allm.tool(forecast, strict=True)
    assert tool.handler is not None
    assert tool.handler({"city": "Oslo", "days": None, "unit": None}, None) == "Oslo:3:None"


def test_a_non_strict_derived_schema_is_left_as_it_is() -> None:
    tool = allm.tool(forecast)
    assert tool.strict is None
    assert "additionalProperties" not in tool.schema
    assert tool.schema["required"] == ["city"]


def test_a_free_form_mapping_cannot_be_strict() -> None:
    def tag(labels: dict[str, str]) -> str:
        """Tags."""
        return ""

    with pytest.raises(ConfigurationError) as info:
        allm.tool(tag, strict=True)
    assert info.value.reason == "invalid_tool"


def test_an_explicit_tool_keeps_its_schema_and_strictness() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    tool = allm.tool(name="t", description="d", schema=schema, strict=True)
    assert (tool.strict, tool.schema) == (True, schema)


def test_output_tool_mode_carries_strictness_in_the_field() -> None:
    from allm.output.plan import typed_request
    from allm.output.spec import output

    spec = output({"type": "object", "properties": {"a": {"type": "integer"}}}, mode="tool")
    request = typed_request(allm.request([allm.user("hi")]), spec)
    answer_tool = request.tools[-1]
    assert answer_tool.strict is True
    assert "strict" not in answer_tool.metadata
