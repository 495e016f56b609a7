"""Structured finalize: the tool loop without the format, then one call with the format and no
tools (§16.10; items 80-81)."""

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
from allm.events import ChatCompleted

FORMAT = allm.json_schema("answer", {"type": "object", "properties": {"x": {"type": "integer"}}})
NUDGE = "Now provide your final structured response."
FINAL = '{"x":1}'


def lookup() -> allm.Tool:
    return make_tool("lookup", lambda a: "found")


def finalize_engine(record: list[Any], *scripts: list[Any], tools: Any = None) -> allm.Engine:
    return make_engine(list(scripts), [lookup()] if tools is None else tools, record=record)


def three_calls() -> list[list[Any]]:
    return [call_turn(("c1", "lookup", {})), text_turn("plain answer"), text_turn(FINAL)]


def test_f080_two_passes(api) -> None:
    record: list[Any] = []
    engine = finalize_engine(record, *three_calls())
    result = api.chat(engine, USER, structured_finalize=True, response_format=FORMAT)
    assert len(record) == 3
    pass_1 = [request for request, _ in record[:2]]
    assert all(request.response_format is None for request in pass_1)
    assert all([t.name for t in request.tools] == ["lookup"] for request in pass_1)
    assert all(request.structured_finalize is False for request in pass_1)
    pass_2 = record[2][0]
    assert pass_2.response_format == FORMAT
    assert pass_2.tools == ()
    assert pass_2.messages[-1] == allm.user(NUDGE)
    assert result.halted_reason == "completed"
    assert result.text == FINAL
    assert len(result.steps) == 3
    assert result.metadata == {"structured_finalize": {"pass_1_halted": "completed"}}
    assert contents(result.thread)[-2:] == [("user", NUDGE), ("assistant", FINAL)]
    assert result.final_response is result.steps[-1].response


def test_f080_stream_emits_one_merged_chat_completed(api) -> None:
    opts = {"structured_finalize": True, "response_format": FORMAT, "request_id": "r80"}
    events = api.stream(finalize_engine([], *three_calls()), USER, **opts)
    assert kinds(events).count("chat_completed") == 1
    assert check_chat_grammar(events) == [["c1"], [], []]
    (completed,) = of_type(events, ChatCompleted)
    direct = api.chat(finalize_engine([], *three_calls()), USER, **opts)
    assert completed.result == direct
    assert api.collect(finalize_engine([], *three_calls()), USER, **opts) == direct


@pytest.mark.parametrize(
    ("opts", "halted"),
    [({"max_turns": 1}, "max_turns"), ({"halt_when": lambda r: True}, "halt_when")],
)
def test_f080_pass_2_after_max_turns_or_halt_when(api, opts: dict[str, Any], halted: str) -> None:
    record: list[Any] = []
    engine = finalize_engine(record, call_turn(("c1", "lookup", {})), text_turn(FINAL))
    result = api.chat(engine, USER, structured_finalize=True, response_format=FORMAT, **opts)
    assert len(record) == 2
    assert record[1][0].response_format == FORMAT
    assert result.halted_reason == "completed"
    assert result.metadata["structured_finalize"] == {"pass_1_halted": halted}
    assert len(result.steps) == 2


def test_f080_custom_nudge(api) -> None:
    record: list[Any] = []
    engine = finalize_engine(record, text_turn("a"), text_turn(FINAL))
    api.chat(
        engine,
        USER,
        structured_finalize=True,
        response_format=FORMAT,
        structured_finalize_nudge="JSON please.",
    )
    assert record[1][0].messages[-1] == allm.user("JSON please.")


def test_f080_without_a_format_there_is_one_pass(api) -> None:
    record: list[Any] = []
    result = api.chat(
        finalize_engine(record, text_turn("a"), text_turn("b")), USER, structured_finalize=True
    )
    assert len(record) == 1
    assert "structured_finalize" not in result.metadata


def test_f080_format_without_finalize_is_sent_directly(api) -> None:
    record: list[Any] = []
    result = api.chat(finalize_engine(record, text_turn(FINAL)), USER, response_format=FORMAT)
    assert len(record) == 1
    assert record[0][0].response_format == FORMAT
    assert result.metadata == {}


@pytest.mark.parametrize("case", ["ask_user", "tool_error", "manual", "custom"])
def test_f081_other_halts_skip_pass_2(api, case: str) -> None:
    def handler(arguments: dict[str, Any]) -> Any:
        if case == "ask_user":
            return allm.AskUser("Which?")
        if case == "custom":
            return allm.Halt("handed_off", 1)
        if case == "tool_error":
            raise RuntimeError("no")
        return "unused"

    record: list[Any] = []
    tools = [make_tool("lookup", handler, manual=case == "manual")]
    engine = finalize_engine(record, call_turn(("c1", "lookup", {})), text_turn(FINAL), tools=tools)
    result = api.chat(
        engine, USER, structured_finalize=True, response_format=FORMAT, on_tool_error="halt"
    )
    expected = {
        "ask_user": "ask_user",
        "tool_error": "tool_error",
        "manual": "manual_tool_calls",
        "custom": "handed_off",
    }[case]
    assert len(record) == 1
    assert result.halted_reason == expected
    assert result.metadata["structured_finalize"] == {"pass_1_halted": expected}
    assert len(result.steps) == 1
    assert NUDGE not in [m.content for m in result.thread.messages]


def test_f081_pass_2_skipped_in_the_stream_too(api) -> None:
    tools = [make_tool("lookup", lambda a: allm.AskUser("Which?"))]
    events = api.stream(
        finalize_engine([], call_turn(("c1", "lookup", {})), tools=tools),
        USER,
        structured_finalize=True,
        response_format=FORMAT,
    )
    assert kinds(events).count("chat_completed") == 1
    assert events[-1].result.halted_reason == "ask_user"
    assert events[-1].result.metadata["structured_finalize"] == {"pass_1_halted": "ask_user"}


def test_f081_empty_nudge_appends_nothing(api) -> None:
    record: list[Any] = []
    engine = finalize_engine(record, text_turn("plain"), text_turn(FINAL))
    result = api.chat(
        engine,
        USER,
        structured_finalize=True,
        response_format=FORMAT,
        structured_finalize_nudge="",
    )
    assert [m.content for m in record[1][0].messages] == ["hi", "plain"]
    assert contents(result.thread) == [("user", "hi"), ("assistant", "plain"), ("assistant", FINAL)]


def test_f081_pass_2_preflight_failure_is_reported(api) -> None:
    # No script left for pass 2: the merged result carries the failure in its metadata.
    engine = finalize_engine([], text_turn("plain"))
    result = api.chat(engine, USER, structured_finalize=True, response_format=FORMAT)
    marker = result.metadata["structured_finalize"]
    assert marker["pass_1_halted"] == "completed"
    assert marker["pass_2_error"].reason == "no_scripted_response"
    assert result.halted_reason == "completed"
    assert len(result.steps) == 1
