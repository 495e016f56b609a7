"""Whole-loop manual mode and per-tool manual tools (§16.6; items 77-79)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.chat.support import (
    USER,
    call_turn,
    check_chat_grammar,
    contents,
    kinds,
    make_engine,
    make_tool,
    of_type,
    text_turn,
)

import allm
from allm.errors import ConfigurationError
from allm.events import StepCompleted, ToolExecutionStarted


class Spy:
    """A handler that records its calls."""

    def __init__(self, answer: Any = "ran") -> None:
        self.calls: list[Any] = []
        self.answer = answer

    def __call__(self, arguments: dict[str, Any]) -> Any:
        self.calls.append(arguments)
        return self.answer


# -- item 77: mode="manual" ----------------------------------------------------------------------------


def test_f077_manual_mode_halts_without_running_anything(api) -> None:
    spy = Spy()
    record: list[Any] = []
    script = call_turn(("c1", "a", {"x": 1}), ("c2", "b", {"y": 2}))
    engine = make_engine(
        [script, text_turn()], [make_tool("a", spy), make_tool("b", spy)], record=record
    )
    result = api.chat(engine, USER, mode="manual")
    assert spy.calls == []
    assert len(record) == 1
    assert result.halted_reason == "manual_tool_calls"
    assert result.metadata == {"manual_turn_index": 0}
    assert [(c.id, c.name) for c in result.final_response.tool_calls] == [("c1", "a"), ("c2", "b")]
    step = result.steps[0]
    assert step.metadata == {"mode": "manual"}
    assert step.tool_results == ()
    assert step.done is False
    assert [m.role for m in result.thread.messages] == ["user", "assistant"]


def test_f077_manual_mode_ignores_per_tool_flags(api) -> None:
    spy = Spy()
    tools = [make_tool("a", spy), make_tool("m", spy, manual=True)]
    result = api.chat(
        make_engine([call_turn(("c1", "a", {}), ("c2", "m", {}))], tools), USER, mode="manual"
    )
    assert spy.calls == []
    assert result.metadata == {"manual_turn_index": 0}
    assert "manual_tool_calls" not in result.steps[0].metadata


def test_f077_manual_mode_stream_has_no_tool_events(api) -> None:
    events = api.stream(
        make_engine([call_turn(("c1", "a", {}))], [make_tool("a", Spy())]), USER, mode="manual"
    )
    assert not of_type(events, ToolExecutionStarted)
    (completed,) = of_type(events, StepCompleted)
    assert completed.mode == "manual"
    assert check_chat_grammar(events) == [[]]


def test_f077_manual_mode_text_turns_continue_normally(api) -> None:
    result = api.chat(make_engine([text_turn("just text")]), USER, mode="manual")
    assert result.halted_reason == "completed"
    assert "mode" not in result.steps[0].metadata


def test_f077_manual_mode_step(api) -> None:
    spy = Spy()
    engine = make_engine([call_turn(("c1", "a", {}))], [make_tool("a", spy)])
    result = api.step(engine, USER, mode="manual")
    assert spy.calls == []
    assert result.metadata == {"mode": "manual"}
    assert result.done is False


def test_f077_manual_mode_unknown_tool_is_not_checked(api) -> None:
    # Nothing runs in manual mode, so an unknown name is the caller's business.
    result = api.chat(make_engine([call_turn(("c1", "ghost", {}))]), USER, mode="manual")
    assert result.halted_reason == "manual_tool_calls"


def test_f077_invalid_mode_raises(api) -> None:
    with pytest.raises(ConfigurationError):
        api.chat(make_engine([text_turn()]), USER, mode="automatic")


def test_f077_reissue_after_manual_mode(api) -> None:
    script = call_turn(("c1", "a", {"x": 1}))
    first = api.chat(make_engine([script], [make_tool("a", None)]), USER, mode="manual")
    answered = first.thread.add_message(allm.tool_result("c1", "42"))
    record: list[Any] = []
    engine = make_engine([text_turn("It is 42.")], [make_tool("a", None)], record=record)
    second = api.chat(engine, answered, mode="manual")
    assert second.halted_reason == "completed"
    assert [m.role for m in record[0][0].messages] == ["user", "assistant", "tool"]
    assert contents(second.thread)[-2:] == [("tool", "42"), ("assistant", "It is 42.")]


# -- items 78-79: per-tool manual ---------------------------------------------------------------------


def test_f078_manual_tool_halts_after_auto_tools_ran(api) -> None:
    auto, manual = Spy("auto-result"), Spy()
    tools = [make_tool("runs", auto), make_tool("approve", manual, manual=True)]
    script = call_turn(("c1", "runs", {"n": 1}), ("c2", "approve", {"amount": 5}))
    record: list[Any] = []
    result = api.chat(make_engine([script, text_turn()], tools, record=record), USER)
    assert auto.calls == [{"n": 1}]
    assert manual.calls == []
    assert len(record) == 1
    assert result.halted_reason == "manual_tool_calls"
    pending = result.metadata["manual_tool_calls"]
    assert [(c.id, c.name, c.arguments) for c in pending] == [("c2", "approve", {"amount": 5})]
    assert result.metadata["manual_turn_index"] == 0
    step = result.steps[0]
    assert "mode" not in step.metadata
    assert [c.id for c in step.metadata["manual_tool_calls"]] == ["c2"]
    assert [m.tool_call_id for m in step.tool_results] == ["c1"]
    assert contents(result.thread)[-1] == ("tool", "auto-result")


def test_f078_pure_manual_turn_runs_nothing(api) -> None:
    manual = Spy()
    tools = [make_tool("approve", manual, manual=True)]
    script = call_turn(("c1", "approve", {}), ("c2", "approve", {}))
    result = api.chat(make_engine([script], tools), USER)
    assert manual.calls == []
    assert result.halted_reason == "manual_tool_calls"
    assert [c.id for c in result.metadata["manual_tool_calls"]] == ["c1", "c2"]
    assert result.steps[0].tool_results == ()


def test_f078_manual_bucket_keeps_input_order_in_a_later_turn(api) -> None:
    tools = [make_tool("runs", Spy()), make_tool("m", Spy(), manual=True)]
    scripts = [
        call_turn(("c1", "runs", {})),
        call_turn(("c2", "m", {"i": 1}), ("c3", "runs", {}), ("c4", "m", {"i": 2})),
    ]
    result = api.chat(make_engine(scripts, tools), USER)
    assert result.metadata["manual_turn_index"] == 1
    assert [c.id for c in result.metadata["manual_tool_calls"]] == ["c2", "c4"]
    assert [m.tool_call_id for m in result.steps[1].tool_results] == ["c3"]


def test_f078_an_auto_halt_wins_over_the_manual_bucket(api) -> None:
    tools = [
        make_tool("ask", lambda a: allm.AskUser("Sure?")),
        make_tool("m", Spy(), manual=True),
    ]
    result = api.chat(make_engine([call_turn(("c1", "m", {}), ("c2", "ask", {}))], tools), USER)
    assert result.halted_reason == "ask_user"
    assert "manual_tool_calls" not in result.metadata
    assert "manual_tool_calls" not in result.steps[0].metadata


def test_f078_reissue_with_a_result_for_the_manual_call(api) -> None:
    tools = [make_tool("runs", Spy("A")), make_tool("m", Spy(), manual=True)]
    first = api.chat(make_engine([call_turn(("c1", "runs", {}), ("c2", "m", {}))], tools), USER)
    answered = first.thread.add_message(allm.tool_result("c2", "approved"))
    record: list[Any] = []
    second = api.chat(make_engine([text_turn("done")], tools, record=record), answered)
    assert second.halted_reason == "completed"
    sent = record[0][0].messages
    assert [(m.role, m.tool_call_id) for m in sent[-2:]] == [("tool", "c1"), ("tool", "c2")]


def test_f079_stream_shows_only_auto_tools(api) -> None:
    tools = [make_tool("runs", Spy()), make_tool("m", Spy(), manual=True)]
    script = call_turn(("c1", "m", {}), ("c2", "runs", {}), ("c3", "m", {}))
    events = api.stream(make_engine([script], tools), USER)
    assert [e.id for e in of_type(events, ToolExecutionStarted)] == ["c2"]
    (completed,) = of_type(events, StepCompleted)
    assert completed.mode == "auto"
    assert [c.id for c in completed.manual_tool_calls] == ["c1", "c3"]
    assert check_chat_grammar(events) == [["c2"]]
    assert kinds(events)[-1] == "chat_completed"
    assert events[-1].result.halted_reason == "manual_tool_calls"


def test_f079_stream_step_manual_bucket(api) -> None:
    tools = [make_tool("m", Spy(), manual=True)]
    events = api.stream_step(make_engine([call_turn(("c1", "m", {}))], tools), USER)
    assert not of_type(events, ToolExecutionStarted)
    assert [c.id for c in events[-1].manual_tool_calls] == ["c1"]
    result = api.collect_step(make_engine([call_turn(("c1", "m", {}))], tools), USER)
    assert [c.id for c in result.metadata["manual_tool_calls"]] == ["c1"]
