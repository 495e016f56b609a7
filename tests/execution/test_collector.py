"""The StreamCollector's fold rules and its three projections, on hand-built events (§6)."""

from __future__ import annotations

from typing import Any

import pytest

import allm
from allm import AdapterError, StreamCollector
from allm.collector import AWAITING_USER_CONTENT
from allm.data import ChatResult, Response, StepResult, Thread, ToolCall, Usage
from allm.events import (
    AskUserRequested,
    ChatCompleted,
    ErrorEvent,
    MessageCompleted,
    MessageStarted,
    RawChunk,
    ReasoningCompleted,
    ReasoningDelta,
    StepCompleted,
    TextCompleted,
    TextDelta,
    ToolCallCompleted,
    ToolCallDelta,
    ToolCallStarted,
    ToolExecutionCompleted,
    ToolExecutionStarted,
    ToolHalt,
    ToolResultEncoded,
)

THREAD = Thread((allm.user("hi"),))


def fold(*events: Any, thread: Thread | None = None) -> StreamCollector:
    return StreamCollector(thread).apply_all(events)


def completed(finish_reason: Any = "stop", text: str = "", **metadata: Any) -> MessageCompleted:
    return MessageCompleted(allm.assistant(text), finish_reason, metadata)


def step(finish_reason: Any = "stop", thread: Thread = THREAD, **kwargs: Any) -> StepCompleted:
    return StepCompleted(Response(output_text="r", finish_reason=finish_reason), thread, **kwargs)


# -- text (item 14) ------------------------------------------------------------------------------


def test_f014_text_deltas_append_and_text_completed_replaces() -> None:
    collector = fold(TextDelta("hel"), TextDelta("lo"))
    assert collector.current_text == "hello"
    assert collector.to_response().output_text == "hello"

    collector.apply(TextCompleted("X"))
    assert collector.current_text == "X"
    assert collector.to_response().text == "X"


def test_f014_text_delta_after_text_completed_appends_to_it() -> None:
    assert fold(TextCompleted("one"), TextDelta(" two")).current_text == "one two"


def test_f014_no_text_event_gives_empty_output_text() -> None:
    assert fold(MessageStarted(allm.assistant("")), completed()).to_response().output_text == ""


def test_f014_message_started_is_ignored() -> None:
    collector = fold(MessageStarted(allm.assistant("ignored")))
    response = collector.to_response()
    assert (response.output_text, response.message, response.finish_reason) == ("", None, None)


# -- tool calls (items 15, 16) -------------------------------------------------------------------


def test_f015_started_deltas_completed_fold_into_one_tool_call() -> None:
    collector = fold(
        ToolCallStarted("c1", "search"),
        ToolCallDelta("c1", '{"q": '),
        ToolCallDelta("c1", '"cats"}'),
    )
    # Before completion the collector only concatenates fragments; it never parses them.
    assert collector.to_response().tool_calls == (ToolCall("c1", "search", {}, '{"q": "cats"}'),)

    collector.apply(ToolCallCompleted("c1", "search", {"q": "cats"}, '{"q":"cats"}', {"sig": 1}))
    assert collector.to_response().tool_calls == (
        ToolCall("c1", "search", {"q": "cats"}, '{"q":"cats"}', {"sig": 1}),
    )


def test_f015_repeated_tool_call_started_keeps_the_first_call() -> None:
    collector = fold(
        ToolCallStarted("c1", "first"), ToolCallDelta("c1", "{}"), ToolCallStarted("c1", "second")
    )
    assert collector.to_response().tool_calls == (ToolCall("c1", "first", {}, "{}"),)


def test_f015_delta_for_an_unseen_id_creates_a_nameless_call() -> None:
    collector = fold(ToolCallDelta("c9", '{"a"'), ToolCallDelta("c9", ": 1}"))
    assert collector.to_response().tool_calls == (ToolCall("c9", "", {}, '{"a": 1}'),)


