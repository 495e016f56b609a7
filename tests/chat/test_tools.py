"""Tools: ``allm.tool`` (explicit and as a decorator on a typed function), the handler context,
the default JSON encoder and the default executor (§4.3, §9.3, §9.4; items 54-56)."""

from __future__ import annotations

import dataclasses
import sys
from typing import Any

import pytest
from tests.chat.support import USER, call_turn, make_engine, make_tool, of_type

import allm
from allm.errors import ConfigurationError, ToolError
from allm.events import ToolExecutionCompleted
from allm.providers.fake import finish, tool_call, tool_call_delta
from allm.tooling import DEFAULT_EXECUTOR, JSONEncoder, ToolContext

# -- tool(): explicit -----------------------------------------------------------------------------


def test_tool_explicit_fields() -> None:
    def handler(arguments: dict[str, Any]) -> int:
        return 1

    built = allm.tool(name="t", description="d", schema={"type": "object"}, handler=handler)
    assert (built.name, built.description, built.schema) == ("t", "d", {"type": "object"})
    assert built.handler is handler
    assert built.manual is False
    assert built.metadata == {}
    assert allm.tool(name="m", description="d", schema={}, manual=True).manual is True


@pytest.mark.parametrize("missing", ["name", "description", "schema"])
def test_tool_explicit_requires_name_description_schema(missing: str) -> None:
    fields: dict[str, Any] = {"name": "t", "description": "d", "schema": {"type": "object"}}
    del fields[missing]
    with pytest.raises(TypeError, match=missing):
        allm.tool(**fields, handler=lambda arguments: 1)


# -- tool(): derived from a typed function ----------------------------------------------------------


@allm.tool
def weather(city: str, days: int = 1, ctx: ToolContext | None = None) -> dict[str, Any]:
    """Get the weather for a city."""
    assert ctx is not None
    return {"city": city, "days": days, "request_id": ctx.request_id}


def test_decorator_name_description_schema() -> None:
    assert isinstance(weather, allm.Tool)
    assert weather.name == "weather"
    assert weather.description == "Get the weather for a city."
    schema = weather.schema
    assert schema["type"] == "object"
    assert schema["required"] == ["city"]  # defaulted parameters are optional
    assert schema["properties"]["city"] == {"type": "string"}
    assert schema["properties"]["days"]["type"] == "integer"
    assert schema["properties"]["days"]["default"] == 1
    assert "ctx" not in schema["properties"]  # the context is not the model's business
    assert "title" not in schema
    assert weather.manual is False


def test_decorator_with_options() -> None:
    @allm.tool(name="lookup", manual=True, metadata={"v": 1})
    def find(query: str, limit: int = 5) -> list[str]:
        """Find things."""
        return [query] * limit

    @allm.tool(description="Described here.")
    def other(query: str) -> str:
        """Ignored docstring."""
        return query

    assert other.name == "other"
    assert other.description == "Described here."
    assert find.name == "lookup"
    assert find.description == "Find things."
    assert find.manual is True
    assert find.metadata == {"v": 1}
    assert set(find.schema["properties"]) == {"query", "limit"}
    assert find.schema["required"] == ["query"]


def test_decorator_without_docstring_has_empty_description() -> None:
    @allm.tool
    def bare(x: int) -> int:
        return x

    assert bare.description == ""
    assert bare.schema["required"] == ["x"]


def test_decorated_tool_runs_with_ctx(api) -> None:
    engine = make_engine([call_turn(("c1", "weather", {"city": "Oslo"}))], [weather])
    result = api.step(engine, USER, request_id="req-weather")
    assert [m.content for m in result.tool_results] == [
        '{"city":"Oslo","days":1,"request_id":"req-weather"}'
    ]


def test_decorated_tool_without_ctx_runs(api) -> None:
    @allm.tool
    def shout(word: str, times: int = 2) -> str:
        """Shout."""
        return word.upper() * times

    engine = make_engine([call_turn(("c1", "shout", {"word": "hey", "times": 3}))], [shout])
    assert [m.content for m in api.step(engine, USER).tool_results] == ["HEYHEYHEY"]


def test_decorated_tool_validates_arguments_with_the_derived_model(api) -> None:
    calls: list[Any] = []
    errors: list[Any] = []

    @allm.tool
    def total(numbers: list[int]) -> int:
        """Add numbers."""
        calls.append(numbers)
        return sum(numbers)

    def on_error(call: Any, error: Any) -> Any:
        errors.append(error)
        return ("continue", "rejected")

    # The top-level JSON type (array) is right, so only the derived model can catch the items.
    engine = make_engine([call_turn(("c1", "total", {"numbers": ["x", "y"]}))], [total])
    result = api.step(engine, USER, on_tool_error=on_error)
    assert calls == []
    assert [e.reason for e in errors] == ["invalid_arguments"]
    assert isinstance(errors[0], ToolError)
    assert [m.content for m in result.tool_results] == ["rejected"]


