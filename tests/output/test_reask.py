"""Re-ask paths, driven by the Fake: invalid then valid, always invalid, and no retries."""

from __future__ import annotations

import asyncio
import pickle
from typing import Any

import pytest
from pydantic import BaseModel

import allm
from allm.events import ErrorEvent, OutputCompleted, OutputRetry, PartialOutput
from allm.providers.fake import finish, text, tool_call, usage


class City(BaseModel):
    name: str
    population: int


INVALID = '{"name": "Oslo", "population": "many"}'
VALID = '{"name": "Oslo", "population": 709000}'


def fake(*scripts: list[Any], **opts: Any) -> allm.Engine:
    return allm.Engine(adapter="fake", adapter_opts={"scripts": [list(s) for s in scripts], **opts})


def attempt(answer: str, tokens: int) -> list[Any]:
    return [text(answer), usage(input_tokens=10, output_tokens=tokens), finish("stop")]


def test_invalid_then_valid_retries_once_and_sums_usage() -> None:
    engine = fake(attempt(INVALID, 5), attempt(VALID, 7))
    seen: list[Any] = []
    stream = allm.stream_generate(
        engine, [allm.user("Oslo?")], response_format=City, on_event=seen.append
    )
    events = list(stream)
    retries = [e for e in events if isinstance(e, OutputRetry)]
    assert len(retries) == 1 and retries[0].attempt == 2
    assert retries[0].error.reason == "invalid_output"
    assert retries[0].error.errors == ((("population",), "int_parsing"),)
    assert isinstance(events[-1], OutputCompleted) and events[-1].value == City(
        name="Oslo", population=709000
    )
    response = allm.generate(
        fake(attempt(INVALID, 5), attempt(VALID, 7)), [allm.user("Oslo?")], response_format=City
    )
    assert response.parsed == City(name="Oslo", population=709000)
    assert response.text == VALID  # only the last attempt's text
    assert response.usage.input_tokens == 20 and response.usage.output_tokens == 12
    assert response.finish_reason == "stop"


def test_the_reask_sends_the_invalid_answer_and_the_errors_back() -> None:
    recorded: list[Any] = []
    engine = allm.Engine(
        adapter="fake",
        adapter_opts={"scripts": [attempt(INVALID, 5), attempt(VALID, 7)], "record": recorded},
    )
    allm.generate(engine, [allm.user("Oslo?")], response_format=City)
    assert len(recorded) == 2
    messages = recorded[-1][0].messages
    assert messages[-2].role == "assistant" and messages[-2].content == INVALID
    assert messages[-1].role == "user" and "population" in messages[-1].content


def test_always_invalid_folds_the_error_and_unwrap_raises() -> None:
    engine = fake(attempt(INVALID, 5), attempt("not json", 3))
    response = allm.generate(engine, [allm.user("Oslo?")], response_format=City)
    assert response.finish_reason == "error"
    error = response.error
    assert isinstance(error, allm.OutputValidationError)
    assert isinstance(error, allm.ValidationError) and error.reason == "invalid_output"
    assert error.raw_text == "not json" and error.errors == (((), "invalid_json"),)
    assert response.parsed is None
    assert response.usage.output_tokens == 8
    with pytest.raises(allm.OutputValidationError):
        allm.unwrap(response)
    assert allm.from_json(allm.to_json(error)) == error
    assert pickle.loads(pickle.dumps(error)) == error
    events = list(
        allm.stream_generate(
            fake(attempt(INVALID, 5), attempt(INVALID, 3)), [allm.user("?")], response_format=City
        )
    )
    assert (
        isinstance(events[-1], ErrorEvent) and sum(isinstance(e, OutputRetry) for e in events) == 1
    )


def test_output_retries_zero_never_reasks() -> None:
    engine = fake(attempt(INVALID, 5), attempt(VALID, 7))
    response = allm.generate(engine, [allm.user("?")], response_format=City, output_retries=0)
    assert response.finish_reason == "error" and response.usage.output_tokens == 5
    events = list(
        allm.stream_generate(
            fake(attempt(INVALID, 5)), [allm.user("?")], response_format=City, output_retries=0
        )
    )
    assert not any(isinstance(e, OutputRetry) for e in events)
    with pytest.raises(allm.errors.ConfigurationError):
        allm.generate(engine, [allm.user("?")], response_format=City, output_retries=-1)


def test_non_streaming_path_reasks_the_same_way() -> None:
    engine = fake(attempt(INVALID, 5), attempt(VALID, 7))
    response = allm.generate(engine, [allm.user("?")], response_format=City, streaming=False)
    assert response.parsed == City(name="Oslo", population=709000)
    assert response.usage.output_tokens == 12
    failed = allm.generate(
        fake(attempt(INVALID, 5)),
        [allm.user("?")],
        response_format=City,
        streaming=False,
        output_retries=0,
    )
    assert isinstance(failed.error, allm.OutputValidationError)


