"""Properties over random Fake multi-turn scripts (§5.2, §16): ``chat`` is the fold of
``stream``, ``step`` the fold of ``stream_step``, the event grammar holds, sync equals async."""

from __future__ import annotations

import itertools
from typing import Any

import anyio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.chat.support import SCHEMA, USER, check_chat_grammar, check_step_grammar, make_engine

import allm
from allm import _json
from allm.errors import EngineError
from allm.providers import fake

REQUEST_ID = "req-prop"
PROPERTY_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


# -- tools with every kind of outcome ----------------------------------------------------------------


def _ret(arguments: dict[str, Any]) -> Any:
    return {"echo": arguments}


def _raise(arguments: dict[str, Any]) -> Any:
    raise ValueError(f"bad {arguments}")


def _ask(arguments: dict[str, Any], ctx: allm.ToolContext) -> Any:
    return allm.AskUser(f"Which one for {ctx.tool_call.id if ctx.tool_call else '?'}?", n=1)


def _halt(arguments: dict[str, Any]) -> Any:
    return allm.Halt("stopped", arguments)


def _fail(arguments: dict[str, Any]) -> Any:
    return allm.ToolFailure("nope")


def _reserved(arguments: dict[str, Any]) -> Any:
    return allm.Halt("completed", 1)


TOOLS = [
    allm.tool(name="ret", description="d", schema=SCHEMA, handler=_ret),
    allm.tool(name="raise", description="d", schema=SCHEMA, handler=_raise),
    allm.tool(name="ask", description="d", schema=SCHEMA, handler=_ask),
    allm.tool(name="halt", description="d", schema=SCHEMA, handler=_halt),
    allm.tool(name="fail", description="d", schema=SCHEMA, handler=_fail),
    allm.tool(name="reserved", description="d", schema=SCHEMA, handler=_reserved),
    allm.tool(name="man", description="d", schema=SCHEMA, handler=_ret, manual=True),
]
MANUAL = {"man"}
# What the model calls, weighted towards tools that let the loop go on; "ghost" is unknown.
CALLED_NAMES = [
    *["ret"] * 6,
    *["fail", "raise"] * 2,
    *["ask", "halt", "reserved", "man"],
    "ghost",
]

# A raising policy raises one shared exception: exceptions compare by identity, and the lifted
# exception is part of the result.
POLICY_PROBLEM = RuntimeError("policy failed")


def policy_continue(call: Any, error: Any) -> Any:
    return ("continue", {"replaced": call.id})


def policy_halt(call: Any, error: Any) -> Any:
    return "halt"


def policy_raise(call: Any, error: Any) -> Any:
    raise POLICY_PROBLEM


def policy_invalid(call: Any, error: Any) -> Any:
    return "retry"


# -- scripts ---------------------------------------------------------------------------------------------

# Mostly valid; sometimes missing the required property or of the wrong type.
arguments = st.sampled_from([*({"a": a} for a in range(-4, 5)), {}, {"a": "x"}])


@st.composite
def call_group(draw: Any, call_id: str) -> list[Any]:
    """One tool call: whole, as argument fragments then the completing entry, or malformed."""
    name = draw(st.sampled_from(CALLED_NAMES))
    args = draw(arguments)
    form = draw(st.sampled_from(["whole"] * 4 + ["deltas"] * 3 + ["malformed"]))
    if form == "whole":
        return [fake.tool_call(id=call_id, name=name, arguments=args)]
    raw = _json.dumps(args) if form == "deltas" else '{"a": '
    cut = draw(st.integers(0, len(raw)))
    fragments = [raw[:cut], raw[cut:]]
    completing = fake.tool_call(
        id=call_id, name=name, arguments=args if form == "deltas" else {}, raw_arguments=raw
    )
    return [
        *(fake.tool_call_delta(id=call_id, arguments_delta=f) for f in fragments if f),
        completing,
    ]


@st.composite
def turn(draw: Any, index: int) -> list[Any]:
    """One model call's script."""
    count = draw(st.sampled_from([1, 2, 3, 0]))
    groups = [draw(call_group(f"t{index}c{i}")) for i in range(count)]
    groups += [[fake.text(s)] for s in draw(st.lists(st.text(max_size=4), max_size=2))]
    groups = draw(st.permutations(groups))
    entries = [entry for group in groups for entry in group]
    if draw(st.sampled_from([False] * 7 + [True])):
        entries.append(fake.error(draw(st.sampled_from(["rate_limited", "provider_unavailable"]))))
    if count:
        reason = draw(st.sampled_from(["tool_calls"] * 5 + ["stop", None]))
    else:
        reason = draw(st.sampled_from(["stop", "stop", "length", "other", None]))
    if reason is not None:
        entries.append(fake.finish(reason))
    return entries


@st.composite
def scripts(draw: Any) -> list[list[Any]]:
    turns = [draw(turn(index)) for index in range(draw(st.sampled_from([3, 2, 4, 1])))]
    if draw(st.booleans()):  # otherwise the loop may run out of script: a later pre-flight error
        turns.append([fake.text("the end"), fake.finish("stop")])
    return turns


