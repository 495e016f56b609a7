"""The Fake provider: scripts, cursors, entry grammar, options and harness entries (§19)."""

from __future__ import annotations

import time
from typing import Any

import pytest

import allm
from allm import AdapterError, StreamError
from allm.data import Message, ToolCall, Usage
from allm.errors import (
    AuthenticationError,
    ConfigurationError,
    NoScriptedResponseError,
    StreamTimeoutError,
)
from allm.events import (
    ErrorEvent,
    MessageCompleted,
    MessageStarted,
    RawChunk,
    ReasoningCompleted,
    ReasoningDelta,
    TextCompleted,
    TextDelta,
    ToolCallCompleted,
    ToolCallDelta,
    ToolCallStarted,
)
from allm.providers import fake
from allm.providers.fake import (
    ScriptCursor,
    delay,
    error,
    error_event,
    finish,
    ok,
    preflight_error,
    raw_chunk,
    reasoning,
    stream_error,
    text,
    tool_call,
    tool_call_delta,
    usage,
)

STARTED = MessageStarted(Message("assistant", ""))


# -- item 99 -------------------------------------------------------------------------------------


def test_f099_script_streams_started_deltas_completed(driver, fake_engine, messages) -> None:
    engine = fake_engine([text("Hello "), text("world"), finish("stop")])
    assert driver.events(engine, messages) == [
        STARTED,
        TextDelta("Hello "),
        TextDelta("world"),
        TextCompleted("Hello world"),
        MessageCompleted(allm.assistant("Hello world"), "stop"),
    ]


def test_f099_tuple_entries_equal_builder_entries(driver, fake_engine, messages) -> None:
    built = [
        text("a"),
        reasoning("r"),
        tool_call(id="c1", name="f", arguments={"x": 1}),
        tool_call_delta(id="c2", arguments_delta="{}"),
        usage(input_tokens=1),
        raw_chunk("raw"),
        error("rate_limited"),
        finish("length"),
    ]
    tuples = [
        ("text", "a"),
        ("reasoning", "r"),
        ("tool_call", {"id": "c1", "name": "f", "arguments": {"x": 1}}),
        ("tool_call_delta", {"id": "c2", "arguments_delta": "{}"}),
        ("usage", {"input_tokens": 1}),
        ("raw_chunk", "raw"),
        ("error", "rate_limited"),
        ("finish", "length"),
    ]
    expected = driver.events(fake_engine(built), messages, include_raw_chunks=True)
    assert driver.events(fake_engine(tuples), messages, include_raw_chunks=True) == expected
    assert len(expected) == 12


def test_f099_tool_call_entry_streams_started_then_completed(driver, fake_engine, messages) -> None:
    events = driver.events(
        fake_engine([tool_call(id="c1", name="f", arguments={"a": 1}), finish("tool_calls")]),
        messages,
    )
    call = ToolCall("c1", "f", {"a": 1}, '{"a":1}')
    assert events == [
        STARTED,
        ToolCallStarted("c1", "f"),
        ToolCallCompleted("c1", "f", {"a": 1}, '{"a":1}'),
        MessageCompleted(Message("assistant", "", tool_calls=(call,)), "tool_calls"),
    ]


def test_f099_tool_call_entry_keeps_given_raw_arguments(driver, fake_engine, messages) -> None:
    entry = tool_call(id="c1", name="f", arguments={"a": 1}, raw_arguments='{"a": 1}')
    response = driver.generate(fake_engine([entry]), messages)
    assert response.tool_calls == (ToolCall("c1", "f", {"a": 1}, '{"a": 1}'),)


def test_f099_reasoning_entries_stream_deltas_and_one_completed(
    driver, fake_engine, messages
) -> None:
    script = [reasoning("a"), ("reasoning", "b", "sig"), text("answer")]
    events = driver.events(fake_engine(script), messages)
    assert events[:3] == [STARTED, ReasoningDelta("a"), ReasoningDelta("b")]
    assert ReasoningCompleted("ab", "sig") in events
    response = driver.generate(fake_engine(script), messages)
    assert (response.reasoning, response.text) == ("ab", "answer")
    whole = driver.generate(fake_engine(script), messages, streaming=False)
    assert (whole.reasoning, whole.text) == ("ab", "answer")


