"""Bad input and the error policy: timeouts, bad arguments, bad returns, ``on_tool_error``
(§16.7, §16.9; items 58-62). Each case ends in the documented result or error and keeps every
message produced so far."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from tests.chat.support import (
    SCHEMA,
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
from allm.errors import ConfigurationError, ToolError
from allm.events import ToolExecutionCompleted, ToolHalt, ToolResultEncoded
from allm.providers.fake import finish, tool_call, tool_call_delta


class Policy:
    """An ``on_tool_error`` callable that records what it was given."""

    def __init__(self, decision: Any = ("continue", "replaced")) -> None:
        self.seen: list[tuple[Any, Any]] = []
        self.decision = decision

    def __call__(self, call: Any, error: Any) -> Any:
        self.seen.append((call, error))
        if isinstance(self.decision, BaseException):
            raise self.decision
        return self.decision


def boom(arguments: dict[str, Any]) -> Any:
    raise RuntimeError("kaput")


def failing_engine(record: list[Any] | None = None) -> allm.Engine:
    extra = {} if record is None else {"record": record}
    return make_engine(
        [call_turn(("c1", "boom", {})), text_turn("recovered")], [make_tool("boom", boom)], **extra
    )


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Lets slow sync handlers finish as soon as the test is over."""
    event = threading.Event()
    yield event
    event.set()


# -- item 58: tool_timeout ---------------------------------------------------------------------------


def test_f058_slow_handler_times_out(api, release) -> None:
    def slow(arguments: dict[str, Any]) -> str:
        release.wait(2)
        return "too late"

    policy = Policy(("continue", "gave up"))
    engine = make_engine([call_turn(("c1", "slow", {})), text_turn()], [make_tool("slow", slow)])
    started = time.monotonic()
    result = api.chat(engine, USER, tool_timeout=0.2, on_tool_error=policy)
    elapsed = time.monotonic() - started
    assert elapsed >= 0.2  # the timeout error below shows the call did not wait the 2 s out
    ((call, error),) = policy.seen
    assert call.id == "c1"
    assert isinstance(error, ToolError)
    assert isinstance(error, TimeoutError)
    assert (error.reason, error.tool_name, error.tool_call_id) == ("timeout", "slow", "c1")
    assert result.halted_reason == "completed"
    assert contents(result.thread)[2] == ("tool", "gave up")


def test_f058_timeout_under_the_default_policy(api, release) -> None:
    def slow(arguments: dict[str, Any]) -> str:
        release.wait(2)
        return "too late"

    tools = [make_tool("slow", slow), make_tool("fast", lambda a: "quick")]
    engine = make_engine([call_turn(("c1", "slow", {}), ("c2", "fast", {}))], tools)
    started = time.monotonic()
    events = api.stream_step(engine, USER, tool_timeout=0.2)
    assert time.monotonic() - started < 1.5
    results = [e.result for e in of_type(events, ToolExecutionCompleted)]
    assert isinstance(results[0], ToolError)
    assert results[0].reason == "timeout"
    assert results[1] == "quick"
    encoded = of_type(events, ToolResultEncoded)
    assert encoded[0].content.startswith('{"error":')
    assert encoded[1].content == "quick"


def test_f058_slow_async_handler_times_out_under_the_async_api() -> None:
    import anyio

    async def slow(arguments: dict[str, Any]) -> str:
        await anyio.sleep(2)
        return "too late"

    async def main() -> allm.StepResult:
        engine = make_engine([call_turn(("c1", "slow", {}))], [make_tool("slow", slow)])
        return await allm.astep(engine, USER, tool_timeout=0.2, on_tool_error="halt")

    started = time.monotonic()
    result = anyio.run(main)
    assert time.monotonic() - started < 1.5
    assert result.metadata == {"halted_reason": "tool_error", "halt_tool_call_id": "c1"}


@pytest.mark.parametrize("bad", [0, -1, "1", True])
def test_f058_invalid_tool_timeout_raises(api, bad: Any) -> None:
    record: list[Any] = []
    with pytest.raises(ConfigurationError):
        api.chat(failing_engine(record), USER, tool_timeout=bad)
    assert record == []


# -- item 59: continue ---------------------------------------------------------------------------------


