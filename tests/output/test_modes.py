"""Mode choice, prompted mode, specs as data, and the edges of schemas and partial parsing."""

from __future__ import annotations

import dataclasses
import pickle
from typing import Any, Literal

import pytest
from pydantic import BaseModel
from typing_extensions import TypedDict

import allm
from allm.data.models import ModelRef
from allm.output import OutputSpec, resolve_mode
from allm.output.check import answer_json, validate_answer
from allm.output.partial import NOTHING, PartialParser
from allm.output.schema import anthropic_native_schema, base_schema, gemini_schema, openai_schema
from allm.providers import Anthropic, Gemini, OpenAI
from allm.providers.fake import error, finish, text


class Point(BaseModel):
    x: int
    y: int = 0


@dataclasses.dataclass
class Pair:
    left: str
    right: str | None = None


class Movie(TypedDict):
    title: str
    year: int


def fake(*scripts: list[Any], **opts: Any) -> allm.Engine:
    return allm.Engine(adapter="fake", adapter_opts={"scripts": [list(s) for s in scripts], **opts})


def test_auto_follows_the_adapter_then_the_catalog() -> None:
    spec = allm.output(Point)
    assert resolve_mode(spec, OpenAI(), None) == "native"
    assert resolve_mode(spec, Gemini(), None) == "native"
    assert resolve_mode(spec, Anthropic(), None) == "tool"
    assert resolve_mode(spec, object(), None) == "prompted"
    no_native = ModelRef("openai", "old", capabilities={"json_native": False})
    assert resolve_mode(spec, OpenAI(), no_native) == "tool"
    neither = ModelRef("openai", "old", capabilities={"json_native": False, "tools": False})
    assert resolve_mode(spec, OpenAI(), neither) == "prompted"
    with pytest.raises(allm.ValidationError) as caught:
        resolve_mode(allm.output(Point, mode="native"), OpenAI(), no_native)
    assert caught.value.reason == "unsupported_capability"
    with pytest.raises(allm.ValidationError) as caught:
        resolve_mode(allm.output(Point, mode="native"), object(), None)
    assert caught.value.errors == ((("response_format", "mode"), "unsupported_option"),)


def test_the_catalog_steers_auto_at_pre_flight() -> None:
    from allm.catalog import BundledCatalog

    allm.configure(catalog=BundledCatalog())  # reset after each test by the suite's conftest
    recorded: list[Any] = []
    engine = fake([text('{"x": 1}')], record=recorded)
    allm.generate(engine, [allm.user("?")], model="openai:gpt-4o-2024-05-13", response_format=Point)
    request = recorded[0][0]
    assert request.response_format.mode == "tool"  # that snapshot has no json_schema mode
    assert request.tools[-1].name == "respond_with_json_Point"


def test_prompted_mode_puts_the_schema_first_and_accepts_a_fence() -> None:
    recorded: list[Any] = []
    fenced = '```json\n{"x": 3}\n```'
    engine = fake([text("Here:\n"), text(fenced)], record=recorded)
    spec = allm.output(Point, mode="prompted")
    events = list(allm.stream_generate(engine, [allm.user("?")], response_format=spec))
    assert events[-1] == allm.events.OutputCompleted(Point(x=3))
    prompt = recorded[0][0].messages[0]
    assert prompt.role == "system" and '"x"' in prompt.content
    assert answer_json(fenced) == '{"x": 3}\n'
    assert answer_json("```") == ""
    assert answer_json('The answer: {"x": 1}. Done.') == '{"x": 1}'
    assert answer_json("none at all") == "none at all"


def test_dataclasses_typeddicts_and_bare_schemas_validate() -> None:
    assert validate_answer(allm.output(Pair), '{"left": "a", "right": null}')[0] == Pair("a")
    assert validate_answer(allm.output(Movie), '{"title": "M", "year": 1927}')[0] == {
        "title": "M",
        "year": 1927,
    }
    value, problem = validate_answer(allm.output(list[int]), '{"response": [1, 2]}')
    assert value == [1, 2] and problem is None
    value, problem = validate_answer(allm.output(list[int]), "[1, 2]")
    assert problem is not None and problem.errors == ((("response",), "missing"),)
    bare = allm.output({"type": "array", "items": {"type": "string"}, "title": "Names!"})
    assert bare.name == "Names" and bare.type is None
    assert validate_answer(bare, '{"response": ["a"]}')[0] == ["a"]


def test_failures_and_refusals_are_not_judged() -> None:
    failed = allm.generate(
        fake([text('{"x"'), error("provider_unavailable")]), [allm.user("?")], response_format=Point
    )
    assert failed.error.reason == "provider_unavailable" and failed.parsed is None
    refused = allm.generate(
        fake([text("no"), finish("content_filter")]), [allm.user("?")], response_format=Point
    )
    assert refused.finish_reason == "content_filter" and refused.error is None
    plain = allm.generate(
        fake([text("no"), finish("content_filter")]),
        [allm.user("?")],
        response_format=Point,
        streaming=False,
    )
    assert plain.finish_reason == "content_filter"


def test_specs_round_trip_as_data() -> None:
    for kind in (Point, list[Point], Literal["a", "b"], Pair | None, dict[str, int]):
        spec = allm.output(kind, name="x y", mode="tool", strict=False)
        assert allm.from_json(allm.to_json(spec)) == spec
        assert pickle.loads(pickle.dumps(spec)) == spec
    again = allm.output(allm.output(Point), name="renamed", mode="prompted")
    assert (again.name, again.mode, again.type) == ("renamed", "prompted", Point)
    request = allm.Request(messages=(allm.user("?"),), response_format=allm.output(Point))
    assert allm.from_json(allm.to_json(request)) == request
    assert isinstance(allm.output, object) and callable(allm.output)
    assert isinstance(allm.output(Point), OutputSpec)
    with pytest.raises(allm.ValidationError):
        allm.output(Point, strict="yes", name=3)  # type: ignore[arg-type]