def test_f099_tool_call_deltas_are_reparsed_on_the_non_streaming_path(
    driver, fake_engine, messages
) -> None:
    script = [
        tool_call_delta(id="c1", arguments_delta='{"a": '),
        tool_call_delta(id="c1", arguments_delta="1}"),
        finish("tool_calls"),
    ]
    events = driver.events(fake_engine(script), messages)
    assert [e for e in events if isinstance(e, ToolCallDelta)] == [
        ToolCallDelta("c1", '{"a": '),
        ToolCallDelta("c1", "1}"),
    ]
    whole = driver.generate(fake_engine(script), messages, streaming=False)
    assert whole.tool_calls == (ToolCall("c1", "", {"a": 1}, '{"a": 1}'),)


# -- item 100: scripts and cursors ---------------------------------------------------------------


def test_f100_scripts_serve_one_list_per_call(driver, fake_engine, messages) -> None:
    engine = fake_engine(scripts=[[text("one")], [text("two")]])
    assert driver.generate(engine, messages).text == "one"
    assert driver.generate(engine, messages).text == "two"
    with pytest.raises(AdapterError) as info:
        driver.generate(engine, messages)
    assert info.value.reason == "no_scripted_response"
    assert isinstance(info.value, NoScriptedResponseError)
    assert "no scripted response" in info.value.message


def test_f100_a_call_past_the_end_fails_synchronously(open_stream, fake_engine, messages) -> None:
    engine = fake_engine([text("once")])
    open_stream(engine, messages)  # consumes the only script without pulling an event
    with pytest.raises(NoScriptedResponseError):
        open_stream(engine, messages)


def test_f100_no_script_at_all(driver, fake_engine, messages) -> None:
    with pytest.raises(NoScriptedResponseError):
        driver.generate(fake_engine(), messages)


def test_f100_no_script_non_streaming_raises_before_any_call(driver, fake_engine, messages) -> None:
    # Out of script is a pre-flight failure on both paths: nothing was sent, so nothing to fold.
    with pytest.raises(NoScriptedResponseError):
        driver.generate(fake_engine(), messages, streaming=False)


@pytest.mark.parametrize("streaming", [True, False])
def test_f100_script_and_scripts_together_error(driver, fake_engine, messages, streaming) -> None:
    engine = fake_engine([text("a")], scripts=[[text("b")]])
    with pytest.raises(ConfigurationError) as info:
        driver.generate(engine, messages, streaming=streaming)
    assert info.value.reason == "invalid_script"
    assert "script" in info.value.problems[0]


def test_f100_scripts_must_be_a_list_of_lists(driver, fake_engine, messages) -> None:
    with pytest.raises(ConfigurationError):
        driver.generate(fake_engine(scripts=[text("a")]), messages)


def test_f100_cursor_is_per_engine(driver, fake_engine, messages) -> None:
    engine = fake_engine([text("a")])
    twin = fake_engine([text("a")])
    assert driver.generate(engine, messages).text == "a"
    assert driver.generate(twin, messages).text == "a"
    with pytest.raises(NoScriptedResponseError):
        driver.generate(engine, messages)


def test_f100_engine_helpers_keep_the_cursor(driver, fake_engine, messages) -> None:
    engine = fake_engine(scripts=[[text("a")], [text("b")]])
    assert driver.generate(engine, messages).text == "a"
    assert driver.generate(engine.with_model("other"), messages).text == "b"


def test_f100_streaming_and_non_streaming_calls_share_the_cursor(
    driver, fake_engine, messages
) -> None:
    engine = fake_engine(scripts=[[text("a")], [text("b")]])
    assert driver.generate(engine, messages, streaming=False).text == "a"
    assert driver.generate(engine, messages).text == "b"


def test_f136_identical_engines_do_not_share_a_cursor(driver, messages) -> None:
    opts = {"script": [text("same"), finish("stop")]}
    first = allm.Engine(adapter="fake", adapter_opts=opts)
    second = allm.Engine(adapter="fake", adapter_opts=opts)
    assert first.id != second.id
    assert first != second
    assert driver.generate(first, messages).text == "same"
    assert driver.generate(second, messages).text == "same"