def test_async_twin_matches() -> None:
    async def run() -> allm.Response:
        return await allm.agenerate(
            fake(attempt(INVALID, 5), attempt(VALID, 7)), [allm.user("?")], response_format=City
        )

    response = asyncio.run(run())
    assert (
        response.parsed == City(name="Oslo", population=709000)
        and response.usage.output_tokens == 12
    )


def test_tool_mode_lifts_the_answer_tool_into_text_and_streams_partials() -> None:
    spec = allm.output(City, mode="tool")
    call = tool_call(
        id="c1", name="respond_with_json_City", arguments={"name": "Oslo", "population": 709000}
    )
    events = list(
        allm.stream_generate(
            fake([call, finish("tool_calls")]), [allm.user("?")], response_format=spec
        )
    )
    assert isinstance(events[-1], OutputCompleted)
    response = allm.generate(
        fake([call, finish("tool_calls")]), [allm.user("?")], response_format=spec
    )
    assert response.parsed == City(name="Oslo", population=709000)
    assert response.finish_reason == "stop" and response.tool_calls == ()
    plain = allm.generate(
        fake([call, finish("tool_calls")]), [allm.user("?")], response_format=spec, streaming=False
    )
    assert plain.parsed == response.parsed and plain.finish_reason == "stop"
    assert any(isinstance(e, PartialOutput) for e in events)


def test_chat_with_tools_gives_a_typed_final_answer() -> None:
    @allm.tool
    def lookup(city: str) -> int:
        """Population of a city."""
        return 709000

    # native mode: the tool loop first, then one call with the format and no tools (two passes)
    recorded: list[Any] = []
    lookup_call = [
        tool_call(id="t1", name="lookup", arguments={"city": "Oslo"}),
        finish("tool_calls"),
    ]
    engine = fake(
        lookup_call, [text("Oslo has 709000 people."), finish()], attempt(VALID, 4), record=recorded
    )
    result = allm.chat(engine.put_tool(lookup), [allm.user("Oslo?")], response_format=City)
    assert result.output == City(name="Oslo", population=709000)
    assert result.halted_reason == "completed"
    assert [len(request.tools) for request, _ in recorded] == [1, 1, 0]
    # tool mode: one pass; the answer tool sits beside the caller's tools until it is called
    recorded.clear()
    spec = allm.output(City, mode="tool")
    answer = tool_call(
        id="a1", name="respond_with_json_City", arguments={"name": "Oslo", "population": 709000}
    )
    engine = fake(lookup_call, [answer, finish("tool_calls")], record=recorded)
    result = allm.chat(engine.put_tool(lookup), [allm.user("Oslo?")], response_format=spec)
    assert result.output == City(name="Oslo", population=709000)
    assert result.halted_reason == "completed" and len(result.steps) == 2
    assert recorded[0][0].tool_choice == "required"
    assert [tool.name for tool in recorded[0][0].tools] == ["lookup", "respond_with_json_City"]
    step = allm.step(fake(attempt(VALID, 4)), [allm.user("?")], response_format=City)
    assert step.response.parsed == City(name="Oslo", population=709000)


def test_sessions_carry_the_typed_output() -> None:
    from allm import sessions

    session, result = sessions.start(
        fake(attempt(VALID, 4)), [allm.user("Oslo?")], response_format=City
    )
    assert result.output == City(name="Oslo", population=709000)
    assert session.status in ("completed", "idle")


def test_bad_specs_fail_before_any_io() -> None:
    with pytest.raises(allm.ValidationError) as caught:
        allm.output(City, mode="sideways")
    assert caught.value.errors == ((("response_format", "mode"), "unknown"),)
    with pytest.raises(allm.ValidationError):
        allm.output({"type": "json_schema", "name": "x", "schema": {}})
    with pytest.raises(allm.ValidationError):
        allm.generate(
            fake(attempt(VALID, 1)), [allm.user("?")], response_format=type("Opaque", (), {})
        )


def test_a_chat_stream_shows_the_retry_and_folds_the_typed_answer() -> None:
    engine = fake(attempt(INVALID, 5), attempt(VALID, 7))
    stream = allm.stream(engine, [allm.user("Oslo?")], response_format=City)
    events = list(stream)
    assert [e.attempt for e in events if isinstance(e, OutputRetry)] == [2]
    final = events[-1]
    assert isinstance(final, allm.events.ChatCompleted)
    assert final.result.output == City(name="Oslo", population=709000)
    assert final.result.final_response.usage.output_tokens == 12
    assert final.result.thread.messages[-1].content == VALID  # only the last attempt is kept


def test_a_chat_that_never_validates_halts_with_the_error() -> None:
    result = allm.chat(
        fake(attempt(INVALID, 5)), [allm.user("?")], response_format=City, output_retries=0
    )
    assert result.output is None
    assert isinstance(result.final_response.error, allm.OutputValidationError)
    assert result.final_response.finish_reason == "error"
