"""``prepare_step`` and ``history=`` in the chat loop, through the sync and the async API."""

from __future__ import annotations

from typing import Any

import pytest

import allm
from allm import history

from .support import run_chat, run_step


@allm.tool
def ping(x: int) -> int:
    """Echo x."""
    return x


@allm.tool
def pong(y: int) -> int:
    """Echo y."""
    return y


def _call(index: int, name: str = "ping") -> tuple[str, dict[str, Any]]:
    arg = "x" if name == "ping" else "y"
    return ("tool_call", {"id": f"c{index}", "name": name, "arguments": {arg: index}})


def _engine(scripts: list[list[Any]], **fields: Any) -> tuple[allm.Engine, list[Any]]:
    seen: list[Any] = []
    engine = allm.Engine(
        adapter="fake",
        model="base",
        adapter_opts={"scripts": scripts, "record": seen},
        tools=(ping,),
        **fields,
    )
    return engine, seen


USAGE = ("usage", {"input_tokens": 10, "output_tokens": 2})


@pytest.fixture(params=["sync", "async"])
def api(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_prepare_step_sees_every_turn_and_overrides_one(api: str) -> None:
    contexts: list[allm.StepContext] = []

    def prepare(ctx: allm.StepContext) -> allm.StepOverrides | None:
        contexts.append(ctx)
        if ctx.turn == 2:
            return allm.StepOverrides(model="cheap", tools=[pong], tool_choice="auto")
        if ctx.turn == 3:
            return allm.StepOverrides(messages=[allm.user("only this")])
        return None

    engine, seen = _engine(
        [
            [_call(1), USAGE, ("finish", "tool_calls")],
            [_call(2, "pong"), USAGE, ("finish", "tool_calls")],
            [("text", "done"), USAGE, ("finish", "stop")],
        ]
    )
    result = run_chat(api, engine, [allm.user("go")], prepare_step=prepare)
    assert result.halted_reason == "completed"
    assert [c.turn for c in contexts] == [1, 2, 3]
    assert contexts[0].previous is None and contexts[0].usage_so_far is None
    assert contexts[1].previous is not None
    assert contexts[1].previous.tool_results[0].tool_call_id == "c1"
    assert contexts[2].usage_so_far is not None and contexts[2].usage_so_far.input_tokens == 20
    assert len(contexts[2].thread.messages) == 5
    models = [request.model for request, _ in seen]
    assert models == ["base", "cheap", "base"]
    assert [t.name for t in seen[1][0].tools] == ["pong"] and seen[1][0].tool_choice == "auto"
    assert [t.name for t in seen[2][0].tools] == ["ping"]
    assert [m.content for m in seen[2][0].messages] == ["only this"]
    # the pong call of turn 2 ran: the turn's tools are the ones executed
    assert result.steps[1].tool_results[0].content == "2"
    assert len(result.thread.messages) == 6  # the whole thread is kept


def test_prepare_step_in_a_single_step(api: str) -> None:
    engine, seen = _engine([[("text", "hi"), ("finish", "stop")]])
    run_step(api, engine, [allm.user("x")], prepare_step=lambda ctx: allm.StepOverrides(model="m2"))
    assert seen[0][0].model == "m2"


def test_bad_hooks_raise_before_any_io() -> None:
    engine, _ = _engine([[("text", "hi")]])
    with pytest.raises(allm.errors.ConfigurationError) as caught:
        allm.chat(engine, [allm.user("x")], prepare_step=3, history="last")
    assert len(caught.value.problems) == 2
    with pytest.raises(allm.errors.ConfigurationError):
        allm.chat(engine, [allm.user("x")], prepare_step=lambda ctx: "model-b")
    with pytest.raises(allm.errors.ConfigurationError):
        allm.chat(
            engine,
            [allm.user("x")],
            prepare_step=lambda ctx: allm.StepOverrides(tools=("x",), messages=("y",)),  # type: ignore[arg-type]
        )


def test_a_later_turn_failing_its_hook_is_data(api: str) -> None:
    def prepare(ctx: allm.StepContext) -> Any:
        return None if ctx.turn == 1 else "wrong"

    engine, _ = _engine([[_call(1), ("finish", "tool_calls")], [("text", "x")]])
    result = run_chat(api, engine, [allm.user("go")], prepare_step=prepare)
    assert result.halted_reason == "error"
    assert isinstance(result.metadata["error"], allm.errors.ConfigurationError)


def test_history_keep_last_sends_the_tail_and_keeps_the_thread(api: str) -> None:
    engine, seen = _engine(
        [[_call(1), ("finish", "tool_calls")], [("text", "done"), ("finish", "stop")]]
    )
    thread = [allm.system("rules"), allm.user("a"), allm.assistant("b"), allm.user("c")]
    result = run_chat(api, engine, thread, history=history.keep_last(1))
    sent = [[m.content for m in request.messages] for request, _ in seen]
    assert sent[0] == ["rules", "c"]
    # turn 2: the last message is a tool result; its call comes along
    assert sent[1][0] == "rules" and [m.role for m in seen[1][0].messages][1:] == [
        "assistant",
        "tool",
    ]
    assert len(result.thread.messages) == 7


def test_history_token_budget_in_the_loop(api: str) -> None:
    engine, seen = _engine([[("text", "ok"), ("finish", "stop")]])
    thread = [allm.system("s"), *(allm.user("x" * 400) for _ in range(5)), allm.user("last")]
    run_chat(api, engine, thread, history=history.token_budget(150))
    assert seen[0][0].messages[0].content == "s"
    assert seen[0][0].messages[-1].content == "last"
    assert len(seen[0][0].messages) < len(thread)


def test_summarize_replaces_the_older_part_with_one_model_call(api: str) -> None:
    summarizer_seen: list[Any] = []
    summarizer = allm.Engine(
        adapter="fake",
        adapter_opts={
            "scripts": [
                [("text", "they talked about x"), ("finish", "stop")],
                [("text", "then a ping"), ("finish", "stop")],
            ],
            "record": summarizer_seen,
        },
    )
    engine, seen = _engine(
        [[_call(1), ("finish", "tool_calls")], [("text", "done"), ("finish", "stop")]]
    )
    thread = [allm.system("s"), *(allm.user(f"m{i} " + "y" * 200) for i in range(6))]
    reducer = history.summarize(summarizer, when_over_tokens=200, keep_last=2)
    result = run_chat(api, engine, thread, history=reducer)
    assert result.halted_reason == "completed"
    first = [m.content for m in seen[0][0].messages]
    assert first[0] == "s"
    assert first[1].startswith("Summary of the earlier conversation:\nthey talked about x")
    assert first[2].startswith("m4") and first[3].startswith("m5")
    # turn 2: the older part grew (m4, m5 left the tail), so it is summarized again
    assert len(summarizer_seen) == 2
    assert "m0" in summarizer_seen[0][0].messages[1].content
    assert "m5" in summarizer_seen[1][0].messages[1].content
    assert seen[1][0].messages[1].content.endswith("then a ping")
    single, seen_single = _engine([[("text", "ok"), ("finish", "stop")]])
    run_step(api, single, [allm.user("short")], history=reducer)
    assert [m.content for m in seen_single[0][0].messages] == ["short"]


@pytest.mark.parametrize("scripts", [[[("error", "timeout")]], []])
def test_a_failed_summary_sends_the_messages_as_they_are(api: str, scripts: list[Any]) -> None:
    summarizer = allm.Engine(adapter="fake", adapter_opts={"scripts": scripts}, retry=False)
    engine, seen = _engine([[("text", "ok"), ("finish", "stop")]])
    thread = [allm.user("z" * 2000), allm.user("end")]
    reducer = history.summarize(summarizer, when_over_tokens=10, keep_last=1)
    run_chat(api, engine, thread, history=reducer)
    assert [m.content for m in seen[0][0].messages] == [m.content for m in thread]


def test_reducer_arguments_are_checked() -> None:
    for bad in (lambda: history.keep_last(-1), lambda: history.token_budget(0)):
        with pytest.raises(allm.errors.ConfigurationError):
            bad()
    with pytest.raises(allm.errors.ConfigurationError) as caught:
        history.summarize("engine", when_over_tokens=0, keep_last=-2)  # type: ignore[arg-type]
    assert len(caught.value.problems) == 3


def test_the_new_keywords_never_reach_a_provider(api: str) -> None:
    engine, seen = _engine([[("text", "a"), ("finish", "stop")]] * 3, fallbacks=("fake:other",))
    hooks = {
        "fallback_on": ["timeout"],
        "prepare_step": lambda ctx: None,
        "history": history.keep_last(4),
    }
    allm.generate(engine, [allm.user("x")], fallback_on=hooks["fallback_on"])
    run_chat(api, engine, [allm.user("x")], **hooks)
    session, _ = allm.sessions.start(engine, [allm.user("hello")], **hooks)
    assert session.status == "completed"
    for _, call in seen:
        assert not set(hooks) & set(call.params)