def test_script_cursor_is_shared_between_engines(driver, messages) -> None:
    cursor = ScriptCursor()
    opts = {"scripts": [[text("a")], [text("b")]], "script_cursor": cursor}
    first = allm.Engine(adapter="fake", adapter_opts=opts)
    second = allm.Engine(adapter="fake", adapter_opts=opts)
    assert driver.generate(first, messages).text == "a"
    assert driver.generate(second, messages).text == "b"
    assert cursor.position == 2
    with pytest.raises(NoScriptedResponseError):
        driver.generate(first, messages)


def test_script_cursor_must_be_a_script_cursor(driver, fake_engine, messages) -> None:
    with pytest.raises(ConfigurationError):
        driver.generate(fake_engine([text("a")], script_cursor=object()), messages)


# -- item 101: finish ----------------------------------------------------------------------------


def test_f101_non_streaming_without_finish_is_stop(driver, fake_engine, messages) -> None:
    response = driver.generate(fake_engine([text("a")]), messages, streaming=False)
    assert response.finish_reason == "stop"


def test_f101_streaming_without_finish_ends_with_none(driver, fake_engine, messages) -> None:
    events = driver.events(fake_engine([text("a")]), messages)
    assert events[-1] == MessageCompleted(allm.assistant("a"), None)
    assert driver.generate(fake_engine([text("a")]), messages).finish_reason is None


def test_f101_entries_after_finish_are_ignored(driver, fake_engine, messages) -> None:
    script = [text("a"), finish("length"), text("b"), error("timeout")]
    events = driver.events(fake_engine(script), messages)
    assert events == [
        STARTED,
        TextDelta("a"),
        TextCompleted("a"),
        MessageCompleted(allm.assistant("a"), "length"),
    ]
    whole = driver.generate(fake_engine(script), messages, streaming=False)
    assert (whole.text, whole.finish_reason) == ("a", "length")


def test_f101_empty_script(driver, fake_engine, messages) -> None:
    assert driver.events(fake_engine([]), messages) == [
        STARTED,
        MessageCompleted(allm.assistant(""), None),
    ]
    whole = driver.generate(fake_engine([]), messages, streaming=False)
    assert whole.metadata == {"empty_script": True}
    assert whole.finish_reason == "stop"


def test_f101_finish_builder_defaults_to_stop() -> None:
    assert finish() == fake.Finish("stop")


# -- item 102: error entries ---------------------------------------------------------------------


def test_f102_error_entry_in_a_stream_is_an_error_event(driver, fake_engine, messages) -> None:
    events = driver.events(fake_engine([("error", "rate_limited"), text("later")]), messages)
    assert events[1] == ErrorEvent(AdapterError("rate_limited", provider="fake"))
    # The stream continues with later entries.
    assert events[2:] == [
        TextDelta("later"),
        TextCompleted("later"),
        MessageCompleted(allm.assistant("later"), None),
    ]


def test_f102_error_entry_with_an_unknown_term_in_a_stream(driver, fake_engine, messages) -> None:
    events = driver.events(fake_engine([error({"code": 7})]), messages)
    assert events[1] == ErrorEvent(AdapterError("unknown", provider="fake", cause={"code": 7}))


def test_f102_error_entry_in_generate(driver, fake_engine, messages) -> None:
    response = driver.generate(
        fake_engine([text("lost"), ("error", "rate_limited")]), messages, streaming=False
    )
    failure = response.metadata["error"]
    assert response.finish_reason == "error"
    assert type(failure) is AdapterError
    assert failure.reason == "unknown"
    assert failure.cause == "rate_limited"
    assert failure.message == "scripted error"


# -- item 103: delay -----------------------------------------------------------------------------


def test_f103_delay_waits_at_least_ms(driver, fake_engine, messages) -> None:
    start = time.monotonic()
    response = driver.generate(fake_engine([delay(40), text("a"), ("delay", 20)]), messages)
    elapsed = time.monotonic() - start
    assert response.text == "a"
    assert elapsed >= 0.055


def test_f103_delay_on_the_non_streaming_path(driver, fake_engine, messages) -> None:
    start = time.monotonic()
    response = driver.generate(fake_engine([delay(50), text("a")]), messages, streaming=False)
    assert time.monotonic() - start >= 0.045
    assert response.text == "a"


