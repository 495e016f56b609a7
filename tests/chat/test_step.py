"""One step: a model call plus the tools it asked for (§16.3, §5.2; items 51-53, 66)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.chat.support import (
    SCHEMA,
    USER,
    call_turn,
    check_step_grammar,
    contents,
    kinds,
    make_engine,
    make_tool,
    of_type,
    text_turn,
)

import allm
from allm.errors import EngineError
from allm.events import (
    ErrorEvent,
    MessageCompleted,
    MessageStarted,
    StepCompleted,
    TextCompleted,
    TextDelta,
    ToolCallCompleted,
    ToolCallStarted,
    ToolExecutionCompleted,
    ToolExecutionStarted,
    ToolResultEncoded,
)
from allm.providers.fake import finish, text, tool_call


def adder() -> allm.Tool:
    return make_tool("add", lambda a: {"sum": a["a"] + a["b"]})


def tool_script(prefix: str = "") -> list[Any]:
    entries: list[Any] = [text(prefix)] if prefix else []
    return [
        *entries,
        tool_call(id="c1", name="add", arguments={"a": 1, "b": 2}),
        finish("tool_calls"),
    ]


def test_f051_step_runs_the_handler_and_appends_messages(api) -> None:
    calls: list[Any] = []

    def handler(arguments: dict[str, Any]) -> Any:
        calls.append(arguments)
        return {"sum": 3}

    engine = make_engine([tool_script()], [make_tool("add", handler)])
    result = api.step(engine, USER)
    assert calls == [{"a": 1, "b": 2}]
    assert result.done is False
    assert len(result.tool_results) == 1
    (message,) = result.tool_results
    assert (message.role, message.tool_call_id, message.content) == ("tool", "c1", '{"sum":3}')
    roles = [m.role for m in result.thread.messages]
    assert roles == ["user", "assistant", "tool"]
    assert result.thread.messages[-1] == message
    assert result.response.finish_reason == "tool_calls"
    assert result.metadata == {}


def test_f051_text_only_step_is_done(api) -> None:
    result = api.step(make_engine([text_turn("hello")], [adder()]), USER)
    assert result.done is True
    assert result.tool_results == ()
    assert contents(result.thread) == [("user", "hi"), ("assistant", "hello")]


@pytest.mark.parametrize(("reason", "done"), [("length", True), ("other", False)])
def test_f051_done_follows_the_finish_reason(api, reason: str, done: bool) -> None:
    result = api.step(make_engine([[text("x"), finish(reason)]]), USER)
    assert result.done is done


def test_f052_stream_step_event_order(api) -> None:
    events = api.stream_step(make_engine([tool_script("thinking")], [adder()]), USER)
    assert [type(e) for e in events] == [
        MessageStarted,
        TextDelta,
        ToolCallStarted,
        ToolCallCompleted,
        TextCompleted,
        MessageCompleted,
        ToolExecutionStarted,
        ToolExecutionCompleted,
        ToolResultEncoded,
        StepCompleted,
    ]
    assert check_step_grammar(events) == ["c1"]
    started, completed, encoded = events[6:9]
    assert (started.id, started.name, started.arguments) == ("c1", "add", {"a": 1, "b": 2})
    assert (completed.id, completed.result) == ("c1", {"sum": 3})
    assert (encoded.id, encoded.content) == ("c1", '{"sum":3}')


def test_f052_one_trio_per_tool_and_one_step_completed(api) -> None:
    script = call_turn(("c1", "add", {"a": 1, "b": 1}), ("c2", "add", {"a": 2, "b": 2}))
    events = api.stream_step(make_engine([script], [adder()]), USER)
    assert check_step_grammar(events) == ["c1", "c2"]
    assert kinds(events).count("step_completed") == 1
    assert kinds(events)[-1] == "step_completed"
    assert "chat_completed" not in kinds(events)


def test_f052_step_is_the_fold_of_stream_step(api) -> None:
    direct = api.step(make_engine([tool_script("x")], [adder()]), USER, request_id="r")
    folded = api.collect_step(make_engine([tool_script("x")], [adder()]), USER, request_id="r")
    assert direct == folded
    events = api.stream_step(make_engine([tool_script("x")], [adder()]), USER, request_id="r")
    assert events[-1].thread == direct.thread
    assert events[-1].response == direct.response


def test_f053_assistant_message_uses_collected_text_and_metadata(api) -> None:
    result = api.step(make_engine([tool_script("let me add")], [adder()]), USER)
    assistant = result.thread.messages[1]
    assert assistant.role == "assistant"
    assert assistant.content == "let me add"
    assert assistant.content == result.response.output_text
    assert assistant.metadata["finish_reason"] == "tool_calls"
    # Python keeps the calls on a typed field rather than in metadata.
    assert [(c.id, c.name, c.arguments) for c in assistant.tool_calls] == [
        ("c1", "add", {"a": 1, "b": 2})
    ]


def test_f053_text_only_assistant_message(api) -> None:
    result = api.step(make_engine([[text("a"), text("b"), finish("stop")]]), USER)
    assistant = result.thread.messages[-1]
    assert assistant.content == "ab"
    assert assistant.metadata == {"finish_reason": "stop"}
    assert assistant.tool_calls == ()


def test_step_accepts_a_thread(api) -> None:
    thread = allm.Thread((allm.system("be brief"), allm.user("hi")))
    result = api.step(make_engine([text_turn()]), thread)
    assert [m.role for m in result.thread.messages] == ["system", "user", "assistant"]


def test_step_rejects_a_non_thread(api) -> None:
    with pytest.raises(allm.ValidationError) as caught:
        api.step(make_engine([text_turn()]), "hi")
    assert caught.value.reason == "invalid_thread"


def test_step_threads_the_request_id(api) -> None:
    result = api.step(make_engine([text_turn()]), USER, request_id="req-step")
    assert result.response.request_id == "req-step"


def test_single_step_ask_user_does_not_append_the_question(api) -> None:
    tools = [make_tool("ask", lambda a: allm.AskUser("Which city?"))]
    result = api.step(make_engine([call_turn(("c1", "ask", {}))], tools), USER)
    assert result.done is True
    assert result.metadata["halted_reason"] == "ask_user"
    assert contents(result.thread)[-1] == ("tool", "<awaiting user response>")


# -- item 66: unknown tools ---------------------------------------------------------------------------


def unknown_script() -> list[Any]:
    return call_turn(("c1", "add", {"a": 1, "b": 1}), ("c2", "nope", {}))


def test_f066_step_raises_unknown_tool(api) -> None:
    ran: list[Any] = []
    engine = make_engine([unknown_script()], [make_tool("add", lambda a: ran.append(a))])
    with pytest.raises(EngineError) as caught:
        api.step(engine, USER)
    assert caught.value.reason == "unknown_tool"
    assert caught.value.metadata["tool_name"] == "nope"
    assert ran == []  # nothing runs when any name is unknown


def test_f066_stream_step_emits_error_then_step_completed(api) -> None:
    ran: list[Any] = []
    engine = make_engine([unknown_script()], [make_tool("add", lambda a: ran.append(a))])
    events = api.stream_step(engine, USER)
    assert kinds(events)[-2:] == ["error", "step_completed"]
    assert not of_type(events, ToolExecutionStarted)
    assert ran == []
    (error,) = of_type(events, ErrorEvent)
    assert isinstance(error.error, EngineError)
    assert error.error.reason == "unknown_tool"
    assert error.error.metadata == {"tool_name": "nope"}
    check_step_grammar(events)
    # Only the assistant message was appended: the thread keeps what the model said.
    thread = events[-1].thread
    assert [m.role for m in thread.messages] == ["user", "assistant"]
    assert [c.name for c in thread.messages[-1].tool_calls] == ["add", "nope"]


def test_f066_collected_stream_step_keeps_the_error(api) -> None:
    engine = make_engine([unknown_script()], [adder()])
    result = api.collect_step(engine, USER)
    assert result.response.finish_reason == "error"
    assert result.response.metadata["error"].reason == "unknown_tool"
    assert result.done is True


def test_tool_with_a_schema_gets_its_arguments_checked(api) -> None:
    ran: list[Any] = []
    engine = make_engine(
        [call_turn(("c1", "t", {"a": 5}))], [make_tool("t", ran.append, schema=SCHEMA)]
    )
    api.step(engine, USER)
    assert ran == [{"a": 5}]
