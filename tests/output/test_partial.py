"""Partial values: a growing prefix of the final value (recorded streams, native and tool mode),
the per-wire schema rewrites, and the laws generate == fold(stream) and sync == async."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from tests.output.test_wires import CityFacts, CityInfo, engine, typed_case
from tests.providers.wire import load

import allm
from allm.events import PartialOutput
from allm.output.partial import NOTHING, PartialParser
from allm.output.schema import gemini_schema, openai_schema, restore_absent
from allm.providers import Anthropic, OpenAI
from allm.providers.fake import finish, text, tool_call, usage


def is_prefix(partial: Any, final: Any) -> bool:
    """``partial`` is what a cut JSON text of ``final`` can show: fewer keys / items, the last
    container possibly incomplete, every scalar complete."""
    if isinstance(partial, dict):
        return isinstance(final, dict) and all(
            key in final and is_prefix(value, final[key]) for key, value in partial.items()
        )
    if isinstance(partial, list):
        return (
            isinstance(final, list)
            and len(partial) <= len(final)
            and all(is_prefix(a, b) for a, b in zip(partial, final, strict=False))
        )
    return bool(partial == final)


def growing(values: list[Any], final: Any) -> bool:
    return all(is_prefix(v, final) for v in values) and all(
        is_prefix(a, b) for a, b in itertools.pairwise(values)
    )


def partials(stream: Any) -> list[Any]:
    return [event.value for event in stream if isinstance(event, PartialOutput)]


def test_native_mode_partials_of_a_recorded_stream_grow_towards_the_answer() -> None:
    case = typed_case("openai-chat", "typed_stream")
    target = engine(OpenAI(), case, endpoint="chat_completions")
    stream = allm.stream_generate(
        target, [allm.user("?")], model="gpt-4o", response_format=CityFacts, api_key="k"
    )
    values = partials(stream)
    final = {"city": "Reykjavík", "population": 139875}
    assert len(values) >= 2 and values[-1] == final
    assert growing(values, final)


def test_tool_mode_partials_of_a_recorded_stream_grow_towards_the_answer() -> None:
    case = load("anthropic", "structured_output_stream")
    target = engine(Anthropic(), case)
    spec = allm.output(CityInfo, name="city_info", mode="tool")
    stream = allm.stream_generate(
        target, [allm.user("?")], model="claude-haiku-4-5", response_format=spec, api_key="k"
    )
    values = partials(stream)
    final = {"city": "Lisbon", "country": "Portugal", "population": 545000}
    assert len(values) >= 2 and values[-1] == final
    assert growing(values, final)


@given(st.lists(st.integers(min_value=1, max_value=7), min_size=1, max_size=30))
@settings(max_examples=60, deadline=None)
def test_any_chunking_gives_prefixes_only(cuts: list[int]) -> None:
    final = {"a": [1, 22, {"b": "x, y"}], "c": True, "d": None, "e": -1.5e3, "f": 'q"uote'}

    textual = json.dumps(final)
    parser = PartialParser(wrapped=False)
    values, start = [], 0
    for size in cuts * 40:
        if start >= len(textual):
            break
        value = parser.feed(textual[start : start + size])
        start += size
        if value is not NOTHING:
            values.append(value)
    if start < len(textual):
        value = parser.feed(textual[start:])
        if value is not NOTHING:
            values.append(value)
    value = parser.flush()
    if value is not NOTHING:
        values.append(value)
    assert parser.flush() is NOTHING
    assert values and values[-1] == final
    assert growing(values, final)


class Address(BaseModel):
    street: str
    zip: str | None = None


class Person(BaseModel):
    name: str
    age: int = 0
    home: Address | None = None
    tags: list[str] = []


def test_strict_openai_schema_closes_and_requires_everything_and_nulls_mean_absent() -> None:
    spec = allm.output(Person)
    schema, strict = openai_schema(spec)
    assert strict
    assert schema["required"] == ["name", "age", "home", "tags"]
    assert schema["additionalProperties"] is False
    address = schema["$defs"]["Address"]
    assert address["additionalProperties"] is False and address["required"] == ["street", "zip"]
    assert schema["properties"]["age"]["type"] == ["integer", "null"]
    restored = restore_absent({"name": "A", "age": None, "home": None, "tags": None}, spec.schema)
    assert Person.model_validate(restored) == Person(name="A")
    _, map_strict = openai_schema(allm.output(dict[str, int]))
    assert map_strict is False  # a free-form map cannot be strict


def test_gemini_schema_turns_optional_into_nullable_with_ordering() -> None:
    schema = gemini_schema(allm.output(Person))
    assert schema["propertyOrdering"] == ["name", "age", "home", "tags"]
    assert schema["properties"]["home"]["nullable"] is True


def test_lists_are_wrapped_on_the_wire_and_unwrapped_on_validation() -> None:
    spec = allm.output(list[Address])
    schema, _ = openai_schema(spec)
    assert schema["required"] == ["response"]
    engine_ = allm.Engine(
        adapter="fake", adapter_opts={"script": [text('{"response": [{"street": "Main"}]}')]}
    )
    response = allm.generate(engine_, [allm.user("?")], response_format=spec)
    assert response.parsed == [Address(street="Main")]
    bare = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    engine_ = allm.Engine(adapter="fake", adapter_opts={"script": [text('{"n": "x"}')]})
    failed = allm.generate(engine_, [allm.user("?")], response_format=bare, output_retries=0)
    assert failed.error.errors == ((("n",), "type"),)


def _engine(pieces: list[str], retry_first: bool, mode: str) -> allm.Engine:
    scripts = []
    if retry_first:
        scripts.append([text('{"name": 1}'), usage(input_tokens=3, output_tokens=2), finish()])
    if mode == "tool":
        arguments = json.loads("".join(pieces))
        answer: list[Any] = [
            tool_call(id="a", name="respond_with_json_Person", arguments=arguments)
        ]
    else:
        answer = [text(piece) for piece in pieces]
    scripts.append([*answer, usage(input_tokens=4, output_tokens=5), finish()])
    return allm.Engine(adapter="fake", adapter_opts={"scripts": scripts})


@given(
    st.text(alphabet="abcxyz ", min_size=1, max_size=12),
    st.integers(min_value=0, max_value=120),
    st.lists(st.integers(min_value=1, max_value=9), min_size=1, max_size=6),
    st.booleans(),
    st.sampled_from(["native", "tool", "prompted"]),
)
@settings(max_examples=60, deadline=None)
def test_generate_is_the_fold_of_the_stream_and_sync_equals_async(
    name: str, age: int, cuts: list[int], retry_first: bool, mode: str
) -> None:
    textual = json.dumps({"name": name, "age": age})
    pieces, start = [], 0
    for size in cuts * 20:
        if start >= len(textual):
            break
        pieces.append(textual[start : start + size])
        start += size
    if start < len(textual):
        pieces.append(textual[start:])
    messages = [allm.user("?")]
    spec = allm.output(Person, mode=mode)
    folded = allm.stream_generate(
        _engine(pieces, retry_first, mode), messages, response_format=spec
    )
    folded_response = folded.collect()
    generated = allm.generate(_engine(pieces, retry_first, mode), messages, response_format=spec)
    whole = allm.generate(
        _engine(pieces, retry_first, mode), messages, response_format=spec, streaming=False
    )

    async def run() -> allm.Response:
        engine = _engine(pieces, retry_first, mode)
        return await allm.agenerate(engine, messages, response_format=spec)

    awaited = asyncio.run(run())
    assert folded_response.parsed == Person(name=name, age=age)
    for other in (generated, awaited, whole):
        assert other.parsed == folded_response.parsed
        assert (other.usage, other.finish_reason) == (
            folded_response.usage,
            folded_response.finish_reason,
        )
    assert generated.text == awaited.text == folded_response.text
    assert folded_response.usage.output_tokens == (7 if retry_first else 5)