def test_f103_a_first_entry_delay_delays_message_started(fake_engine, messages) -> None:
    stream = allm.stream_generate(fake_engine([delay(50), text("a")]), messages)
    start = time.monotonic()
    assert next(stream) == STARTED
    assert time.monotonic() - start >= 0.045
    stream.close()


def test_f103_sleep_is_a_deprecated_alias(driver, fake_engine, messages, monkeypatch) -> None:
    monkeypatch.setattr(fake.script, "_warned_sleep", False)
    with pytest.warns(DeprecationWarning, match="delay"):
        response = driver.generate(fake_engine([("sleep", 1), text("a")]), messages)
    assert response.text == "a"


# -- item 104: retry_until_call ------------------------------------------------------------------


def test_f104_retry_until_call_streams_fail_until_the_nth(driver, fake_engine, messages) -> None:
    engine = fake_engine([text("ok"), finish("stop")], retry_until_call=3)
    timeout = ErrorEvent(AdapterError("timeout", "scripted transient timeout", provider="fake"))
    assert driver.events(engine, messages) == [STARTED, timeout]
    assert driver.events(engine, messages) == [STARTED, timeout]
    assert driver.generate(engine, messages).text == "ok"


def test_f104_retry_until_call_direct_generate_succeeds_on_the_nth(
    driver, fake_engine, messages, retry_events
) -> None:
    engine = fake_engine([text("ok")], retry_until_call=4, retry={"max_attempts": 5})
    # Default delays would be slow; take them from a zero-delay policy instead.
    engine = allm.Engine(
        adapter="fake",
        adapter_opts=engine.adapter_opts,
        retry={"max_attempts": 5, "base_delay_ms": 0, "jitter_ms": 0},
    )
    response = driver.generate(engine, messages, streaming=False)
    assert response.text == "ok"
    assert len(retry_events) == 3
    assert all(meta["provider"] == "fake" for _, _, meta in retry_events)


def test_f104_retry_until_call_one_succeeds_at_once(
    driver, fake_engine, messages, retry_events
) -> None:
    engine = fake_engine([text("ok")], retry_until_call=1)
    assert driver.generate(engine, messages, streaming=False).text == "ok"
    assert retry_events == []


@pytest.mark.parametrize("value", [0, -1, "2", 1.5])
def test_f104_retry_until_call_must_be_a_positive_int(driver, fake_engine, messages, value) -> None:
    with pytest.raises(ConfigurationError):
        driver.generate(fake_engine([text("a")], retry_until_call=value), messages)


# -- item 105: harness entries -------------------------------------------------------------------


def test_f105_preflight_error_fails_the_stream_synchronously(
    open_stream, fake_engine, messages, cleanup
) -> None:
    record: list[Any] = []
    engine = fake_engine(
        [preflight_error("authentication_failed", status=401), text("never")],
        record=record,
        cleanup_observer=cleanup,
    )
    with pytest.raises(AuthenticationError) as info:
        open_stream(engine, messages)
    assert info.value.status == 401
    assert info.value.provider == "fake"
    assert record == []
    assert cleanup.calls == 0


def test_f105_preflight_error_tuple_form(driver, fake_engine, messages) -> None:
    engine = fake_engine([("preflight_error", "rate_limited", {"retry_after_ms": 250})])
    with pytest.raises(AdapterError) as info:
        driver.generate(engine, messages)
    assert (info.value.reason, info.value.retry_after_ms) == ("rate_limited", 250)


def test_f105_preflight_error_must_be_first(driver, fake_engine, messages) -> None:
    with pytest.raises(ConfigurationError) as info:
        driver.generate(fake_engine([text("a"), preflight_error("timeout")]), messages)
    assert "first" in info.value.problems[0]


def test_f105_error_event_and_stream_error_entries(driver, fake_engine, messages) -> None:
    script = [
        error_event("rate_limited", retry_after_ms=1200, status=429),
        ("error_event", "provider_unavailable", {"status": 503}),
        stream_error("timeout"),
        ("stream_error", "malformed_event"),
        ("error", "quota_exhausted", {"status": 402}),
    ]
    errors = [
        e.error for e in driver.events(fake_engine(script), messages) if type(e) is ErrorEvent
    ]
    assert errors == [
        AdapterError("rate_limited", provider="fake", retry_after_ms=1200, status=429),
        AdapterError("provider_unavailable", provider="fake", status=503),
        StreamError("timeout", provider="fake"),
        StreamError("malformed_event", provider="fake"),
        AdapterError("quota_exhausted", provider="fake", status=402),
    ]
    assert isinstance(errors[2], StreamTimeoutError)