def test_f016_tool_calls_keep_the_order_of_first_appearance() -> None:
    collector = fold(
        ToolCallStarted("a", "fa"),
        ToolCallDelta("b", "{"),  # b first appears here
        ToolCallDelta("a", "{"),
        ToolCallCompleted("c", "fc", {}, "{}"),  # c first appears on completion
        ToolCallCompleted("b", "fb", {"x": 1}, '{"x":1}'),
        ToolCallDelta("b", "}"),
        ToolCallCompleted("a", "fa", {}, "{}"),
    )
    calls = collector.to_response().tool_calls
    assert [call.id for call in calls] == ["a", "b", "c"]
    assert calls[1].name == "fb"


# -- usage (item 17) -----------------------------------------------------------------------------


def test_f017_usage_chunk_replaces_the_usage_last_one_wins() -> None:
    collector = fold(
        RawChunk(("usage", {"input_tokens": 3, "output_tokens": 4})),
        RawChunk(("usage", {"input_tokens": 10})),
    )
    # Replaced, not merged: output_tokens of the first chunk is gone.
    assert collector.to_response().usage == Usage(input_tokens=10)


def test_f017_usage_chunk_with_a_usage_value_is_taken_as_is() -> None:
    usage = Usage(input_tokens=1, total_tokens=2)
    assert fold(RawChunk(("usage", usage))).to_response().usage == usage


def test_f017_usage_with_an_unknown_key_raises() -> None:
    with pytest.raises(TypeError):
        fold(RawChunk(("usage", {"prompt_tokens": 3})))


def test_f017_other_raw_chunks_are_ignored() -> None:
    response = fold(RawChunk({"type": "ping"}), RawChunk(("thinking_start", 0))).to_response()
    assert response.usage == Usage()
    assert response.metadata == {}


def test_f017_usage_in_message_completed_metadata_is_folded() -> None:
    response = fold(completed(usage={"input_tokens": 5}, note="x")).to_response()
    assert response.usage == Usage(input_tokens=5)
    assert response.metadata == {"note": "x"}


def test_f017_usage_value_in_message_completed_metadata_is_folded() -> None:
    usage = Usage(output_tokens=8)
    assert fold(completed(usage=usage)).to_response().usage == usage


# -- errors (item 18) ----------------------------------------------------------------------------


def test_f018_error_event_sets_finish_reason_error_and_metadata_error() -> None:
    error = AdapterError("rate_limited", provider="fake")
    response = fold(ErrorEvent(error)).to_response()
    assert response.finish_reason == "error"
    assert response.metadata["error"] is error
    assert response.error is error


def test_f018_message_completed_without_finish_reason_does_not_clear_the_error() -> None:
    error = AdapterError("timeout")
    response = fold(ErrorEvent(error), completed(None, "partial")).to_response()
    assert response.finish_reason == "error"
    assert response.metadata["error"] == error
    assert response.message == allm.assistant("partial")


def test_f018_error_is_sticky_over_a_later_stop() -> None:
    error = AdapterError("provider_unavailable")
    response = fold(ErrorEvent(error), completed("stop")).to_response()
    assert response.finish_reason == "error"
    assert response.metadata["error"] == error


def test_f018_folding_goes_on_after_an_error() -> None:
    response = fold(
        TextDelta("before "),
        ErrorEvent(AdapterError("timeout")),
        TextDelta("after"),
        RawChunk(("usage", {"input_tokens": 2})),
    ).to_response()
    assert response.output_text == "before after"
    assert response.usage == Usage(input_tokens=2)
    assert response.finish_reason == "error"


def test_f018_an_error_after_stop_overrides_it() -> None:
    response = fold(completed("stop"), ErrorEvent("boom")).to_response()
    assert (response.finish_reason, response.metadata["error"]) == ("error", "boom")


# -- message_completed (item 19) -----------------------------------------------------------------