def test_decorated_tool_wrong_top_level_type_is_invalid_arguments(api) -> None:
    engine = make_engine([call_turn(("c1", "weather", {"city": 7}))], [weather])
    events = api.stream_step(engine, USER)
    (completed,) = of_type(events, ToolExecutionCompleted)
    assert isinstance(completed.result, ToolError)
    assert completed.result.reason == "invalid_arguments"


def test_decorated_tool_coerces_to_the_declared_types(api) -> None:
    @allm.tool
    def echo(when: float, flags: tuple[int, ...] = ()) -> dict[str, Any]:
        """Echo."""
        return {"when": when, "type": type(when).__name__, "flags": list(flags)}

    engine = make_engine([call_turn(("c1", "echo", {"when": 2, "flags": [1, 2]}))], [echo])
    result = api.step(engine, USER)
    assert result.tool_results[0].content == '{"when":2.0,"type":"float","flags":[1,2]}'


def test_async_decorated_tool_under_the_async_api(api) -> None:
    @allm.tool
    async def fetch(url: str, ctx: ToolContext) -> str:
        """Fetch a URL."""
        return f"{url}:{ctx.tool_call.id if ctx.tool_call else None}"

    record: list[Any] = []
    engine = make_engine([call_turn(("c9", "fetch", {"url": "u"}))], [fetch], record=record)
    if api.is_async:
        result = api.step(engine, USER)
        assert [m.content for m in result.tool_results] == ["u:c9"]
    else:
        with pytest.raises(ConfigurationError) as caught:
            api.step(engine, USER)
        assert caught.value.reason == "async_handler_in_sync_api"
        assert record == []


# -- item 54: the handler context -------------------------------------------------------------------


def test_f054_arity2_handler_receives_context(api) -> None:
    seen: list[ToolContext] = []

    def handler(arguments: dict[str, Any], ctx: ToolContext) -> str:
        seen.append(ctx)
        return "ok"

    engine = make_engine([call_turn(("c1", "t", {"a": 1}))], [make_tool("t", handler)])
    api.step(engine, USER, context={"tenant": "acme"}, session_id="s-1", request_id="r-54")
    (ctx,) = seen
    assert isinstance(ctx, ToolContext)
    assert ctx.context == {"tenant": "acme"}
    assert ctx.session_id == "s-1"
    assert ctx.request_id == "r-54"
    assert ctx.tool_call is not None
    assert (ctx.tool_call.id, ctx.tool_call.name, ctx.tool_call.arguments) == ("c1", "t", {"a": 1})
    assert ctx.engine is engine


def test_f054_context_falls_back_to_the_engine_context(api) -> None:
    seen: list[ToolContext] = []

    def handler(arguments: dict[str, Any], ctx: ToolContext) -> str:
        seen.append(ctx)
        return "ok"

    engine = make_engine(
        [call_turn(("c1", "t", {}))], [make_tool("t", handler)], context={"from": "engine"}
    )
    api.step(engine, USER)
    assert seen[0].context == {"from": "engine"}
    assert seen[0].session_id is None
    assert isinstance(seen[0].request_id, str) and seen[0].request_id


def test_f054_arity1_handler_gets_only_the_arguments(api) -> None:
    seen: list[Any] = []
    engine = make_engine(
        [call_turn(("c1", "t", {"a": 2}))],
        [make_tool("t", lambda arguments: seen.append(arguments))],
    )
    result = api.step(engine, USER)
    assert seen == [{"a": 2}]
    assert result.tool_results[0].content == "null"


# -- item 55: the default JSON encoder ----------------------------------------------------------------


@dataclasses.dataclass
class Point:
    x: int
    y: int


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ("plain text", "plain text"),
        ("", ""),
        ({"b": 1, "a": [1, 2]}, '{"b":1,"a":[1,2]}'),
        ([1, "two", None], '[1,"two",null]'),
        ((1, 2), "[1,2]"),
        (None, "null"),
        (3, "3"),
        (2.5, "2.5"),
        (True, "true"),
        (allm.ToolFailure("no such city"), '{"error":"no such city"}'),
        (allm.ToolFailure({"code": 4}), '{"error":"{\'code\': 4}"}'),
        (Point(1, 2), '{"x":1,"y":2}'),
    ],
)
def test_f055_default_encoder_table(value: Any, encoded: str) -> None:
    encoder = JSONEncoder()
    assert encoder.encode(value) == encoded
    assert encoder.encode(value) == encoder.encode(value)  # deterministic


def test_f055_default_encoder_rejects_the_unencodable() -> None:
    with pytest.raises(TypeError):
        JSONEncoder().encode(object())
    with pytest.raises(TypeError):
        JSONEncoder().encode({"nested": {1, 2}})