def test_f059_continue_encodes_the_error_and_loops(api) -> None:
    result = api.chat(failing_engine(), USER)
    assert result.halted_reason == "completed"
    assert result.text == "recovered"
    assert contents(result.thread)[2] == ("tool", '{"error":"RuntimeError: kaput"}')
    assert result.steps[0].metadata == {}


def test_f059_explicit_continue_matches_the_default(api) -> None:
    explicit = api.chat(failing_engine(), USER, on_tool_error="continue", request_id="r")
    default = api.chat(failing_engine(), USER, request_id="r")
    assert explicit == default


def test_f059_tool_failure_is_reported_not_crashed(api) -> None:
    tools = [make_tool("f", lambda a: allm.ToolFailure("no such city"))]
    events = api.stream(make_engine([call_turn(("c1", "f", {})), text_turn()], tools), USER)
    (completed,) = of_type(events, ToolExecutionCompleted)
    assert completed.result == allm.ToolFailure("no such city")
    assert of_type(events, ToolResultEncoded)[0].content == '{"error":"no such city"}'
    assert events[-1].result.halted_reason == "completed"


# -- item 60: halt -----------------------------------------------------------------------------------------


def test_f060_halt_policy_stops_with_tool_error(api) -> None:
    record: list[Any] = []
    result = api.chat(failing_engine(record), USER, on_tool_error="halt")
    assert result.halted_reason == "tool_error"
    assert result.metadata == {"halt_tool_call_id": "c1"}
    assert len(record) == 1
    assert contents(result.thread)[-1] == ("tool", '{"error":"RuntimeError: kaput"}')
    assert result.steps[0].metadata == {"halted_reason": "tool_error", "halt_tool_call_id": "c1"}


def test_f060_halt_policy_streams_tool_halt(api) -> None:
    events = api.stream(failing_engine(), USER, on_tool_error="halt")
    assert kinds(events)[-4:] == [
        "tool_execution_completed",
        "tool_halt",
        "step_completed",
        "chat_completed",
    ]
    (halt,) = of_type(events, ToolHalt)
    assert (halt.tool_call_id, halt.reason) == ("c1", "tool_error")
    assert halt.content == '{"error":"RuntimeError: kaput"}'
    assert isinstance(halt.result, ToolError)
    assert halt.result.reason == "handler_raised"
    assert not of_type(events, ToolResultEncoded)
    check_chat_grammar(events)


def test_f060_halt_policy_drains_siblings(api) -> None:
    tools = [make_tool("boom", boom), make_tool("ok", lambda a: "fine")]
    script = call_turn(("c1", "boom", {}), ("c2", "ok", {}))
    result = api.chat(make_engine([script], tools), USER, on_tool_error="halt")
    assert result.halted_reason == "tool_error"
    assert [m.content for m in result.thread.messages if m.role == "tool"] == [
        '{"error":"RuntimeError: kaput"}',
        "fine",
    ]


# -- item 61: a callable policy ---------------------------------------------------------------------------


def test_f061_callable_continue_encodes_the_replacement(api) -> None:
    policy = Policy(("continue", {"fallback": True}))
    result = api.chat(failing_engine(), USER, on_tool_error=policy)
    ((call, error),) = policy.seen
    assert (call.id, call.name) == ("c1", "boom")
    assert isinstance(error, ToolError)
    assert error.reason == "handler_raised"
    assert isinstance(error.cause, RuntimeError)
    assert result.halted_reason == "completed"
    assert contents(result.thread)[2] == ("tool", '{"fallback":true}')


def test_f061_callable_halt(api) -> None:
    policy = Policy("halt")
    result = api.chat(failing_engine(), USER, on_tool_error=policy)
    assert len(policy.seen) == 1
    assert result.halted_reason == "tool_error"
    assert result.metadata == {"halt_tool_call_id": "c1"}


def test_f061_callable_raising_halts_and_lifts_the_exception(api) -> None:
    problem = ValueError("policy broke")
    policy = Policy(problem)
    result = api.chat(failing_engine(), USER, on_tool_error=policy)
    assert len(policy.seen) == 1  # never re-invoked
    assert result.halted_reason == "tool_error"
    assert result.metadata["halt_tool_call_id"] == "c1"
    assert result.metadata["on_tool_error_exception"] is problem
    assert result.steps[0].metadata["on_tool_error_exception"] is problem
    events = api.stream(failing_engine(), USER, on_tool_error=Policy(problem))
    (halt,) = of_type(events, ToolHalt)
    assert halt.result["error"].reason == "invalid_return"