def test_f019_message_completed_sets_message_and_finish_reason() -> None:
    response = fold(completed("length", "cut")).to_response()
    assert response.message == allm.assistant("cut")
    assert response.finish_reason == "length"
    assert response.finish_reason is allm.FinishReason.LENGTH


def test_f019_message_completed_metadata_is_merged_payload_wins() -> None:
    response = fold(
        completed(None, a=1, b=1), completed("stop", b=2, reasoning={"summary": "s"})
    ).to_response()
    assert response.metadata == {"a": 1, "b": 2, "reasoning": {"summary": "s"}}


def test_f019_later_none_finish_reason_keeps_the_earlier_one() -> None:
    assert fold(completed("tool_calls"), completed(None)).to_response().finish_reason == (
        "tool_calls"
    )


# -- reasoning -----------------------------------------------------------------------------------


def test_reasoning_deltas_append() -> None:
    assert fold(ReasoningDelta("think"), ReasoningDelta("ing")).to_response().reasoning == (
        "thinking"
    )


def test_reasoning_completed_closes_a_block() -> None:
    collector = fold(
        ReasoningDelta("a"),
        ReasoningDelta("b"),
        ReasoningCompleted("AB", signature="sig-1", id="r1"),
        ReasoningDelta("c"),
    )
    response = collector.to_response()
    # The completed block's text replaces its deltas; a later delta starts the next block.
    assert response.reasoning == "ABc"
    assert response.metadata["reasoning_blocks"] == (
        {"text": "AB", "signature": "sig-1", "id": "r1"},
    )


def test_reasoning_is_none_without_a_reasoning_event() -> None:
    response = fold(TextDelta("answer"), completed("stop")).to_response()
    assert response.reasoning is None
    assert "reasoning_blocks" not in response.metadata


def test_reasoning_empty_delta_gives_empty_string_not_none() -> None:
    assert fold(ReasoningDelta("")).to_response().reasoning == ""


def test_reasoning_is_not_part_of_the_answer_text() -> None:
    response = fold(ReasoningDelta("hmm"), TextDelta("42")).to_response()
    assert (response.output_text, response.reasoning) == ("42", "hmm")


# -- step results (items 20, 21) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("finish_reason", "done"),
    [
        ("stop", True),
        ("length", True),
        ("content_filter", True),
        ("error", True),
        ("tool_calls", False),
        ("other", False),
        (None, False),
    ],
)
def test_f020_step_result_done_follows_the_finish_reason(finish_reason: Any, done: bool) -> None:
    result = fold(completed(finish_reason), thread=THREAD).to_step_result()
    assert result.done is done
    assert result.response.finish_reason == finish_reason
    assert result.thread == THREAD


def test_f020_an_error_event_makes_the_step_done() -> None:
    assert fold(completed("tool_calls"), ErrorEvent("x"), thread=THREAD).to_step_result().done


def test_f020_a_folded_halt_makes_a_tool_calls_step_done() -> None:
    collector = fold(
        completed("tool_calls"), ToolHalt("c1", "plan_submitted", {"plan": 1}), thread=THREAD
    )
    result = collector.to_step_result()
    assert result.done is True
    assert result.metadata == {
        "halted_reason": "plan_submitted",
        "halt_tool_call_id": "c1",
        "halt_result": {"plan": 1},
    }


def test_f020_to_step_result_needs_a_thread() -> None:
    with pytest.raises(ValueError, match="thread"):
        fold(completed()).to_step_result()


def test_f020_step_result_carries_tool_results_and_state_metadata() -> None:
    collector = fold(
        completed("tool_calls", info=1),
        ToolExecutionStarted("c1", "f", {}),
        ToolExecutionCompleted("c1", "f", 42),
        ToolResultEncoded("c1", "42"),
        thread=THREAD,
    )
    result = collector.to_step_result()
    assert result.tool_results == (allm.tool_result("c1", "42"),)
    assert result.metadata == {"info": 1}
    assert result.done is False


