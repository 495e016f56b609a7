"""How results move a session (§17.3), for steps and chats, and FEATURE 92: a session survives
pickle and JSON and goes on exactly as in memory."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from tests.sessions.support import ask_user_handler, calls, contents, make_engine, make_tool, says

import allm
from allm import sessions
from allm.data.response import Response
from allm.providers.fake import error, text

HI = allm.Thread((allm.user("hi"),))


def _ran(arguments: dict[str, Any]) -> str:
    return "ran"


# -- steps ------------------------------------------------------------------------------------


def test_a_text_step_completes(api) -> None:
    session, result = api.step(make_engine(says("hello")), allm.Session(thread=HI))
    assert (session.status, result.done) == ("completed", True)
    assert contents(session)[-1] == ("assistant", "hello")


def test_an_auto_tool_step_leaves_the_session_idle_for_the_next_step(api) -> None:
    engine = make_engine(calls(("c1", "t", {})), says("after"), tools=[make_tool("t", _ran)])
    session, result = api.step(engine, allm.Session(thread=HI))
    assert session.status == "idle" and not result.done
    assert contents(session)[-1] == ("tool", "ran")
    session, _ = api.step(engine, session)
    assert session.status == "completed"
    assert contents(session)[-1] == ("assistant", "after")


def test_an_ask_user_step_waits_without_appending_the_question(api) -> None:
    engine = make_engine(
        calls(("c1", "book", {"flight": "X"})),
        says("ok"),
        tools=[make_tool("book", ask_user_handler)],
    )
    session, _ = api.step(engine, allm.Session(thread=HI))
    assert session.status == "awaiting_user"
    assert (session.pending_question, session.pending_tool_call_id) == ("Book X?", "c1")
    assert contents(session)[-1] == ("tool", "<awaiting user response>")
    session, _ = api.reply(engine, session, "yes")
    assert session.status == "completed"


def test_a_manual_step_waits_for_tools(api) -> None:
    engine = make_engine(calls(("c1", "t", {}), ("c2", "t", {})), tools=[make_tool("t", _ran)])
    session, result = api.step(engine, allm.Session(thread=HI), mode="manual")
    assert session.status == "awaiting_tools"
    assert [c.id for c in session.pending_tool_calls] == ["c1", "c2"]
    assert result.metadata == {"mode": "manual"}


def test_a_per_tool_manual_step_waits_for_its_calls(api) -> None:
    engine = make_engine(calls(("c1", "t", {})), tools=[make_tool("t", manual=True)])
    session, _ = api.step(engine, allm.Session(thread=HI))
    assert session.status == "awaiting_tools"
    assert [c.id for c in session.pending_tool_calls] == ["c1"]


def test_an_error_step_and_a_tool_error_step_move_to_error(api) -> None:
    failing = make_engine([text("x"), error("provider_unavailable")])
    session, _ = api.step(failing, allm.Session(thread=HI))
    assert session.status == "error"
    assert session.metadata["error"].reason == "provider_unavailable"

    def broken(arguments: dict[str, Any]) -> Any:
        raise RuntimeError("boom")

    engine = make_engine(calls(("c1", "b", {})), tools=[make_tool("b", broken)])
    session, _ = api.step(engine, allm.Session(thread=HI), on_tool_error="halt")
    assert session.status == "error"
    assert session.metadata["error"]["halt_tool_call_id"] == "c1"


def test_an_unknown_tool_in_a_step_moves_the_session_to_error(api) -> None:
    # allm.step raises here; a session records it, like the chat loop does, so that step and
    # the fold of stream_step agree.
    session, result = api.step(make_engine(calls(("c1", "ghost", {}))), allm.Session(thread=HI))
    assert session.status == "error"
    assert session.metadata["error"].reason == "unknown_tool"
    assert result.response.finish_reason == "error"


# -- chats ---------------------------------------------------------------------------------------


def test_max_turns_halt_when_and_custom_halts_complete(api) -> None:
    engine = make_engine(
        calls(("c1", "t", {})), calls(("c2", "t", {})), tools=[make_tool("t", _ran)]
    )
    session, result = api.start(engine, HI, max_turns=1)
    assert (result.halted_reason, session.status) == ("max_turns", "completed")
    assert session.metadata["max_turns"] == 1

    engine = make_engine(calls(("c1", "t", {})), tools=[make_tool("t", _ran)])
    session, result = api.start(engine, HI, halt_when=lambda step: True)
    assert (result.halted_reason, session.status) == ("halt_when", "completed")

    def stop(arguments: dict[str, Any]) -> Any:
        return allm.Halt("found_it", {"answer": 42})

    engine = make_engine(calls(("c1", "s", {})), tools=[make_tool("s", stop)])
    session, result = api.start(engine, HI)
    assert (result.halted_reason, session.status) == ("found_it", "completed")
    assert session.metadata["halt_result"] == {"answer": 42}


def test_a_tool_error_policy_exception_is_the_session_error(api) -> None:
    def broken(arguments: dict[str, Any]) -> Any:
        raise RuntimeError("boom")

    def policy(call: Any, err: Any) -> Any:
        raise KeyError("policy failed")

    engine = make_engine(calls(("c1", "b", {})), tools=[make_tool("b", broken)])
    session, result = api.start(engine, HI, on_tool_error=policy)
    assert result.halted_reason == "tool_error"
    assert session.status == "error"
    assert session.metadata["error"] == result.metadata["on_tool_error_exception"]


def test_apply_chat_result_keeps_metadata_and_merges_the_results() -> None:
    base = allm.Session(id="s", metadata={"mine": 1, "store_version": 3})
    result = allm.ChatResult(HI, None, (), "completed", metadata={"extra": True})
    moved = sessions.apply_chat_result(base, result)
    assert moved.metadata == {"mine": 1, "store_version": 3, "extra": True}
    assert moved.thread == HI and moved.status == "completed"


def test_a_manual_halt_with_no_calls_completes() -> None:
    # Cannot come from the chat loop; a hand-made result must still give a valid session.
    result = allm.ChatResult(HI, Response(output_text=""), (), "manual_tool_calls")
    moved = sessions.apply_chat_result(allm.Session(), result)
    assert moved.status == "completed"
    allm.validate.session(moved)


def test_manual_calls_come_from_the_final_response_when_not_listed() -> None:
    call = allm.ToolCall("c1", "t", {})
    result = allm.ChatResult(HI, Response(tool_calls=(call,)), (), "manual_tool_calls")
    moved = sessions.apply_chat_result(allm.Session(), result)
    assert moved.status == "awaiting_tools" and moved.pending_tool_calls == (call,)


def test_helpers_append_without_changing_the_status() -> None:
    session = sessions.new(id="s")
    session = sessions.append(session, allm.system("be brief"))
    session = sessions.append_user(session, "hi")
    session = sessions.append_tool_result(session, "c1", {"a": 1})
    assert contents(session) == [("system", "be brief"), ("user", "hi"), ("tool", '{"a":1}')]
    assert session.status == "idle" and session.id == "s"
    assert sessions.messages(session) == session.thread.messages


# -- 92: serialization round trips ------------------------------------------------------------


def _ask_engine() -> allm.Engine:
    return make_engine(
        calls(("c1", "book", {"flight": "AF1"})),
        says("booked"),
        tools=[make_tool("book", ask_user_handler)],
    )


@pytest.mark.parametrize("how", ["json", "pickle"])
def test_f092_a_serialized_session_goes_on_as_in_memory(api, how: str) -> None:
    # in memory
    engine = _ask_engine()
    paused, _ = api.start(engine, allm.Session(id="s-92", thread=HI, context={"k": [1, 2]}))
    expected, _ = api.reply(engine, paused, "yes")

    # serialized between the two operations, replied with a fresh engine on the second turn
    engine = _ask_engine()
    paused, _ = api.start(engine, allm.Session(id="s-92", thread=HI, context={"k": [1, 2]}))
    if how == "json":
        text_ = allm.to_json(paused)
        assert '"status":"awaiting_user"' in text_
        restored = allm.from_json(text_)
    else:
        restored = pickle.loads(pickle.dumps(paused))
    assert restored == paused
    resumed, _ = api.reply(make_engine(says("booked")), restored, "yes")
    assert resumed == expected
    assert contents(resumed)[-2:] == [("user", "yes"), ("assistant", "booked")]


def test_f092_a_manual_session_round_trips_with_typed_tool_calls(api) -> None:
    engine = make_engine(calls(("c1", "t", {"q": "x"})), tools=[make_tool("t", _ran)])
    paused, _ = api.start(engine, HI, mode="manual")
    restored = allm.from_json(allm.to_json(paused))
    assert restored == paused
    assert isinstance(restored.pending_tool_calls[0], allm.ToolCall)
    assert restored.pending_tool_calls[0].arguments == {"q": "x"}
    done = sessions.submit_tool_result(restored, "c1", "r")
    finished, _ = api.resume(make_engine(says("fine")), done)
    assert finished.status == "completed"
