"""Handler halts and ask-user suspension (§16.5, §16.7; items 63-65, 74-76)."""

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
from allm.errors import ToolError
from allm.events import (
    AskUserRequested,
    ChatCompleted,
    StepCompleted,
    ToolExecutionCompleted,
    ToolHalt,
    ToolResultEncoded,
)

PLAN = {"steps": ["a", "b"]}


def planner() -> allm.Tool:
    return make_tool("plan", lambda a: allm.Halt("plan_submitted", PLAN))


def echo() -> allm.Tool:
    return make_tool("echo", lambda a: a.get("v", "ok"))


def city_tool() -> allm.Tool:
    return make_tool("city", lambda a: allm.AskUser("Which city?", choices=["Oslo", "Rome"]))


# -- item 63: a custom halt ----------------------------------------------------------------------------


def test_f063_custom_halt_ends_the_chat(api) -> None:
    record: list[Any] = []
    engine = make_engine([call_turn(("c1", "plan", {})), text_turn()], [planner()], record=record)
    result = api.chat(engine, USER)
    assert result.halted_reason == "plan_submitted"
    assert result.metadata == {"halt_tool_call_id": "c1", "halt_result": PLAN}
    assert len(result.steps) == 1
    assert len(record) == 1  # no follow-up call
    assert contents(result.thread)[-1] == ("tool", '{"steps":["a","b"]}')
    step = result.steps[0]
    assert step.done is True
    assert step.metadata == {
        "halted_reason": "plan_submitted",
        "halt_tool_call_id": "c1",
        "halt_result": PLAN,
    }


def test_f063_custom_halt_in_the_stream(api) -> None:
    events = api.stream(make_engine([call_turn(("c1", "plan", {}))], [planner()]), USER)
    (halt,) = of_type(events, ToolHalt)
    assert (halt.tool_call_id, halt.reason, halt.result) == ("c1", "plan_submitted", PLAN)
    assert halt.content == '{"steps":["a","b"]}'
    assert check_chat_grammar(events) == [["c1"]]


def test_f063_halt_without_a_result_encodes_null(api) -> None:
    tools = [make_tool("stop", lambda a: allm.Halt("user_quit"))]
    result = api.chat(make_engine([call_turn(("c1", "stop", {}))], tools), USER)
    assert result.halted_reason == "user_quit"
    assert result.metadata["halt_result"] is None
    assert contents(result.thread)[-1] == ("tool", "null")


# -- item 64: reserved reasons ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reserved", ["completed", "max_turns", "halt_when", "tool_error", "ask_user", "cancelled"]
)
def test_f064_reserved_halt_reason_is_invalid_return(api, reserved: str) -> None:
    errors: list[Any] = []

    def policy(call: Any, error: Any) -> Any:
        errors.append(error)
        return ("continue", "not allowed")

    tools = [make_tool("cheat", lambda a: allm.Halt(reserved, 1))]
    engine = make_engine([call_turn(("c1", "cheat", {})), text_turn("after")], tools)
    result = api.chat(engine, USER, on_tool_error=policy)
    (error,) = errors
    assert isinstance(error, ToolError)
    assert error.reason == "invalid_return"
    assert error.metadata == {"reserved_halt_atom": reserved}
    assert result.halted_reason == "completed"  # the policy continued the loop
    assert contents(result.thread)[2] == ("tool", "not allowed")


def test_f064_reserved_halt_under_the_default_policy_continues(api) -> None:
    tools = [make_tool("cheat", lambda a: allm.Halt("completed", 1))]
    engine = make_engine([call_turn(("c1", "cheat", {})), text_turn("after")], tools)
    result = api.chat(engine, USER)
    assert result.halted_reason == "completed"
    assert len(result.steps) == 2
    assert "reserved" in contents(result.thread)[2][1]
    assert contents(result.thread)[2][1].startswith('{"error":')


def test_f064_reserved_halt_under_halt_policy_is_tool_error(api) -> None:
    tools = [make_tool("cheat", lambda a: allm.Halt("max_turns", 1))]
    result = api.chat(
        make_engine([call_turn(("c1", "cheat", {}))], tools), USER, on_tool_error="halt"
    )
    assert result.halted_reason == "tool_error"
    assert result.metadata == {"halt_tool_call_id": "c1"}


# -- item 65: siblings drain; first halt wins ----------------------------------------------------------


def test_f065_siblings_complete_and_earliest_halt_wins(api) -> None:
    ran: list[str] = []

    def make(name: str, outcome: Any) -> allm.Tool:
        def handler(arguments: dict[str, Any]) -> Any:
            ran.append(name)
            return outcome

        return make_tool(name, handler)

    tools = [
        make("before", "b"),
        make("first", allm.Halt("first_halt", 1)),
        make("middle", "m"),
        make("second", allm.Halt("second_halt", 2)),
        make("after", "a"),
    ]
    script = call_turn(*[(f"c{i}", t.name, {}) for i, t in enumerate(tools)])
    result = api.chat(make_engine([script], tools), USER)
    assert sorted(ran) == sorted(t.name for t in tools)
    assert result.halted_reason == "first_halt"
    assert result.metadata == {"halt_tool_call_id": "c1", "halt_result": 1}
    # Every call produced its tool message, in input order.
    tool_messages = [m for m in result.thread.messages if m.role == "tool"]
    assert [m.tool_call_id for m in tool_messages] == ["c0", "c1", "c2", "c3", "c4"]
    assert [m.content for m in tool_messages] == ["b", "1", "m", "2", "a"]
    # The step's tool results hold the winning halt and every non-halting sibling (the fold keeps
    # only the first halt's message, §6.2).
    step_results = result.steps[0].tool_results
    assert all(m in tool_messages for m in step_results)
    assert {m.tool_call_id for m in step_results} >= {"c0", "c1", "c2", "c4"}
    events = api.stream(make_engine([script], tools), USER)
    assert [h.reason for h in of_type(events, ToolHalt)] == ["first_halt", "second_halt"]
    assert events[-1].result.halted_reason == "first_halt"