def test_f055_tool_messages_use_the_encoder(api) -> None:
    # The runner encodes the value itself (there is no ok() wrapper in Python), a ToolFailure as
    # {"error": ...}.
    tools = [
        make_tool("s", lambda a: "verbatim"),
        make_tool("d", lambda a: {"k": [1, 2]}),
        make_tool("f", lambda a: allm.ToolFailure("bad city")),
    ]
    engine = make_engine([call_turn(("c1", "s", {}), ("c2", "d", {}), ("c3", "f", {}))], tools)
    result = api.step(engine, USER)
    assert [m.content for m in result.tool_results] == [
        "verbatim",
        '{"k":[1,2]}',
        '{"error":"bad city"}',
    ]


def test_f055_custom_encoder_option(api) -> None:
    class Upper:
        def encode(self, value: Any) -> str:
            return str(value).upper()

    engine = make_engine([call_turn(("c1", "t", {}))], [make_tool("t", lambda a: "quiet")])
    result = api.step(engine, USER, tool_result_encoder=Upper())
    assert result.tool_results[0].content == "QUIET"


# -- item 56: the default executor --------------------------------------------------------------------


def _ctx(name: str = "t") -> ToolContext:
    return ToolContext(tool_call=allm.ToolCall("c1", name, {}))


def test_f056_executor_maps_a_raise_to_handler_raised() -> None:
    def handler(arguments: dict[str, Any]) -> Any:
        raise KeyError("missing")

    outcome = DEFAULT_EXECUTOR.execute(make_tool("t", handler), {}, _ctx())
    assert isinstance(outcome, ToolError)
    assert outcome.reason == "handler_raised"
    assert isinstance(outcome.cause, KeyError)
    assert (outcome.tool_name, outcome.tool_call_id) == ("t", "c1")


def test_f056_executor_maps_an_exit_to_handler_exit() -> None:
    def handler(arguments: dict[str, Any]) -> Any:
        sys.exit(3)

    outcome = DEFAULT_EXECUTOR.execute(make_tool("t", handler), {}, _ctx())
    assert isinstance(outcome, ToolError)
    assert outcome.reason == "handler_exit"


def test_f056_executor_maps_a_missing_handler_to_not_found() -> None:
    outcome = DEFAULT_EXECUTOR.execute(make_tool("t", None), {}, _ctx())
    assert isinstance(outcome, ToolError)
    assert outcome.reason == "not_found"


def test_f056_executor_maps_an_unfinished_value_to_invalid_return() -> None:
    def generator(arguments: dict[str, Any]) -> Any:
        yield 1

    outcome = DEFAULT_EXECUTOR.execute(make_tool("t", generator), {}, _ctx())
    assert isinstance(outcome, ToolError)
    assert outcome.reason == "invalid_return"


def test_f056_executor_refuses_a_bad_arity() -> None:
    with pytest.raises(ConfigurationError):
        DEFAULT_EXECUTOR.execute(make_tool("t", lambda a, b, c: 1), {}, _ctx())


@pytest.mark.parametrize(
    "outcome",
    [
        {"value": 1},
        "text",
        None,
        allm.ToolFailure("reported"),
        allm.AskUser("Which?", choices=["a", "b"]),
        allm.Halt("plan_submitted", {"plan": 1}),
    ],
)
def test_f056_executor_passes_legal_outcomes_through(outcome: Any) -> None:
    assert DEFAULT_EXECUTOR.execute(make_tool("t", lambda a: outcome), {}, _ctx()) is outcome


def test_f056_executor_outcomes_in_a_step(api) -> None:
    def boom(arguments: dict[str, Any]) -> Any:
        raise RuntimeError("kaput")

    def leave(arguments: dict[str, Any]) -> Any:
        sys.exit(1)

    tools = [make_tool("boom", boom), make_tool("gone", None), make_tool("leave", leave)]
    engine = make_engine(
        [call_turn(("c1", "boom", {}), ("c2", "gone", {}), ("c3", "leave", {}))], tools
    )
    events = api.stream_step(engine, USER)
    results = [event.result for event in of_type(events, ToolExecutionCompleted)]
    assert [r.reason for r in results] == ["handler_raised", "not_found", "handler_exit"]
    assert all(isinstance(r, ToolError) for r in results)


def test_tool_call_delta_fragments_assemble_the_arguments(api) -> None:
    seen: list[Any] = []
    script = [
        tool_call(id="c1", name="t", arguments={}, raw_arguments=""),
        tool_call_delta(id="c1", arguments_delta='{"a":'),
        tool_call_delta(id="c1", arguments_delta="41}"),
        tool_call(id="c1", name="t", arguments={"a": 41}, raw_arguments='{"a":41}'),
        finish("tool_calls"),
    ]
    engine = make_engine([script], [make_tool("t", lambda a: seen.append(a))])
    result = api.step(engine, USER)
    assert seen == [{"a": 41}]
    assert result.response.tool_calls[0].raw_arguments == '{"a":41}'
