"""Compact tools: the stub request, the ``tool_help`` turn and the real call."""

from __future__ import annotations

import json
from typing import Any

import pytest

import allm
import allm.testing
from allm.execution.compact import STUB_SCHEMA, TOOL_HELP, wire_tools, with_tool_help
from allm.providers.fake import finish, text, tool_call

SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "unit": {"enum": ["C", "F"]}},
    "required": ["city"],
}


def weather(arguments: dict[str, Any]) -> dict[str, Any]:
    return {"city": arguments["city"], "temperature": 21}


WEATHER = allm.Tool(
    "weather",
    "Current weather for a city.\nReturns the temperature in the unit asked for.",
    SCHEMA,
    handler=weather,
    compact=True,
)
CLOCK = allm.Tool("clock", "The time.", {"type": "object"}, handler=lambda arguments: "12:00")


def test_stub_request_then_tool_help_then_the_real_call() -> None:
    engine = allm.Engine(
        adapter="fake",
        tools=(WEATHER, CLOCK),
        adapter_opts={
            "scripts": [
                [
                    tool_call(id="h1", name=TOOL_HELP, arguments={"name": "weather"}),
                    finish("tool_calls"),
                ],
                [
                    tool_call(id="w1", name="weather", arguments={"city": "Oslo"}),
                    finish("tool_calls"),
                ],
                [text("21 degrees in Oslo"), finish("stop")],
            ]
        },
    )
    with allm.testing.capture() as captured:
        result = allm.chat(engine, [allm.user("How warm is Oslo?")])
    assert result.final_response.text == "21 degrees in Oslo"
    first = captured.requests[0]
    sent = {tool.name: tool for tool in first.tools}
    assert list(sent) == ["weather", "clock", TOOL_HELP]
    assert sent["weather"].description == "Current weather for a city."
    assert sent["weather"].schema == STUB_SCHEMA
    assert sent["clock"] == CLOCK  # a tool that is not compact goes whole
    help_answer = result.thread.messages[2]
    assert help_answer.role == "tool" and help_answer.tool_call_id == "h1"
    assert json.loads(help_answer.content) == {
        "name": "weather",
        "description": WEATHER.description,
        "schema": SCHEMA,
    }
    real = result.thread.messages[4]
    assert real.tool_call_id == "w1"
    assert json.loads(real.content) == {"city": "Oslo", "temperature": 21}
    assert all(request.tools == first.tools for request in captured.requests)


def test_tool_help_for_an_unknown_name_is_a_failure_the_model_sees() -> None:
    engine = allm.Engine(
        adapter="fake",
        tools=(WEATHER,),
        adapter_opts={
            "scripts": [
                [
                    tool_call(id="h", name=TOOL_HELP, arguments={"name": "nope"}),
                    finish("tool_calls"),
                ],
                [text("sorry"), finish("stop")],
            ]
        },
    )
    result = allm.chat(engine, [allm.user("?")])
    assert "nope" in str(result.thread.messages[2].content)
    assert "weather" in str(result.thread.messages[2].content)


def test_no_compact_tool_no_tool_help_and_a_caller_tool_help_wins() -> None:
    assert with_tool_help((CLOCK,)) == (CLOCK,)
    assert wire_tools((CLOCK,)) == (CLOCK,)
    own = allm.Tool(TOOL_HELP, "mine", {"type": "object"})
    assert with_tool_help((WEATHER, own)) == (WEATHER, own)
    blank = allm.Tool("blank", "\n\n  first real line  \nmore", {"type": "object"}, compact=True)
    assert wire_tools((blank,))[0].description == "first real line"
    empty = allm.Tool("empty", "", {"type": "object"}, compact=True)
    assert wire_tools((empty,))[0].description == ""


def test_generate_sends_compact_tools_whole() -> None:
    engine = allm.Engine(adapter="fake", adapter_opts={"script": [text("ok")]})
    with allm.testing.capture() as captured:
        allm.generate(engine, allm.Request(messages=(allm.user("x"),), tools=(WEATHER,)))
    assert captured.requests[0].tools == (WEATHER,)


def test_compact_must_be_a_bool_and_round_trips() -> None:
    with pytest.raises(TypeError):
        allm.Tool("x", "d", {}, compact="yes")  # type: ignore[arg-type]
    plain = allm.Tool("x", "d", {"type": "object"}, compact=True)
    assert allm.from_json(allm.to_json(plain)) == plain
