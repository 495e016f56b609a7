"""The event union: FEATURES 13, adapted to 18 classes (the 16 ALLM tags plus two reasoning tags)."""

from __future__ import annotations

import dataclasses
import pickle
import typing

import pytest
from hypothesis import given
from tests.strategies import EVENT_STRATEGIES, event_values

import allm
from allm import events
from allm.data import FinishReason, Response, Thread, ToolCall

ALLM_TAGS = {
    "message_started",
    "text_delta",
    "text_completed",
    "tool_call_started",
    "tool_call_delta",
    "tool_call_completed",
    "tool_execution_started",
    "tool_execution_completed",
    "tool_result_encoded",
    "ask_user_requested",
    "tool_halt",
    "message_completed",
    "step_completed",
    "chat_completed",
    "raw_chunk",
    "error",
}
PYTHON_ADDITIONS = {"reasoning_delta", "reasoning_completed"}
TYPED_OUTPUT_ADDITIONS = {"partial_output", "output_completed", "output_retry"}
PROVIDER_TOOL_ADDITIONS = {"server_tool_call_completed", "citation_added"}
LOGPROBS_ADDITIONS = {"logprobs_delta"}
ALL_TAGS = (
    ALLM_TAGS
    | PYTHON_ADDITIONS
    | TYPED_OUTPUT_ADDITIONS
    | PROVIDER_TOOL_ADDITIONS
    | LOGPROBS_ADDITIONS
)

# One small instance of every event class, built by hand.
SAMPLES = [
    events.MessageStarted(allm.assistant("")),
    events.TextDelta("hel"),
    events.TextCompleted("hello", id="t1"),
    events.ReasoningDelta("think"),
    events.ReasoningCompleted("thought", signature="sig"),
    events.LogprobsDelta(
        (allm.TokenLogprob("hel", -0.25, b"hel", (allm.TokenLogprob("he", -2.0),)),)
    ),
    events.ToolCallStarted("c1", "get_weather"),
    events.ToolCallDelta("c1", '{"ci'),
    events.ToolCallCompleted("c1", "get_weather", {"city": "Paris"}, '{"city":"Paris"}'),
    events.ToolExecutionStarted("c1", "get_weather", {"city": "Paris"}),
    events.ToolExecutionCompleted("c1", "get_weather", {"temp": 20}),
    events.ToolResultEncoded("c1", '{"temp":20}'),
    events.AskUserRequested("c2", "ask", "Which city?", {"choices": ["Paris", "Rome"]}),
    events.ToolHalt("c3", "done_early", {"answer": 42}),
    events.MessageCompleted(allm.assistant("hello"), FinishReason.STOP),
    events.StepCompleted(Response(output_text="hello"), Thread((allm.user("hi"),))),
    events.ChatCompleted(allm.ChatResult(Thread())),
    events.RawChunk(("usage", {"input_tokens": 3, "output_tokens": 5})),
    events.ErrorEvent(allm.AdapterError("provider_unavailable", status=503)),
    events.ServerToolCallCompleted(allm.ServerToolCall("ws_1", "web_search", {"query": "q"})),
    events.CitationAdded(allm.Citation("url", url="https://example.com", start=0, end=4)),
    events.PartialOutput({"name": "Par"}),
    events.OutputCompleted({"name": "Paris"}),
    events.OutputRetry(
        2, allm.OutputValidationError(errors=[(("name",), "missing")], raw_text="{}")
    ),
]


def test_f013_the_union_has_one_class_per_distinct_tag():
    # the 18 of wave 1, the typed-output events PartialOutput, OutputCompleted, OutputRetry,
    # the provider-tool events ServerToolCallCompleted, CitationAdded, and LogprobsDelta
    tags = [cls.type for cls in events.EVENT_TYPES]

    assert len(events.EVENT_TYPES) == len(ALL_TAGS) == 24
    assert len(set(tags)) == len(tags)
    assert set(tags) == ALL_TAGS
    assert set(typing.get_args(events.Event)) == set(events.EVENT_TYPES)
    assert set(EVENT_STRATEGIES) == set(events.EVENT_TYPES)


