"""Chat-layer options: executors, encoders, extra tools, context, stream filters, entry checks
(§16.1, §16.2, §16.7)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.chat.support import (
    USER,
    call_turn,
    kinds,
    make_engine,
    make_tool,
    of_type,
    text_turn,
)

import allm
from allm.errors import ConfigurationError, ValidationError
from allm.events import MessageStarted, TextDelta, ToolCallDelta
from allm.providers.fake import finish, text, tool_call, tool_call_delta
from allm.tooling import ToolContext


class Tagging:
    """A custom executor: runs the handler and tags its answer."""

    def __init__(self, tag: str = "x") -> None:
        self.tag = tag
        self.seen: list[tuple[str, dict[str, Any], ToolContext]] = []

    def execute(self, tool: allm.Tool, arguments: dict[str, Any], ctx: ToolContext) -> Any:
        self.seen.append((tool.name, arguments, ctx))
        assert tool.handler is not None
        return f"{self.tag}:{tool.handler(arguments)}"


class AsyncOnly:
    async def aexecute(self, tool: allm.Tool, arguments: dict[str, Any], ctx: ToolContext) -> Any:
        return "from aexecute"


def one_call() -> list[Any]:
    return call_turn(("c1", "t", {"v": 1}))


def test_custom_executor_option(api) -> None:
    executor = Tagging()
    engine = make_engine([one_call()], [make_tool("t", lambda a: a["v"])])
    result = api.step(engine, USER, tool_executor=executor, request_id="r")
    assert result.tool_results[0].content == "x:1"
    ((name, arguments, ctx),) = executor.seen
    assert (name, arguments, ctx.request_id) == ("t", {"v": 1}, "r")
    assert ctx.tool_call is not None and ctx.tool_call.id == "c1"


def test_executor_call_option_wins_over_the_engine(api) -> None:
    engine = allm.Engine(
        adapter="fake",
        adapter_opts={"scripts": [one_call(), one_call()]},
        tools=(make_tool("t", lambda a: a["v"]),),
        tool_executor=Tagging("engine"),
    )
    assert api.step(engine, USER).tool_results[0].content == "engine:1"
    result = api.step(engine, USER, tool_executor=Tagging("call"))
    assert result.tool_results[0].content == "call:1"


def test_executor_and_encoder_given_as_classes(api) -> None:
    class Shout:
        def encode(self, value: Any) -> str:
            return f"{value}!"

    engine = make_engine([one_call()], [make_tool("t", lambda a: a["v"])])
    result = api.step(engine, USER, tool_executor=Tagging, tool_result_encoder=Shout)
    assert result.tool_results[0].content == "x:1!"


def test_async_only_executor(api) -> None:
    record: list[Any] = []
    engine = make_engine([one_call()], [make_tool("t", lambda a: 1)], record=record)
    if api.is_async:
        assert api.step(engine, USER, tool_executor=AsyncOnly()).tool_results[0].content == (
            "from aexecute"
        )
    else:
        with pytest.raises(ConfigurationError) as caught:
            api.step(engine, USER, tool_executor=AsyncOnly())
        assert caught.value.reason == "async_handler_in_sync_api"
        assert record == []


def test_bad_handler_arity_raises_the_same_error_on_both_apis(api) -> None:
    tools = [make_tool("t", lambda a, b, c: 1), make_tool("u", lambda a: 1)]
    engine = make_engine([call_turn(("c1", "t", {}), ("c2", "u", {}))], tools)
    with pytest.raises(ConfigurationError) as caught:
        api.step(engine, USER)
    assert caught.value.reason == "invalid_tool"


def test_every_bad_option_is_listed_at_once(api) -> None:
    record: list[Any] = []
    engine = make_engine([one_call()], [make_tool("t", lambda a: 1)], record=record)
    with pytest.raises(ConfigurationError) as caught:
        api.chat(
            engine,
            USER,
            mode="sometimes",
            tool_executor=object(),
            tool_result_encoder=object(),
            context=["not", "a", "mapping"],
            structured_finalize_nudge=3,
            max_concurrency=0,
        )
    problems = " ".join(caught.value.problems)
    for word in ("mode", "tool_executor", "tool_result_encoder", "context", "nudge", "concurrency"):
        assert word in problems
    assert record == []


def test_call_tools_extend_and_replace_engine_tools(api) -> None:
    record: list[Any] = []
    engine = make_engine(
        [call_turn(("c1", "a", {}), ("c2", "b", {}))],
        [make_tool("a", lambda x: "engine-a"), make_tool("keep", lambda x: "k")],
        record=record,
    )
    extra = [make_tool("a", lambda x: "call-a"), make_tool("b", lambda x: "call-b")]
    result = api.step(engine, USER, tools=extra)
    assert [m.content for m in result.tool_results] == ["call-a", "call-b"]
    assert [t.name for t in record[0][0].tools] == ["a", "keep", "b"]


def test_call_tools_must_be_tools(api) -> None:
    with pytest.raises(ConfigurationError):
        api.step(make_engine([one_call()]), USER, tools=[{"name": "t"}])


def test_thread_must_hold_messages(api) -> None:
    with pytest.raises(ValidationError) as caught:
        api.chat(make_engine([text_turn()]), [allm.user("hi"), "not a message"])
    assert caught.value.reason == "invalid_thread"
    with pytest.raises(ValidationError):
        api.chat(make_engine([text_turn()]), 42)


def test_stream_filters_apply_to_chat_streams(api) -> None:
    seen: list[Any] = []
    script = [
        text("a"),
        tool_call_delta(id="c1", arguments_delta='{"v":'),
        tool_call_delta(id="c1", arguments_delta="1}"),
        tool_call(id="c1", name="t", arguments={"v": 1}, raw_arguments='{"v":1}'),
        finish("tool_calls"),
    ]
    tools = [make_tool("t", lambda a: a["v"])]
    opts = {
        "emit_text_deltas": False,
        "emit_tool_deltas": False,
        "on_event": seen.append,
        "request_id": "r",
    }
    events = api.stream(make_engine([script, text_turn("b")], tools), USER, **opts)
    assert not of_type(events, TextDelta)
    assert not of_type(events, ToolCallDelta)
    assert len(of_type(seen, TextDelta)) == 2  # on_event sees everything the adapter sent
    assert len(of_type(seen, ToolCallDelta)) == 2
    assert len(of_type(seen, MessageStarted)) == 2
    # Filtering never changes the result: each step folded every event.
    unfiltered = api.chat(make_engine([script, text_turn("b")], tools), USER, request_id="r")
    assert events[-1].result == unfiltered
    assert kinds(events)[-1] == "chat_completed"


def test_response_format_reaches_each_step(api) -> None:
    record: list[Any] = []
    fmt = allm.json_schema("out", {"type": "object"})
    engine = make_engine(
        [one_call(), text_turn("{}")], [make_tool("t", lambda a: 1)], record=record
    )
    api.chat(engine, USER, response_format=fmt)
    assert [request.response_format for request, _ in record] == [fmt, fmt]
    record.clear()
    api.step(make_engine([text_turn("{}")], record=record), USER, response_format=fmt)
    assert record[0][0].response_format == fmt


def test_chat_options_do_not_reach_the_adapter(api) -> None:
    record: list[Any] = []
    engine = make_engine([one_call(), text_turn()], [make_tool("t", lambda a: 1)], record=record)
    api.chat(
        engine,
        USER,
        max_turns=3,
        on_tool_error="continue",
        tool_timeout=5,
        max_concurrency=2,
        context={"k": 1},
        session_id="s",
        halt_when=lambda r: False,
        temperature=0.5,
    )
    request, call = record[0]
    assert request.temperature == 0.5
    leaked = {"max_turns", "on_tool_error", "tool_timeout", "max_concurrency", "halt_when"}
    assert not leaked & set(call.params)
    assert not leaked & set(request.options)