def test_f021_step_completed_appends_a_result_from_the_pre_reset_state() -> None:
    error = AdapterError("timeout")
    collector = fold(
        TextDelta("text"),
        ToolCallCompleted("c1", "f", {}, "{}"),
        completed("tool_calls", "text", note="kept"),
        ToolResultEncoded("c1", "ok"),
        ErrorEvent(error),
        thread=THREAD,
    )
    next_thread = Thread((allm.user("hi"), allm.assistant("text")))
    collector.apply(step("tool_calls", next_thread))

    assert len(collector.steps) == 1
    result = collector.steps[0]
    assert isinstance(result, StepResult)
    assert result.thread == next_thread
    assert result.response == Response(output_text="r", finish_reason="tool_calls")
    assert result.tool_results == (allm.tool_result("c1", "ok"),)
    assert result.done is True  # the folded error finished the step

    # Per-step state is reset ...
    assert collector.current_text == ""
    assert collector.tool_calls == {}
    assert collector.tool_results == []
    assert collector.halt is None
    assert collector.finish_reason is None
    assert collector.last_message is None
    # ... but the thread follows the payload, and error and metadata survive.
    assert collector.thread == next_thread
    assert collector.error is error
    assert collector.metadata == {"note": "kept"}


def test_f021_step_completed_uses_the_payload_finish_reason_when_none_was_folded() -> None:
    collector = fold(step("stop"), step("tool_calls"), thread=THREAD)
    assert [result.done for result in collector.steps] == [True, False]


def test_f021_step_completed_manual_mode_and_manual_tool_calls() -> None:
    manual = (ToolCall("c1", "f", {}, "{}"),)
    collector = fold(
        step("tool_calls", mode="manual", manual_tool_calls=manual),
        step("stop", mode="manual"),  # manual mode, but not a tool_calls finish
        step("tool_calls", mode="auto"),
        thread=THREAD,
    )
    first, second, third = (result.metadata for result in collector.steps)
    assert first == {"mode": "manual", "manual_tool_calls": manual}
    assert second == {}
    assert third == {}  # an empty manual_tool_calls list leaves the key out


def test_f021_halt_is_reset_between_steps() -> None:
    collector = fold(
        ToolHalt("c1", "first", 1, content="one"),
        step("tool_calls"),
        ToolHalt("c2", "second", 2, content="two"),
        step("tool_calls"),
        thread=THREAD,
    )
    assert [result.metadata["halted_reason"] for result in collector.steps] == ["first", "second"]


# -- chat results (item 22) ----------------------------------------------------------------------


def test_f022_chat_completed_result_is_returned_verbatim() -> None:
    stored = ChatResult(THREAD, Response(output_text="done"), halted_reason="completed")
    collector = fold(ErrorEvent("ignored for the stored result"), ChatCompleted(stored))
    assert collector.done is True
    assert collector.to_chat_result() is stored  # no thread needed when a result was stored


def test_f022_fallback_is_cancelled_when_no_chat_completed() -> None:
    collector = fold(completed("tool_calls"), step("tool_calls"), TextDelta("x"), thread=THREAD)
    result = collector.to_chat_result()
    assert collector.done is False
    assert result.halted_reason == "cancelled"
    assert result.final_response == collector.steps[0].response
    assert result.steps == tuple(collector.steps)
    assert result.thread == THREAD
    assert "error" not in result.metadata


def test_f022_fallback_is_error_when_an_error_was_folded() -> None:
    error = AdapterError("rate_limited")
    result = fold(TextDelta("part"), ErrorEvent(error), thread=THREAD).to_chat_result()
    assert result.halted_reason == "error"
    assert result.metadata["error"] is error
    # No step completed: the final response is the fold so far.
    assert result.final_response is not None
    assert result.final_response.output_text == "part"
    assert result.steps == ()


def test_f022_fallback_needs_a_thread() -> None:
    with pytest.raises(ValueError, match="thread"):
        fold(TextDelta("x")).to_chat_result()