def test_f105_harness_error_in_generate_keeps_its_reason(driver, fake_engine, messages) -> None:
    engine = fake_engine([("error", "authentication_failed", {"status": 401})])
    response = driver.generate(engine, messages, streaming=False)
    assert response.metadata["error"] == AdapterError(
        "authentication_failed", provider="fake", status=401
    )


def test_f105_harness_ok_entry_is_a_whole_response(driver, fake_engine, messages) -> None:
    engine = fake_engine(
        [ok(output_text="whole", finish_reason="length", id="resp_1", model="m", raw={"r": 1})]
    )
    response = driver.generate(engine, messages, streaming=False, request_id="rq")
    assert (response.text, response.finish_reason) == ("whole", "length")
    assert (response.id, response.model, response.raw, response.request_id) == (
        "resp_1",
        "m",
        {"r": 1},
        "rq",
    )


def test_f105_stream_script_is_read_by_streams_only(driver, fake_engine, messages) -> None:
    opts = {"script": [text("generate")], "stream_script": [("text_delta", "stream")]}
    assert driver.generate(fake_engine(**opts), messages).text == "stream"
    assert driver.generate(fake_engine(**opts), messages, streaming=False).text == "generate"


def test_f105_stream_script_list_of_lists(driver, fake_engine, messages) -> None:
    engine = fake_engine(stream_script=[[("text_delta", "1")], [("text_delta", "2")]])
    assert [driver.generate(engine, messages).text for _ in range(2)] == ["1", "2"]


def test_f105_unknown_harness_reason_is_a_script_problem(driver, fake_engine, messages) -> None:
    with pytest.raises(ConfigurationError) as info:
        driver.generate(fake_engine([error_event("nope"), stream_error("rate_limited")]), messages)
    assert len(info.value.problems) == 2


# -- usage, record, cleanup_observer (item 132) --------------------------------------------------


@pytest.mark.parametrize("streaming", [True, False])
def test_f132_usage_option_applies_to_every_call_and_wins(
    driver, fake_engine, messages, streaming
) -> None:
    engine = fake_engine(
        scripts=[[usage(input_tokens=1), text("a")], [text("b")]],
        usage={"input_tokens": 7, "output_tokens": 2},
    )
    for _ in range(2):
        response = driver.generate(engine, messages, streaming=streaming)
        assert response.usage == Usage(input_tokens=7, output_tokens=2)


def test_f132_usage_option_accepts_a_usage_value(driver, fake_engine, messages) -> None:
    engine = fake_engine([text("a")], usage=Usage(total_tokens=9))
    assert driver.generate(engine, messages).usage == Usage(total_tokens=9)


def test_f132_usage_option_in_the_stream_is_a_single_usage_chunk(
    driver, fake_engine, messages
) -> None:
    engine = fake_engine([usage(input_tokens=1), text("a")], usage={"input_tokens": 7})
    chunks = [e for e in driver.events(engine, messages) if isinstance(e, RawChunk)]
    assert chunks == [RawChunk(("usage", {"input_tokens": 7}))]


@pytest.mark.parametrize("value", [{"tokens": 1}, 5])
def test_f132_bad_usage_option_raises(driver, fake_engine, messages, value) -> None:
    with pytest.raises(ConfigurationError):
        driver.generate(fake_engine([text("a")], usage=value), messages)


def test_f132_record_callable_receives_request_and_call(driver, fake_engine, messages) -> None:
    seen: list[Any] = []
    engine = fake_engine([text("a")], record=lambda request, call: seen.append((request, call)))
    driver.generate(engine, messages, request_id="rid")
    ((request, call),) = seen
    assert request.messages == tuple(messages)
    assert call.request_id == "rid"
    assert call.engine == engine
    assert call.adapter_opts["cursor_key"] == engine.id