def test_wire_schemas_for_the_other_providers() -> None:
    class Bounded(BaseModel):
        n: int
        label: str
        items: list[int]

    schema = Bounded.model_json_schema()
    schema["properties"]["n"].update(minimum=1, maximum=9, description="count")
    schema["properties"]["label"]["maxLength"] = 5
    schema["properties"]["items"]["minItems"] = 2
    native = anthropic_native_schema(allm.output(schema))
    assert native["additionalProperties"] is False
    assert native["properties"]["n"]["description"] == "count (minimum: 1, maximum: 9)"
    assert native["properties"]["label"]["description"] == "(maxLength: 5)"
    assert "minItems" not in native["properties"]["items"]
    strict, ok = openai_schema(allm.output(Point, strict=False))
    assert not ok and "additionalProperties" not in strict
    gemini = gemini_schema(allm.output(Pair))
    assert gemini["properties"]["right"] == {"type": "string", "nullable": True, "title": "Right"}
    recursive = {
        "$defs": {
            "N": {
                "type": "object",
                "properties": {"k": {"$ref": "#/$defs/N", "description": "child"}},
            }
        },
        "$ref": "#/$defs/N",
    }
    rooted = base_schema(allm.output(recursive))
    assert rooted["type"] == "object" and "$defs" in rooted
    closed, _ = openai_schema(allm.output(recursive))
    child = closed["properties"]["k"]
    assert child["type"] == ["object", "null"] and child["description"] == "child"
    assert child["properties"]["k"] == {"anyOf": [{"$ref": "#/$defs/N"}, {"type": "null"}]}


def test_partial_parser_edges() -> None:
    parser = PartialParser(wrapped=True)
    assert parser.feed("Sure: ") is NOTHING
    assert parser.feed('{"resp') is NOTHING
    assert parser.feed('onse": [1,') == [1]
    assert parser.feed(" 2]") == [1, 2]
    assert parser.reset() is NOTHING
    assert PartialParser(wrapped=False).flush() is NOTHING
    prose = PartialParser(wrapped=False)
    prose.feed("no json here, ")
    assert prose.flush() is NOTHING
    broken = PartialParser(wrapped=False)
    assert broken.feed("[}") is NOTHING


def test_schema_helpers_on_odd_inputs() -> None:
    from allm.output.schema import allows_null, restore_absent

    assert allows_null(True) and not allows_null(False)
    assert allows_null({"enum": ["a", None]}) and allows_null({"oneOf": [{"type": "null"}]})
    external = {"$ref": "https://example.com/schema", "description": "x"}
    assert openai_schema(allm.output({"type": "object", "properties": {"e": external}}))[0][
        "properties"
    ]["e"]["anyOf"][0] == {"$ref": "https://example.com/schema"}
    one_of = {
        "type": "object",
        "properties": {"u": {"oneOf": [{"type": "integer"}, {"type": "string"}]}},
        "required": ["u"],
    }
    assert "anyOf" in openai_schema(allm.output(one_of))[0]["properties"]["u"]
    looped = {"$defs": {"A": {"$ref": "#/$defs/A"}}, "$ref": "#/$defs/A"}
    assert base_schema(allm.output(looped))["$defs"]
    spec = allm.output(list[Point | None])
    assert restore_absent([{"x": 1, "y": None}, None], spec.schema) == [{"x": 1}, None]
    assert restore_absent({"free": None}, {"type": "object"}) == {"free": None}
    assert restore_absent("text", {"type": "string"}) == "text"
    assert restore_absent([1], {"type": "array"}) == [1]
    optional_point = allm.output(Point | None)
    assert restore_absent({"x": 1, "y": None}, optional_point.schema) == {"x": 1}
    deep: Any = {"type": "object", "properties": {}}
    cursor = deep
    for _ in range(80):
        child: dict[str, Any] = {"type": "object", "properties": {}}
        cursor["properties"]["c"] = child
        cursor = child
    assert gemini_schema(allm.output(deep))["type"] == "object"
    assert anthropic_native_schema(allm.output(deep))["type"] == "object"
    assert openai_schema(allm.output(deep))[1] is True


def test_an_unhashable_type_still_validates() -> None:
    from typing import Annotated

    from pydantic import Field

    kind = Annotated[list[int], Field(max_length=2), ["unhashable"]]
    spec = allm.output(kind)
    assert validate_answer(spec, '{"response": [1]}')[0] == [1]


def test_a_whole_response_without_the_answer_tool_is_judged_as_text() -> None:
    spec = allm.output(Point, mode="tool")
    engine = fake([text('{"x": 5}'), finish("stop")])
    response = allm.generate(engine, [allm.user("?")], response_format=spec, streaming=False)
    assert response.parsed == Point(x=5)


def test_typed_values_round_trip_inside_results_and_events() -> None:
    response = allm.Response(output_text='{"x": 1}', parsed=[Point(x=1), Pair("a")])
    again = allm.from_json(allm.to_json(response))
    assert again == response and type(again.parsed[1]) is Pair
    event = allm.events.OutputCompleted(Point(x=2, y=3))
    assert allm.from_json(allm.to_json(event)) == event
    assert pickle.loads(pickle.dumps(response)) == response

    class Local(BaseModel):
        v: int

    with pytest.raises(TypeError, match="module-level"):
        allm.to_json(allm.Response(parsed=Local(v=1)))
