"""Telemetry of the chat layer: chat spans hold step spans hold tool spans (§14; items 44-46)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.chat.support import USER, call_turn, make_engine, make_tool, text_turn

from allm.errors import ConfigurationError

SPAN_PREFIXES = ("allm.chat.", "allm.step.", "allm.tool.")


def chat_engine() -> Any:
    tools = [make_tool("a", lambda x: "A"), make_tool("b", lambda x: "B")]
    return make_engine([call_turn(("c1", "a", {}), ("c2", "b", {})), text_turn()], tools)


def span_events(spans: Any) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    return [event for event in spans.events if event[0].startswith(SPAN_PREFIXES)]


def check_nesting(names: list[str]) -> None:
    """Every span closes inside its parent: tool in step, step in chat."""
    depth = {"chat": 0, "step": 0, "tool": 0}
    for name in names:
        _, span, phase = name.split(".")
        if phase == "start":
            if span == "step":
                assert depth["chat"] == 1 or "allm.chat.start" not in names
            if span == "tool":
                assert depth["step"] == 1, names
            depth[span] += 1
        else:
            depth[span] -= 1
            if span == "step":
                assert depth["tool"] == 0, names
            if span == "chat":
                assert depth["step"] == 0, names
    assert all(value == 0 for value in depth.values()), names


def test_f044_chat_spans_contain_step_spans_contain_tool_spans(api, spans) -> None:
    result = api.chat(chat_engine(), USER, request_id="req-tel")
    events = span_events(spans)
    names = [name for name, _, _ in events]
    assert names[0] == "allm.chat.start"
    assert names[-1] == "allm.chat.stop"
    assert names[1] == "allm.step.start"
    assert names.count("allm.step.start") == names.count("allm.step.stop") == 2
    assert names.count("allm.tool.start") == names.count("allm.tool.stop") == 2
    check_nesting(names)
    first_step_end = names.index("allm.step.stop")
    assert all(i < first_step_end for i, name in enumerate(names) if name.startswith("allm.tool."))
    assert {metadata["request_id"] for _, _, metadata in events} == {"req-tel"}
    stop = events[-1]
    assert stop[2]["chat_result"] == result
    assert stop[1]["duration"] >= 0
    step_stops = [meta for name, _, meta in events if name == "allm.step.stop"]
    assert [meta["step_result"] for meta in step_stops] == list(result.steps)
    tool_stops = [meta for name, _, meta in events if name == "allm.tool.stop"]
    assert sorted(meta["result"] for meta in tool_stops) == ["A", "B"]
    assert sorted(meta["tool_call"].id for meta in tool_stops) == ["c1", "c2"]
    assert all(meta["tool"].name in ("a", "b") for meta in tool_stops)


def test_f044_step_span_for_a_single_step(api, spans) -> None:
    engine = make_engine([call_turn(("c1", "a", {}))], [make_tool("a", lambda x: "A")])
    api.step(engine, USER, request_id="req-step")
    names = [name for name, _, _ in span_events(spans)]
    assert names == ["allm.step.start", "allm.tool.start", "allm.tool.stop", "allm.step.stop"]
    assert {meta["request_id"] for _, _, meta in span_events(spans)} == {"req-step"}
    assert span_events(spans)[0][2]["engine"] is engine


def test_f045_stream_chat_span_stops_when_returned(api, spans) -> None:
    events = api.stream(chat_engine(), USER, request_id="req-stream")
    names = [name for name, _, _ in span_events(spans)]
    assert names[:2] == ["allm.chat.start", "allm.chat.stop"]
    assert span_events(spans)[1][2]["chat_result"] is None
    assert names.count("allm.step.start") == 2
    assert names.count("allm.tool.stop") == 2
    check_nesting(names[2:])
    assert events[-1].type == "chat_completed"


def test_f044_configuration_error_is_an_exception_span(api, spans) -> None:
    with pytest.raises(ConfigurationError):
        api.chat(chat_engine(), USER, request_id="req-bad", max_turns=0)
    names = [name for name, _, _ in span_events(spans)]
    assert names == ["allm.chat.start", "allm.chat.exception"]
    exception = span_events(spans)[1][2]
    assert isinstance(exception["reason"], ConfigurationError)
    assert exception["request_id"] == "req-bad"


def test_f046_request_id_reaches_handler_context_and_responses(api, spans) -> None:
    seen: list[Any] = []
    tools = [make_tool("a", lambda arguments, ctx: seen.append(ctx.request_id) or "A")]
    engine = make_engine([call_turn(("c1", "a", {})), text_turn()], tools)
    result = api.chat(engine, USER, request_id="req-46")
    assert seen == ["req-46"]
    assert {step.response.request_id for step in result.steps} == {"req-46"}
    assert {meta.get("request_id") for _, _, meta in span_events(spans)} == {"req-46"}


def test_timed_out_tool_gets_an_exception_event(api, spans) -> None:
    import threading

    release = threading.Event()

    def slow(arguments: dict[str, Any]) -> str:
        release.wait(2)
        return "late"

    engine = make_engine([call_turn(("c1", "slow", {}))], [make_tool("slow", slow)])
    try:
        api.step(engine, USER, tool_timeout=0.1)
    finally:
        release.set()
    exceptions = [meta for name, _, meta in spans.events if name == "allm.tool.exception"]
    assert len(exceptions) == 1
    assert (exceptions[0]["kind"], exceptions[0]["reason"]) == ("exit", "timeout")
    assert exceptions[0]["tool_call"].id == "c1"