@pytest.mark.parametrize("decision", [None, "continue", ("continue",), ("retry", 1), 42])
def test_f061_callable_invalid_return_halts(api, decision: Any) -> None:
    policy = Policy(decision)
    events = api.stream(failing_engine(), USER, on_tool_error=policy)
    assert len(policy.seen) == 1
    result = events[-1].result
    assert result.halted_reason == "tool_error"
    assert "on_tool_error_exception" not in result.metadata
    (halt,) = of_type(events, ToolHalt)
    assert isinstance(halt.result, ToolError)
    assert halt.result.reason == "invalid_return"


def test_f061_callable_gets_a_tool_failure_as_itself(api) -> None:
    failure = allm.ToolFailure({"code": 404})
    policy = Policy(("continue", "not found"))
    tools = [make_tool("f", lambda a: failure)]
    result = api.chat(
        make_engine([call_turn(("c1", "f", {})), text_turn()], tools), USER, on_tool_error=policy
    )
    assert policy.seen[0][1] == failure
    assert isinstance(policy.seen[0][1], allm.ToolFailure)
    assert contents(result.thread)[2] == ("tool", "not found")


def test_f061_callable_replacement_that_cannot_be_encoded(api) -> None:
    policy = Policy(("continue", object()))
    result = api.chat(failing_engine(), USER, on_tool_error=policy)
    assert result.halted_reason == "completed"
    content = contents(result.thread)[2][1]
    assert content.startswith('{"error":') and "could not be encoded" in content


# -- item 62: invalid policies -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "policy",
    ["stop", None, 3, lambda call: "halt", lambda call, error, extra: "halt", lambda: "halt"],
    ids=["word", "none", "int", "arity1", "arity3", "arity0"],
)
def test_f062_invalid_on_tool_error_raises_before_any_call(api, policy: Any) -> None:
    record: list[Any] = []
    ran: list[Any] = []
    engine = make_engine([call_turn(("c1", "t", {}))], [make_tool("t", ran.append)], record=record)
    with pytest.raises(ConfigurationError) as caught:
        api.chat(engine, USER, on_tool_error=policy)
    assert caught.value.reason == "invalid_option"
    assert any("on_tool_error" in problem for problem in caught.value.problems)
    with pytest.raises(ConfigurationError):
        api.step(engine, USER, on_tool_error=policy)
    with pytest.raises(ConfigurationError):
        api.stream(engine, USER, on_tool_error=policy)
    assert record == []
    assert ran == []


def test_f062_defaulted_third_parameter_is_accepted(api) -> None:
    def policy(call: Any, error: Any, *, note: str = "") -> Any:
        return ("continue", "ok")

    result = api.chat(failing_engine(), USER, on_tool_error=policy)
    assert result.halted_reason == "completed"


# -- malformed and schema-violating arguments ---------------------------------------------------------------


def argument_case(name: str) -> list[Any]:
    if name == "bad_json":
        return [
            tool_call_delta(id="c1", arguments_delta='{"a": 1,'),
            tool_call(id="c1", name="t", arguments={}, raw_arguments='{"a": 1,'),
            finish("tool_calls"),
        ]
    if name == "not_an_object":
        return [tool_call(id="c1", name="t", raw_arguments="[1, 2]"), finish("tool_calls")]
    if name == "missing_required":
        return call_turn(("c1", "t", {"b": 1}))
    return call_turn(("c1", "t", {"a": "one"}))  # wrong_type


@pytest.mark.parametrize("case", ["bad_json", "not_an_object", "missing_required", "wrong_type"])
def test_invalid_arguments_route_through_the_policy(api, case: str) -> None:
    ran: list[Any] = []
    policy = Policy(("continue", "please resend"))
    tools = [make_tool("t", ran.append, schema=SCHEMA)]
    engine = make_engine([argument_case(case), text_turn("ok")], tools)
    result = api.chat(engine, USER, on_tool_error=policy)
    assert ran == []  # the handler is never called with bad arguments
    ((call, error),) = policy.seen
    assert isinstance(error, ToolError)
    assert (error.reason, error.tool_name, error.tool_call_id) == ("invalid_arguments", "t", "c1")
    assert error.metadata["raw_arguments"] == call.raw_arguments
    assert error.metadata["problems"]
    assert result.halted_reason == "completed"
    assert contents(result.thread)[2] == ("tool", "please resend")