# -- halts (item 23) -----------------------------------------------------------------------------


def test_f023_ask_user_folds_a_halt_and_an_awaiting_tool_message() -> None:
    collector = fold(
        completed("tool_calls"),
        AskUserRequested("c1", "ask", "Which city?", {"choices": ["A", "B"]}),
        thread=THREAD,
    )
    assert collector.tool_results == [allm.tool_result("c1", AWAITING_USER_CONTENT)]
    assert AWAITING_USER_CONTENT == "<awaiting user response>"
    result = collector.to_step_result()
    assert result.done is True
    assert result.metadata == {
        "halted_reason": "ask_user",
        "pending_tool_call_id": "c1",
        "pending_question": "Which city?",
        "ask_user_opts": {"choices": ["A", "B"]},
    }


def test_f023_tool_halt_uses_the_pre_encoded_content() -> None:
    collector = fold(ToolHalt("c1", "plan_submitted", {"p": 1}, content='{"p":1}'))
    assert collector.tool_results == [allm.tool_result("c1", '{"p":1}')]


def test_f023_tool_halt_without_content_uses_a_repr_of_the_result() -> None:
    collector = fold(ToolHalt("c1", "stop_now", {"p": 1}))
    assert collector.tool_results == [allm.tool_result("c1", repr({"p": 1}))]


def test_f023_first_halt_wins_ask_user_then_tool_halt() -> None:
    collector = fold(
        AskUserRequested("c1", "ask", "Q?"),
        ToolHalt("c2", "other", 1, content="x"),
        thread=THREAD,
    )
    assert collector.halt is not None
    assert collector.halt[0] == "ask_user"
    # The later halt loses, but its tool message is kept, as in the thread.
    assert [message.tool_call_id for message in collector.tool_results] == ["c1", "c2"]
    assert collector.to_step_result().metadata["pending_tool_call_id"] == "c1"


def test_f023_first_halt_wins_tool_halt_then_ask_user() -> None:
    collector = fold(
        ToolHalt("c1", "first", 1, content="x"),
        ToolHalt("c2", "second", 2, content="y"),
        AskUserRequested("c3", "ask", "Q?"),
        thread=THREAD,
    )
    assert [message.tool_call_id for message in collector.tool_results] == ["c1", "c2", "c3"]
    assert collector.to_step_result().metadata == {
        "halted_reason": "first",
        "halt_tool_call_id": "c1",
        "halt_result": 1,
    }


def test_f023_tool_error_halt_metadata_has_no_halt_result() -> None:
    collector = fold(ToolHalt("c1", "tool_error", {"error": "x"}, content="e"), thread=THREAD)
    assert collector.to_step_result().metadata == {
        "halted_reason": "tool_error",
        "halt_tool_call_id": "c1",
    }


def test_f023_tool_error_halt_lifts_on_tool_error_exception() -> None:
    result = {"on_tool_error_exception": "RuntimeError('x')"}
    collector = fold(ToolHalt("c1", "tool_error", result, content="e"), thread=THREAD)
    assert collector.to_step_result().metadata["on_tool_error_exception"] == "RuntimeError('x')"


# -- totality and projections --------------------------------------------------------------------


def test_apply_returns_the_collector_and_ignores_unknown_values() -> None:
    collector = StreamCollector()
    assert collector.apply(TextDelta("a")) is collector
    collector.apply(object())  # type: ignore[arg-type]
    collector.apply(("text_delta", "b"))  # type: ignore[arg-type]
    collector.apply(ToolExecutionStarted("c1", "f", {}))
    collector.apply(ToolExecutionCompleted("c1", "f", 1))
    assert collector.to_response().output_text == "a"
    assert collector.tool_results == []


def test_to_response_carries_the_request_id_and_defaults() -> None:
    response = StreamCollector(request_id="req-1").to_response()
    assert response == Response(request_id="req-1", output_text="", usage=Usage())
    assert response.id is None
    assert response.raw is None