def test_f132_record_on_the_non_streaming_path(driver, fake_engine, messages) -> None:
    record: list[Any] = []
    driver.generate(fake_engine([text("a")], record=record), messages, streaming=False)
    assert len(record) == 1


def test_cleanup_observer_runs_once_on_a_full_stream(
    driver, fake_engine, messages, cleanup
) -> None:
    engine = fake_engine([text("a"), finish("stop")], cleanup_observer=cleanup)
    assert driver.generate(engine, messages).text == "a"
    assert cleanup.calls == 1


def test_cleanup_observer_must_be_callable(driver, fake_engine, messages) -> None:
    with pytest.raises(ConfigurationError):
        driver.generate(fake_engine([text("a")], cleanup_observer=3), messages)


# -- malformed scripts ---------------------------------------------------------------------------


def test_unknown_and_malformed_entries_list_every_problem(driver, fake_engine, messages) -> None:
    script = [
        ("bogus", 1),
        ("text", 5),
        text("fine"),
        ("finish", "nope"),
        usage(bogus=1),
        "not an entry",
        ("tool_call", {"name": "no_id"}),
        ("delay", -1),
        ("tool_call", {"id": "c", "name": "f", "arguments": [1]}),
        ("tool_call", {"id": "c", "name": "f", "color": "red"}),
        ("tool_call_delta", {"id": "c"}),
    ]
    with pytest.raises(ConfigurationError) as info:
        driver.generate(fake_engine(script), messages)
    problems = info.value.problems
    assert info.value.reason == "invalid_script"
    assert len(problems) == 10
    for index in (0, 1, 3, 4, 5, 6, 7, 8, 9, 10):
        assert any(f"[{index}]" in problem for problem in problems)
    assert not any("[2]" in problem for problem in problems)


def test_a_script_that_is_not_a_list_raises(driver, fake_engine, messages) -> None:
    with pytest.raises(ConfigurationError):
        driver.generate(fake_engine("text"), messages)


def test_malformed_entries_fail_the_non_streaming_path_too(driver, fake_engine, messages) -> None:
    with pytest.raises(ConfigurationError):
        driver.generate(fake_engine([("bogus",)]), messages, streaming=False)


def test_unhashable_reasons_are_listed_as_script_problems(driver, fake_engine, messages) -> None:
    script = [("finish", {"why": 1}), ("error_event", ["x"]), ("stream_error", {"y": 2})]
    with pytest.raises(ConfigurationError) as info:
        driver.generate(fake_engine(script), messages)
    assert len(info.value.problems) == 3


def test_tool_calls_on_the_non_streaming_path(driver, fake_engine, messages) -> None:
    script = [
        tool_call(id="c1", name="f", arguments={"a": 1}),
        tool_call_delta(id="c2", arguments_delta="not json"),
        finish("tool_calls"),
    ]
    whole = driver.generate(fake_engine(script), messages, streaming=False)
    assert whole.finish_reason == "tool_calls"
    assert whole.tool_calls == (
        ToolCall("c1", "f", {"a": 1}, '{"a":1}'),
        ToolCall("c2", "", {}, "not json"),  # fragments that are no JSON object stay raw
    )
    assert whole.message is not None
    assert whole.message.tool_calls == whole.tool_calls


def test_harness_ok_entry_with_usage_and_the_usage_option(driver, fake_engine, messages) -> None:
    entry = ok(text="t", usage={"input_tokens": 1}, metadata={"m": 1})
    plain = driver.generate(fake_engine([entry]), messages, streaming=False)
    assert (plain.text, plain.usage, plain.metadata) == ("t", Usage(input_tokens=1), {"m": 1})
    overridden = driver.generate(
        fake_engine([entry], usage={"output_tokens": 4}), messages, streaming=False
    )
    assert overridden.usage == Usage(output_tokens=4)


def test_error_entry_fields_reach_the_error(driver, fake_engine, messages) -> None:
    script = [
        error_event("timeout", message="upstream slow"),
        stream_error("cancelled", message="m"),
    ]
    errors = [
        e.error for e in driver.events(fake_engine(script), messages) if type(e) is ErrorEvent
    ]
    assert [(err.reason, err.message) for err in errors] == [
        ("timeout", "upstream slow"),
        ("cancelled", "m"),
    ]
