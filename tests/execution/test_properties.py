"""Properties over random Fake scripts: stream equivalence, sync == async, the adapter grammar."""

from __future__ import annotations

from typing import Any

import anyio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import allm
from allm import StreamCollector
from allm.events import (
    ADAPTER_EVENT_TYPES,
    LogprobsDelta,
    MessageCompleted,
    MessageStarted,
    TextCompleted,
    TextDelta,
)
from allm.providers import fake

MESSAGES = [allm.user("hi")]
REQUEST_ID = "req-prop"

# The driver fixture is stateless, so sharing it across examples is safe.
PROPERTY_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

short_text = st.text(max_size=6)
call_ids = st.sampled_from(["c1", "c2", "c3"])
small_ints = st.integers(min_value=0, max_value=1000)

token_logprobs = st.builds(
    allm.TokenLogprob,
    short_text,
    st.floats(min_value=-50, max_value=0, allow_nan=False),
    st.none() | st.binary(max_size=3),
    st.lists(
        st.builds(allm.TokenLogprob, short_text, st.floats(-50, 0, allow_nan=False)), max_size=2
    ).map(tuple),
)

entries = st.one_of(
    short_text.map(fake.text),
    short_text.map(fake.reasoning),
    st.lists(token_logprobs, max_size=3).map(lambda items: fake.logprobs(*items)),
    st.builds(
        lambda id, name, arguments: fake.tool_call(id=id, name=name, arguments=arguments),
        call_ids,
        st.sampled_from(["lookup", "search"]),
        st.dictionaries(st.text(max_size=3), small_ints, max_size=2),
    ),
    st.builds(
        lambda id, fragment: fake.tool_call_delta(id=id, arguments_delta=fragment),
        call_ids,
        short_text,
    ),
    st.builds(
        lambda i, o: fake.usage(input_tokens=i, output_tokens=o),
        small_ints,
        st.none() | small_ints,
    ),
    (small_ints | short_text | st.dictionaries(short_text, small_ints, max_size=2)).map(
        fake.raw_chunk
    ),
    st.sampled_from(["rate_limited", "timeout", "provider_unavailable", "mystery"]).map(fake.error),
    st.builds(
        lambda id, name: fake.server_tool_call(id, name, {"query": id}, [id]),
        call_ids,
        st.sampled_from(["web_search", "code_execution"]),
    ),
    st.builds(
        lambda url, start: fake.citation("url", url=url, start=start),
        short_text,
        st.none() | small_ints,
    ),
)
finishes = st.none() | st.sampled_from(
    [None, "stop", "length", "tool_calls", "content_filter", "other"]
).map(fake.finish)


@st.composite
def scripts(draw: st.DrawFn) -> list[Any]:
    script = draw(st.lists(entries, max_size=8))
    end = draw(finishes)
    if end is not None:
        script.append(end)
        # Entries after a finish are ignored; sometimes put some there anyway.
        script.extend(draw(st.lists(entries, max_size=2)))
    return script


def engine_for(script: list[Any]) -> allm.Engine:
    return allm.Engine(adapter="fake", adapter_opts={"script": script})


# What a call may ask beside its messages: nothing, reasoning, log probabilities.
call_options = st.fixed_dictionaries(
    {},
    optional={
        "reasoning": st.sampled_from(["low", "high", allm.Reasoning(budget_tokens=2048)]),
        "logprobs": st.booleans() | st.integers(0, 20),
    },
)


@PROPERTY_SETTINGS
@given(script=scripts(), opts=call_options)
def test_f032_generate_equals_the_fold_of_stream_generate(driver, script, opts) -> None:
    generated = driver.generate(engine_for(script), MESSAGES, request_id=REQUEST_ID, **opts)
    events = driver.events(engine_for(script), MESSAGES, request_id=REQUEST_ID, **opts)
    folded = StreamCollector(request_id=REQUEST_ID).apply_all(events).to_response()
    assert generated == folded
    collected = driver.collect(engine_for(script), MESSAGES, request_id=REQUEST_ID, **opts)
    assert collected == generated
    logprobs = [item for e in events if isinstance(e, LogprobsDelta) for item in e.items]
    assert folded.logprobs == (
        tuple(logprobs) if any(isinstance(e, LogprobsDelta) for e in events) else None
    )
    if "reasoning" in opts:
        assert "reasoning" in folded.metadata["reasoning_sent"]


@PROPERTY_SETTINGS
@given(script=scripts(), opts=call_options)
def test_the_whole_path_folds_logprobs_and_reasoning_sent_as_the_stream_does(
    driver, script, opts
) -> None:
    script = [entry for entry in script if not isinstance(entry, fake.Error)]
    whole = driver.generate(engine_for(script), MESSAGES, streaming=False, **opts)
    streamed = driver.generate(engine_for(script), MESSAGES, **opts)
    assert whole.logprobs == streamed.logprobs
    assert whole.metadata.get("reasoning_sent") == streamed.metadata.get("reasoning_sent")
    assert whole.output_text == streamed.output_text


@PROPERTY_SETTINGS
@given(script=scripts())
def test_sync_and_async_streams_emit_the_same_events(script) -> None:
    sync = list(allm.stream_generate(engine_for(script), MESSAGES, include_raw_chunks=True))

    async def run() -> list[Any]:
        stream = await allm.astream_generate(engine_for(script), MESSAGES, include_raw_chunks=True)
        return [event async for event in stream]

    assert anyio.run(run) == sync


@PROPERTY_SETTINGS
@given(script=scripts())
def test_collected_text_is_the_concatenation_of_the_text_deltas(driver, script) -> None:
    events = driver.events(engine_for(script), MESSAGES)
    deltas = "".join(event.delta for event in events if isinstance(event, TextDelta))
    completed = [event for event in events if isinstance(event, TextCompleted)]
    assert len(completed) <= 1  # no text_completed before the final one
    if completed:
        assert completed[0].text == deltas
    response = StreamCollector().apply_all(events).to_response()
    assert response.output_text == deltas
    assert isinstance(events[-1], MessageCompleted)
    assert events[-1].message.content == deltas


@PROPERTY_SETTINGS
@given(script=scripts())
def test_every_stream_obeys_the_adapter_grammar(driver, script) -> None:
    events = driver.events(engine_for(script), MESSAGES, include_raw_chunks=True)
    kinds = [type(event) for event in events]
    assert kinds[0] is MessageStarted
    assert kinds.count(MessageStarted) == 1
    assert kinds.count(MessageCompleted) == 1
    assert kinds[-1] is MessageCompleted  # the Fake always ends with one
    assert all(kind in ADAPTER_EVENT_TYPES for kind in kinds)


@PROPERTY_SETTINGS
@given(script=scripts())
def test_filters_only_remove_events(driver, script) -> None:
    everything = driver.events(engine_for(script), MESSAGES, include_raw_chunks=True)
    filtered = driver.events(
        engine_for(script), MESSAGES, emit_text_deltas=False, emit_tool_deltas=False
    )
    remaining = iter(everything)
    # The filtered stream is a subsequence of the full one.
    assert all(any(event == other for other in remaining) for event in filtered)
    # ... and folds to the same text, finish reason and usage (usage always passes).
    full = StreamCollector().apply_all(everything).to_response()
    thin = StreamCollector().apply_all(filtered).to_response()
    assert (thin.output_text, thin.finish_reason, thin.usage) == (
        full.output_text,
        full.finish_reason,
        full.usage,
    )