def test_invalid_arguments_keep_the_raw_text(api) -> None:
    policy = Policy("halt")
    tools = [make_tool("t", lambda a: "never", schema=SCHEMA)]
    result = api.chat(make_engine([argument_case("bad_json")], tools), USER, on_tool_error=policy)
    assert policy.seen[0][1].metadata["raw_arguments"] == '{"a": 1,'
    assert result.halted_reason == "tool_error"
    assert result.thread.messages[1].tool_calls[0].raw_arguments == '{"a": 1,'
    assert [m.role for m in result.thread.messages] == ["user", "assistant", "tool"]


def test_invalid_arguments_under_the_default_policy(api) -> None:
    tools = [make_tool("t", lambda a: "never", schema=SCHEMA)]
    events = api.stream_step(make_engine([argument_case("missing_required")], tools), USER)
    (encoded,) = of_type(events, ToolResultEncoded)
    assert encoded.content.startswith('{"error":"invalid arguments')
    assert "missing required argument 'a'" in encoded.content


# -- handlers returning what cannot be used -----------------------------------------------------------------


def test_unencodable_return_is_encoding_failed(api) -> None:
    policy = Policy(("continue", "fixed"))
    tools = [make_tool("t", lambda a: {"when": object()})]
    result = api.chat(
        make_engine([call_turn(("c1", "t", {})), text_turn()], tools), USER, on_tool_error=policy
    )
    ((_, error),) = policy.seen
    assert isinstance(error, ToolError)
    assert error.reason == "encoding_failed"
    assert isinstance(error.cause, TypeError)
    assert contents(result.thread)[2] == ("tool", "fixed")


def test_encoding_failed_never_recalls_the_user_encoder(api) -> None:
    class Picky:
        def __init__(self) -> None:
            self.calls: list[Any] = []

        def encode(self, value: Any) -> str:
            self.calls.append(value)
            raise ValueError("cannot")

    encoder = Picky()
    tools = [make_tool("t", lambda a: "value")]
    result = api.chat(
        make_engine([call_turn(("c1", "t", {})), text_turn()], tools),
        USER,
        tool_result_encoder=encoder,
    )
    assert encoder.calls == ["value"]
    content = contents(result.thread)[2][1]
    assert content.startswith('{"error":') and "could not be encoded" in content
    assert result.halted_reason == "completed"


def test_generator_return_is_invalid_return(api) -> None:
    def gen(arguments: dict[str, Any]) -> Any:
        yield "never"

    policy = Policy("halt")
    result = api.chat(
        make_engine([call_turn(("c1", "t", {}))], [make_tool("t", gen)]), USER, on_tool_error=policy
    )
    assert policy.seen[0][1].reason == "invalid_return"
    assert result.halted_reason == "tool_error"
    assert [m.role for m in result.thread.messages] == ["user", "assistant", "tool"]


def test_unknown_tool_in_chat_is_an_error_result(api) -> None:
    ran: list[Any] = []
    script = call_turn(("c1", "t", {}), ("c2", "ghost", {}))
    engine = make_engine([script, text_turn()], [make_tool("t", ran.append)])
    result = api.chat(engine, USER, request_id="r")
    assert ran == []
    assert result.halted_reason == "error"
    assert result.metadata["error"].reason == "unknown_tool"
    assert result.metadata["error"].metadata == {"tool_name": "ghost"}
    assert [m.role for m in result.thread.messages] == ["user", "assistant"]
    assert (
        api.collect(
            make_engine([script, text_turn()], [make_tool("t", ran.append)]), USER, request_id="r"
        )
        == result
    )


def test_failures_keep_the_whole_thread(api) -> None:
    # Two good turns, then a halting failure: every message of every turn is still there.
    tools = [make_tool("ok", lambda a: "fine"), make_tool("boom", boom)]
    scripts = [
        call_turn(("c1", "ok", {})),
        call_turn(("c2", "ok", {})),
        call_turn(("c3", "boom", {})),
    ]
    result = api.chat(make_engine(scripts, tools), USER, on_tool_error="halt")
    assert result.halted_reason == "tool_error"
    assert [m.role for m in result.thread.messages] == [
        "user",
        "assistant",
        "tool",
        "assistant",
        "tool",
        "assistant",
        "tool",
    ]
    assert len(result.steps) == 3