def test_f065_ask_user_before_a_halt_wins(api) -> None:
    tools = [city_tool(), planner()]
    script = call_turn(("c1", "city", {}), ("c2", "plan", {}))
    result = api.chat(make_engine([script], tools), USER)
    assert result.halted_reason == "ask_user"
    assert result.pending_tool_call_id == "c1"
    assert [m.content for m in result.thread.messages if m.role == "tool"] == [
        "<awaiting user response>",
        '{"steps":["a","b"]}',
    ]
    assert result.steps[0].tool_results[0].content == "<awaiting user response>"


# -- items 74-76: ask-user ---------------------------------------------------------------------------


def test_f074_ask_user_halts_the_chat(api) -> None:
    record: list[Any] = []
    engine = make_engine([call_turn(("c1", "city", {})), text_turn()], [city_tool()], record=record)
    result = api.chat(engine, USER)
    assert result.halted_reason == "ask_user"
    assert result.pending_question == "Which city?"
    assert result.pending_tool_call_id == "c1"
    assert result.metadata == {
        "pending_question": "Which city?",
        "pending_tool_call_id": "c1",
        "ask_user_opts": {"choices": ["Oslo", "Rome"]},
    }
    assert len(record) == 1  # stopped before the next adapter call
    messages = result.thread.messages
    assert (messages[-2].role, messages[-2].content) == ("tool", "<awaiting user response>")
    assert messages[-2].tool_call_id == "c1"
    assert (messages[-1].role, messages[-1].content) == ("assistant", "Which city?")
    assert messages[-1].metadata == {"ask_user": True, "tool_call_id": "c1"}
    step = result.steps[0]
    assert step.metadata["halted_reason"] == "ask_user"
    assert step.metadata["ask_user_opts"] == {"choices": ["Oslo", "Rome"]}


def test_f074_ask_user_opts_pass_through_verbatim(api) -> None:
    opts = {"mask": True, "timeout_ms": 500, "choices": ("x",)}
    tools = [make_tool("ask", lambda a: allm.AskUser("PIN?", opts))]
    result = api.chat(make_engine([call_turn(("c1", "ask", {}))], tools), USER)
    assert result.metadata["ask_user_opts"] == opts


def test_f075_stream_ask_user_events(api) -> None:
    engine = make_engine([call_turn(("c1", "city", {}))], [city_tool()])
    events = api.stream(engine, USER)
    assert kinds(events)[-5:] == [
        "tool_execution_started",
        "tool_execution_completed",
        "ask_user_requested",
        "step_completed",
        "chat_completed",
    ]
    (asked,) = of_type(events, AskUserRequested)
    assert (asked.tool_call_id, asked.tool_name, asked.question) == ("c1", "city", "Which city?")
    assert asked.opts == {"choices": ["Oslo", "Rome"]}
    (completed,) = of_type(events, ToolExecutionCompleted)
    assert completed.result == allm.AskUser("Which city?", choices=["Oslo", "Rome"])
    step_thread = of_type(events, StepCompleted)[0].thread
    chat_thread = of_type(events, ChatCompleted)[0].result.thread
    assert step_thread.messages[-1].content == "<awaiting user response>"
    assert chat_thread.messages[:-1] == step_thread.messages
    assert chat_thread.messages[-1].content == "Which city?"
    assert not of_type(events, ToolResultEncoded)


def test_f076_resume_after_ask_user(api) -> None:
    seen: list[Any] = []
    first = api.chat(make_engine([call_turn(("c1", "city", {}))], [city_tool()]), USER)
    assert first.halted_reason == "ask_user"
    resumed_thread = first.thread.add_message(allm.user("Rome"))
    record: list[Any] = []
    engine = make_engine(
        [call_turn(("c2", "echo", {"v": "booked"})), text_turn("Booked Rome.")],
        [city_tool(), make_tool("echo", lambda a: seen.append(a) or a["v"])],
        record=record,
    )
    second = api.chat(engine, resumed_thread)
    assert second.halted_reason == "completed"
    assert second.text == "Booked Rome."
    assert seen == [{"v": "booked"}]
    # The model saw the whole history, placeholder included, then the answer.
    sent = record[0][0].messages
    assert [m.content for m in sent[-3:]] == ["<awaiting user response>", "Which city?", "Rome"]
    # The resumed thread keeps the first chat's messages as its prefix.
    assert second.thread.messages[: len(resumed_thread)] == resumed_thread.messages
    assert contents(second.thread)[-1] == ("assistant", "Booked Rome.")