chat_options = st.fixed_dictionaries(
    {
        "max_turns": st.sampled_from([5, 3, 4, 2, 1]),
        "on_tool_error": st.sampled_from(
            [
                "continue",
                policy_continue,
                "continue",
                "halt",
                policy_halt,
                policy_raise,
                policy_invalid,
            ]
        ),
        "max_concurrency": st.sampled_from([None, 1, 3]),
        "mode": st.sampled_from(["auto", "auto", "auto", "manual"]),
    }
)


# -- running every form ------------------------------------------------------------------------------


def run_chat_forms(script: list[list[Any]], opts: dict[str, Any]) -> dict[str, Any]:
    """chat, stream().collect() and the stream's events, sync and async; fresh engines each."""
    opts = {**opts, "request_id": REQUEST_ID}

    def engine() -> allm.Engine:
        return make_engine(script, TOOLS)

    out: dict[str, Any] = {
        "chat": allm.chat(engine(), USER, **opts),
        "collect": allm.stream(engine(), USER, **opts).collect(),
        "events": list(allm.stream(engine(), USER, **opts)),
    }

    async def run_async() -> dict[str, Any]:
        stream = await allm.astream(engine(), USER, **opts)
        collected = await stream.collect()
        events_stream = await allm.astream(engine(), USER, **opts)
        return {
            "achat": await allm.achat(engine(), USER, **opts),
            "acollect": collected,
            "aevents": [event async for event in events_stream],
        }

    out.update(anyio.run(run_async))
    return out


def run_step_forms(script: list[list[Any]], opts: dict[str, Any]) -> dict[str, Any]:
    """step (or its exception), stream_step().collect() and the events, sync and async."""
    opts = {**opts, "request_id": REQUEST_ID}
    opts.pop("max_turns", None)

    def engine() -> allm.Engine:
        return make_engine(script, TOOLS)

    def attempt(run: Any) -> Any:
        try:
            return run()
        except EngineError as exc:
            return exc

    out: dict[str, Any] = {
        "step": attempt(lambda: allm.step(engine(), USER, **opts)),
        "collect": allm.stream_step(engine(), USER, **opts).collect(),
        "events": list(allm.stream_step(engine(), USER, **opts)),
    }

    async def run_async() -> dict[str, Any]:
        async def astep() -> Any:
            try:
                return await allm.astep(engine(), USER, **opts)
            except EngineError as exc:
                return exc

        stream = await allm.astream_step(engine(), USER, **opts)
        collected = await stream.collect()
        events_stream = await allm.astream_step(engine(), USER, **opts)
        return {
            "astep": await astep(),
            "acollect": collected,
            "aevents": [event async for event in events_stream],
        }

    out.update(anyio.run(run_async))
    return out


# -- the properties ----------------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(script=scripts(), opts=chat_options)
def test_property_chat_equals_collected_stream_and_sync_equals_async(
    script: list[list[Any]], opts: dict[str, Any]
) -> None:
    out = run_chat_forms(script, opts)
    result = out["chat"]
    assert out["collect"] == result
    assert out["events"][-1].result == result
    assert out["achat"] == result
    assert out["acollect"] == result
    assert out["aevents"] == out["events"]
    # The grammar of a chat stream, and the fold of exactly these events.
    check_chat_grammar(out["events"], MANUAL)
    collector = allm.StreamCollector(allm.Thread(tuple(USER)), request_id=REQUEST_ID)
    collector.apply_all(out["events"])
    assert collector.to_chat_result() == result
    # Loop invariants.
    assert 1 <= len(result.steps) <= opts["max_turns"]
    assert result.final_response == result.steps[-1].response
    assert result.thread.messages[: len(USER)] == tuple(USER)
    for earlier, later in itertools.pairwise(result.steps):
        assert later.thread.messages[: len(earlier.thread)] == earlier.thread.messages
    if result.halted_reason == "ask_user":
        assert result.thread.messages[-1].metadata["ask_user"] is True
        assert result.thread.messages[:-1] == result.steps[-1].thread.messages
    else:
        assert result.thread == result.steps[-1].thread
    if result.halted_reason == "max_turns":
        assert len(result.steps) == opts["max_turns"]


@PROPERTY_SETTINGS
@given(script=scripts(), opts=chat_options)
def test_property_step_equals_collected_stream_step_and_sync_equals_async(
    script: list[list[Any]], opts: dict[str, Any]
) -> None:
    out = run_step_forms(script, opts)
    collected = out["collect"]
    assert out["acollect"] == collected
    assert out["aevents"] == out["events"]
    assert out["events"][-1].thread == collected.thread
    check_step_grammar(out["events"], MANUAL)
    error = collected.response.metadata.get("error")
    if isinstance(error, EngineError) and error.reason == "unknown_tool":
        # step raises what stream_step reports as data
        assert out["step"] == error
        assert out["astep"] == error
    else:
        assert out["step"] == collected
        assert out["astep"] == collected
    # Every tool message of the step is in the thread, after the assistant message.
    new = collected.thread.messages[len(USER) :]
    assert new[0].role == "assistant"
    tool_messages = [m for m in new[1:]]
    assert all(m.role == "tool" for m in tool_messages)
    assert all(m in tool_messages for m in collected.tool_results)