@pytest.mark.parametrize("cls", events.EVENT_TYPES, ids=lambda cls: cls.__name__)
def test_f013_type_is_a_class_variable_equal_to_the_tag(cls):
    hints = typing.get_type_hints(cls, include_extras=True)

    assert typing.get_origin(hints["type"]) is typing.ClassVar
    assert "type" not in {f.name for f in dataclasses.fields(cls)}
    assert isinstance(cls.type, str)
    assert cls.__name__ in events.__all__


def test_f013_error_event_has_the_tag_error():
    assert events.ErrorEvent.type == "error"
    assert events.ErrorEvent(None).type == "error"


@pytest.mark.parametrize("event", SAMPLES, ids=lambda event: type(event).__name__)
def test_f013_is_event_accepts_every_event_class(event):
    assert events.is_event(event)
    assert type(event).type == event.type


def test_f013_the_samples_cover_every_class():
    assert {type(event) for event in SAMPLES} == set(events.EVENT_TYPES)


@pytest.mark.parametrize(
    "value",
    [
        ("text_delta", "hi"),
        ("error", "boom"),
        ("raw_chunk", {"a": 1}),
        {"type": "text_delta", "delta": "hi"},
        {"type": "error"},
        "text_delta",
        None,
        42,
        allm.user("hi"),
        Response(),
        ToolCall("c", "t"),
        allm.AdapterError("timeout"),
        events.TextDelta,
    ],
    ids=repr,
)
def test_f013_is_event_rejects_everything_else(value):
    assert not events.is_event(value)


def test_adapter_event_types_are_a_subset_without_chat_loop_tags():
    adapter_tags = {cls.type for cls in events.ADAPTER_EVENT_TYPES}

    assert set(events.ADAPTER_EVENT_TYPES) < set(events.EVENT_TYPES)
    assert not adapter_tags & {
        "tool_execution_started",
        "tool_execution_completed",
        "tool_result_encoded",
        "ask_user_requested",
        "tool_halt",
        "step_completed",
        "chat_completed",
    }


def test_is_usage_chunk_only_matches_the_usage_raw_chunk():
    assert events.is_usage_chunk(events.RawChunk(("usage", {"input_tokens": 1})))
    assert not events.is_usage_chunk(events.RawChunk(["usage", {"input_tokens": 1}]))
    assert not events.is_usage_chunk(events.RawChunk(("other", {})))
    assert not events.is_usage_chunk(events.RawChunk({"usage": {}}))
    assert not events.is_usage_chunk(("usage", {}))


def test_event_defaults():
    assert events.TextDelta("x").id is None
    assert events.ReasoningCompleted("x").signature is None
    assert events.ToolHalt("c", "r", None).content is None
    assert events.MessageCompleted(allm.assistant(""), None).metadata == {}
    step = events.StepCompleted(Response(), Thread())
    assert (step.mode, step.manual_tool_calls) == ("auto", ())
    assert events.AskUserRequested("c", "t", "q").opts == {}


def test_tool_call_completed_converts_to_a_tool_call():
    event = events.ToolCallCompleted("c1", "f", {"a": 1}, '{"a":1}', {"sig": "x"})

    assert event.to_tool_call() == ToolCall("c1", "f", {"a": 1}, '{"a":1}', {"sig": "x"})


@pytest.mark.parametrize("event", SAMPLES, ids=lambda event: type(event).__name__)
def test_every_sample_event_round_trips_through_pickle_and_json(event):
    assert pickle.loads(pickle.dumps(event)) == event
    assert allm.from_json(allm.to_json(event)) == event


def test_a_usage_chunk_is_still_a_usage_chunk_after_a_json_round_trip():
    chunk = events.RawChunk(("usage", {"input_tokens": 3}))

    assert events.is_usage_chunk(allm.from_json(allm.to_json(chunk)))


@given(event_values)
def test_f013_every_generated_event_is_an_event(event):
    assert events.is_event(event)
    assert event.type in ALL_TAGS
