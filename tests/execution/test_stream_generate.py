"""stream_generate over the Fake: grammar, laziness, filters, on_event and option routing (§7)."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

import allm
from allm import AdapterError, EventStream, StreamCollector
from allm.data import Request, ToolCall, Usage
from allm.errors import ConfigurationError
from allm.events import (
    ErrorEvent,
    MessageCompleted,
    MessageStarted,
    RawChunk,
    TextCompleted,
    TextDelta,
    ToolCallCompleted,
    ToolCallDelta,
    ToolCallStarted,
)
from allm.providers.fake import (
    error,
    finish,
    raw_chunk,
    text,
    tool_call,
    tool_call_delta,
    usage,
)


def types_of(events: list[Any]) -> list[type[Any]]:
    return [type(event) for event in events]


class Boom(Exception):
    pass


# -- grammar (item 24) ---------------------------------------------------------------------------


def test_f024_stream_grammar_from_the_fake(driver, fake_engine, messages) -> None:
    engine = fake_engine(
        [text("Hello "), text("world"), usage(input_tokens=3, output_tokens=2), finish("stop")]
    )
    events = driver.events(engine, messages)
    assert types_of(events) == [
        MessageStarted,
        TextDelta,
        TextDelta,
        RawChunk,
        TextCompleted,
        MessageCompleted,
    ]
    assert [event.delta for event in events if isinstance(event, TextDelta)] == ["Hello ", "world"]
    assert events[3] == RawChunk(("usage", {"input_tokens": 3, "output_tokens": 2}))
    assert events[4] == TextCompleted("Hello world")
    final = events[-1]
    assert final.finish_reason == "stop"
    assert final.message == allm.assistant("Hello world")


def test_f024_request_id_is_the_callers_or_a_fresh_one(driver, fake_engine, messages) -> None:
    given = driver.generate(fake_engine([text("a")]), messages, request_id="req-42")
    assert given.request_id == "req-42"
    fresh = driver.generate(fake_engine([text("a")]), messages)
    other = driver.generate(fake_engine([text("a")]), messages)
    assert isinstance(fresh.request_id, str)
    assert len(fresh.request_id) == 22
    assert fresh.request_id != other.request_id


def test_f024_stream_request_id_matches_the_adapter_call(fake_engine, messages) -> None:
    record: list[Any] = []
    stream = allm.stream_generate(fake_engine([text("a")], record=record), messages)
    collected = stream.collect()
    assert record[0][1].request_id == stream.request_id == collected.request_id


def test_f024_collect_folds_every_event_of_the_stream(fake_engine, messages) -> None:
    engine = fake_engine(
        [tool_call(id="c1", name="f"), tool_call(id="c2", name="g"), finish("tool_calls")]
    )
    stream = allm.stream_generate(engine, messages)
    assert isinstance(stream, EventStream)
    assert isinstance(next(stream), MessageStarted)
    assert isinstance(next(stream), ToolCallStarted)
    assert next(stream) == ToolCallCompleted("c1", "f", {}, "{}")
    response = stream.collect()
    # c1 was consumed before collect(); the stream remembers it (W1), so both are folded.
    assert [call.id for call in response.tool_calls] == ["c1", "c2"]
    assert response.finish_reason == "tool_calls"


# -- laziness (item 25) --------------------------------------------------------------------------


def test_f025_stream_generate_is_lazy(fake_engine, messages) -> None:
    record: list[Any] = []
    stream = allm.stream_generate(fake_engine([text("a")], record=record), messages)
    assert record == []
    assert isinstance(next(stream), MessageStarted)
    assert len(record) == 1
    request, call = record[0]
    assert isinstance(request, Request)
    assert request.messages == tuple(messages)
    assert call.request_id == stream.request_id
    stream.close()


@pytest.mark.anyio
async def test_f025_astream_generate_is_lazy(fake_engine, messages) -> None:
    record: list[Any] = []
    stream = await allm.astream_generate(fake_engine([text("a")], record=record), messages)
    assert isinstance(stream, allm.AsyncEventStream)
    assert record == []
    assert isinstance(await stream.__anext__(), MessageStarted)
    assert len(record) == 1
    await stream.aclose()


def test_f025_nothing_is_recorded_until_pulled_even_when_closed(fake_engine, messages) -> None:
    record: list[Any] = []
    stream = allm.stream_generate(fake_engine([text("a")], record=record), messages)
    stream.close()
    assert record == []
    assert list(stream) == []


# -- filters (items 27, 28) ----------------------------------------------------------------------


def test_f027_emit_text_deltas_false_drops_deltas(driver, fake_engine, messages) -> None:
    engine = fake_engine([text("a"), text("b"), finish("stop")])
    events = driver.events(engine, messages, emit_text_deltas=False)
    assert types_of(events) == [MessageStarted, TextCompleted, MessageCompleted]
    response = driver.collect(fake_engine([text("a"), text("b")]), messages, emit_text_deltas=False)
    assert response.output_text == "ab"


def test_f027_emit_text_deltas_true_is_the_default(driver, fake_engine, messages) -> None:
    events = driver.events(fake_engine([text("a")]), messages, emit_text_deltas=True)
    assert TextDelta("a") in events


def test_f027_emit_tool_deltas_false_drops_tool_call_deltas(driver, fake_engine, messages) -> None:
    script = [
        tool_call_delta(id="c1", arguments_delta='{"a":'),
        tool_call_delta(id="c1", arguments_delta="1}"),
        tool_call(id="c1", name="f", arguments={"a": 1}),
        finish("tool_calls"),
    ]
    unfiltered = driver.events(fake_engine(script), messages)
    assert types_of(unfiltered).count(ToolCallDelta) == 2
    events = driver.events(fake_engine(script), messages, emit_tool_deltas=False)
    assert types_of(events) == [
        MessageStarted,
        ToolCallStarted,
        ToolCallCompleted,
        MessageCompleted,
    ]
    response = driver.collect(fake_engine(script), messages, emit_tool_deltas=False)
    assert response.tool_calls == (ToolCall("c1", "f", {"a": 1}, '{"a":1}'),)


def test_f028_raw_chunks_are_dropped_by_default_but_usage_passes(
    driver, fake_engine, messages
) -> None:
    script = [raw_chunk({"x": 1}), usage(input_tokens=5), text("a"), finish("stop")]
    events = driver.events(fake_engine(script), messages)
    raw = [event for event in events if isinstance(event, RawChunk)]
    assert raw == [RawChunk(("usage", {"input_tokens": 5}))]
    assert driver.generate(fake_engine(script), messages).usage == Usage(input_tokens=5)


def test_f028_include_raw_chunks_false_still_passes_usage(driver, fake_engine, messages) -> None:
    script = [raw_chunk("opaque"), usage(output_tokens=9)]
    events = driver.events(fake_engine(script), messages, include_raw_chunks=False)
    assert [e for e in events if isinstance(e, RawChunk)] == [
        RawChunk(("usage", {"output_tokens": 9}))
    ]
    response = driver.generate(fake_engine(script), messages, include_raw_chunks=False)
    assert response.usage == Usage(output_tokens=9)


def test_f028_include_raw_chunks_true_passes_every_chunk(driver, fake_engine, messages) -> None:
    script = [raw_chunk({"x": 1}), usage(input_tokens=5), raw_chunk("y")]
    events = driver.events(fake_engine(script), messages, include_raw_chunks=True)
    assert [event.data for event in events if isinstance(event, RawChunk)] == [
        {"x": 1},
        ("usage", {"input_tokens": 5}),
        "y",
    ]


def test_f028_filters_never_drop_the_bookends(driver, fake_engine, messages) -> None:
    events = driver.events(
        fake_engine([text("a"), tool_call_delta(id="c", arguments_delta="{}")]),
        messages,
        emit_text_deltas=False,
        emit_tool_deltas=False,
        include_raw_chunks=False,
    )
    assert types_of(events) == [MessageStarted, TextCompleted, MessageCompleted]


# -- on_event (item 29) --------------------------------------------------------------------------


def test_f029_on_event_sees_every_event_before_filtering(driver, fake_engine, messages) -> None:
    script = [text("a"), raw_chunk("r"), tool_call_delta(id="c", arguments_delta="{}")]
    seen: list[Any] = []
    events = driver.events(
        fake_engine(script),
        messages,
        on_event=seen.append,
        emit_text_deltas=False,
        emit_tool_deltas=False,
    )
    assert types_of(seen) == [
        MessageStarted,
        TextDelta,
        RawChunk,
        ToolCallDelta,
        TextCompleted,
        MessageCompleted,
    ]
    assert types_of(events) == [MessageStarted, TextCompleted, MessageCompleted]
    everything = driver.events(fake_engine(script), messages, include_raw_chunks=True)
    assert seen == everything


def test_f029_on_event_exception_surfaces_in_iteration(
    driver, fake_engine, messages, cleanup
) -> None:
    def boom(event: Any) -> None:
        if isinstance(event, TextDelta):
            raise Boom(event.delta)

    engine = fake_engine([text("a"), text("b")], cleanup_observer=cleanup)
    with pytest.raises(Boom, match=r"^a$"):
        driver.events(engine, messages, on_event=boom)
    assert cleanup.calls == 1  # the adapter's stream was still cleaned up


def test_f029_on_event_exception_is_not_raised_at_the_call(fake_engine, messages) -> None:
    def boom(event: Any) -> None:
        raise Boom

    stream = allm.stream_generate(fake_engine([text("a")]), messages, on_event=boom)
    with pytest.raises(Boom):
        next(stream)


@pytest.mark.anyio
async def test_f029_on_event_exception_is_not_raised_at_the_async_call(
    fake_engine, messages
) -> None:
    def boom(event: Any) -> None:
        raise Boom

    stream = await allm.astream_generate(fake_engine([text("a")]), messages, on_event=boom)
    with pytest.raises(Boom):
        await stream.__anext__()
    await stream.aclose()


def test_f029_generate_with_on_event_sees_the_events(driver, fake_engine, messages) -> None:
    seen: list[Any] = []
    response = driver.generate(fake_engine([text("hi")]), messages, on_event=seen.append)
    assert response.text == "hi"
    assert types_of(seen) == [MessageStarted, TextDelta, TextCompleted, MessageCompleted]


def test_f029_on_event_must_be_callable(open_stream, fake_engine, messages) -> None:
    with pytest.raises(ConfigurationError) as info:
        open_stream(fake_engine([text("a")]), messages, on_event="print")
    assert any("on_event" in problem for problem in info.value.problems)


# -- option routing (items 30, 31) ---------------------------------------------------------------


def test_f030_chat_loop_keywords_are_unknown_options_of_generate(
    driver, fake_engine, messages
) -> None:
    record: list[Any] = []
    with pytest.raises(ConfigurationError) as info:
        driver.generate(
            fake_engine([text("a")], record=record),
            messages,
            mode="manual",
            max_turns=3,
            temprature=0.2,
        )
    assert info.value.reason == "unknown_option"
    message = str(info.value)
    assert "unknown option 'max_turns': a chat-loop option" in message
    assert "unknown option 'mode': a chat-loop option" in message
    assert "unknown option 'temprature': did you mean 'temperature'?" in message
    assert record == []  # nothing was sent


def test_f030_orchestration_params_on_the_engine_are_stripped(
    driver, fake_engine, messages
) -> None:
    record: list[Any] = []
    engine = fake_engine([text("a")], record=record, params={"max_turns": 4, "top_k": 3})
    driver.generate(engine, messages)
    call = record[0][1]
    assert "max_turns" not in call.params
    assert call.params["top_k"] == 3


def test_f031_unknown_call_opts_land_in_params(driver, fake_engine, messages) -> None:
    record: list[Any] = []
    driver.generate(
        fake_engine([text("a")], record=record),
        messages,
        reasoning_effort="high",
        api_key="sk-test",
        request_id="req-7",
        emit_text_deltas=False,
    )
    call = record[0][1]
    assert call.params == {"reasoning_effort": "high"}
    assert call.api_key == "sk-test"
    assert call.request_id == "req-7"


def test_f031_empty_api_key_is_not_passed(driver, fake_engine, messages) -> None:
    record: list[Any] = []
    driver.generate(fake_engine([text("a")], record=record), messages, api_key="")
    assert record[0][1].api_key is None
    assert "api_key" not in record[0][1].params


def test_f031_call_opts_win_over_engine_params(driver, fake_engine, messages) -> None:
    record: list[Any] = []
    engine = fake_engine([text("a")], record=record, params={"top_p": 0.5, "seed": 1})
    driver.generate(engine, messages, top_p=0.9)
    # top_p and seed are neutral request fields (W1): resolved into the request, not params
    request, call = record[0][0], record[0][1]
    assert (request.top_p, request.seed) == (0.9, 1)
    assert call.params == {}


def test_f031_call_keyword_over_request_field_over_engine_param(driver, messages) -> None:
    record: list[Any] = []
    engine = allm.Engine(
        adapter="fake",
        adapter_opts={"scripts": [[text("a")], [text("b")], [text("c")]], "record": record},
        params={"max_tokens": 7, "temperature": 0.1},
        model="em",
    )
    driver.generate(engine, allm.request(messages))
    driver.generate(engine, allm.request(messages, model="rm", max_tokens=9))
    driver.generate(
        engine, allm.request(messages, model="rm", max_tokens=9), model="om", max_tokens=3
    )
    requests = [request for request, _ in record]
    assert [(r.model, r.max_tokens, r.temperature) for r in requests] == [
        ("em", 7, 0.1),
        ("rm", 9, 0.1),
        ("om", 3, 0.1),
    ]
    assert all("max_tokens" not in call.params for _, call in record)


def test_f031_adapter_opts_call_keyword_overlays_the_engines(driver, fake_engine, messages) -> None:
    record: list[Any] = []
    engine = fake_engine([text("engine")], record=record)
    response = driver.generate(engine, messages, adapter_opts={"script": [text("call")]})
    assert response.text == "call"
    assert record[0][1].adapter_opts["cursor_key"] == engine.id


def test_f031_transport_keywords_reach_adapter_opts_not_params(
    driver, fake_engine, messages
) -> None:
    record: list[Any] = []
    driver.generate(
        fake_engine([text("a")], record=record),
        messages,
        timeout=5,
        base_url="http://localhost:1",
        stream_timeout=2,
    )
    call = record[0][1]
    assert call.params == {}
    assert (call.opt("timeout"), call.opt("base_url"), call.opt("stream_timeout")) == (
        5,
        "http://localhost:1",
        2,
    )


def test_f031_tools_keyword_is_resolved_onto_the_request(driver, messages) -> None:
    schema = {"type": "object"}
    a, b, b2, d = (
        allm.tool(name=name, description=desc, schema=schema)
        for name, desc in (("a", "A"), ("b", "B"), ("b", "B2"), ("d", "D"))
    )
    record: list[Any] = []
    engine = allm.Engine(
        adapter="fake", adapter_opts={"script": [text("x")], "record": record}, tools=(a, b)
    )
    driver.generate(engine, messages, tools=[b2, d])
    request, call = record[0]
    assert [(t.name, t.description) for t in request.tools] == [("a", "A"), ("b", "B2"), ("d", "D")]
    assert "tools" not in call.params


def test_f031_provider_model_string_selects_the_adapter(driver, messages) -> None:
    record: list[Any] = []
    engine = allm.Engine(model="fake:tiny", adapter_opts={"script": [text("a")], "record": record})
    assert driver.generate(engine, messages).text == "a"
    assert record[0][0].model == "tiny"


def test_a_list_of_messages_is_accepted_as_the_request(driver, fake_engine, messages) -> None:
    record: list[Any] = []
    driver.generate(fake_engine([text("a")], record=record), messages)
    driver_request = record[0][0]
    assert driver_request.messages == tuple(messages)


# -- errors inside the stream --------------------------------------------------------------------


def test_mid_stream_error_is_an_event_and_the_stream_goes_on(driver, fake_engine, messages) -> None:
    events = driver.events(fake_engine([text("a"), error("rate_limited"), text("b")]), messages)
    assert types_of(events) == [
        MessageStarted,
        TextDelta,
        ErrorEvent,
        TextDelta,
        TextCompleted,
        MessageCompleted,
    ]
    assert events[2].error == AdapterError("rate_limited", provider="fake")


def test_stream_collect_equals_fold_of_its_events(driver, fake_engine, messages) -> None:
    script = [text("a"), tool_call(id="c", name="f"), usage(input_tokens=1), finish("tool_calls")]
    events = driver.events(fake_engine(script), messages, request_id="r")
    folded = StreamCollector(request_id="r").apply_all(events).to_response()
    assert driver.collect(fake_engine(script), messages, request_id="r") == folded


def test_anyio_run_collect_matches_sync_collect(fake_engine, messages) -> None:
    script = [text("x"), finish("length")]

    async def run() -> Any:
        stream = await allm.astream_generate(fake_engine(script), messages, request_id="r")
        return await stream.collect()

    sync = allm.stream_generate(fake_engine(script), messages, request_id="r").collect()
    assert anyio.run(run) == sync
