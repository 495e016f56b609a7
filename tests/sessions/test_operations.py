"""Session operations over the sync and the async API: FEATURES 82-91 (design §17)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.sessions.support import (
    ask_user_handler,
    calls,
    contents,
    make_engine,
    make_tool,
    says,
)

import allm
from allm import sessions
from allm.errors import AdapterError, SessionError, SessionStateError, ValidationError
from allm.events import ChatCompleted, StepCompleted, TextDelta
from allm.providers.fake import error, text

HI = [allm.user("hi")]


class Spy:
    """A handler recording its arguments and context."""

    def __init__(self, answer: Any = "ran") -> None:
        self.seen: list[tuple[dict[str, Any], Any]] = []
        self.answer = answer

    def __call__(self, arguments: dict[str, Any], ctx: Any) -> Any:
        self.seen.append((arguments, ctx))
        return self.answer


def awaiting_user(api) -> tuple[allm.Session, allm.Engine]:
    """A session paused by a tool's question, and an engine whose next turn says "booked"."""
    engine = make_engine(
        calls(("c1", "book", {"flight": "AF1"})),
        says("booked"),
        tools=[make_tool("book", ask_user_handler)],
    )
    session, _ = api.start(engine, allm.Session(id="s-ask", thread=allm.Thread(tuple(HI))))
    return session, engine


def awaiting_tools(api) -> tuple[allm.Session, allm.Engine, list[Any]]:
    """A session stopped in manual mode on two calls; the engine's next turn says "done"."""
    record: list[Any] = []
    engine = make_engine(
        calls(("c1", "a", {"x": 1}), ("c2", "b", {"y": 2})),
        says("done"),
        tools=[make_tool("a", Spy()), make_tool("b", Spy())],
        record=record,
    )
    session, _ = api.start(engine, HI, mode="manual")
    return session, engine, record


# -- 82: start --------------------------------------------------------------------------------------


def test_f082_start_returns_a_completed_session_holding_the_reply(api) -> None:
    engine = make_engine(says("hello"))
    session, result = api.start(engine, HI)
    assert session.status == "completed"
    assert contents(session) == [("user", "hi"), ("assistant", "hello")]
    assert result.halted_reason == "completed"
    assert result.text == "hello"
    assert session.thread == result.thread
    assert session.pending_tool_calls == () and session.pending_question is None


def test_f082_start_from_a_session_keeps_its_id_context_and_metadata(api) -> None:
    engine = make_engine(says("hello"))
    base = allm.Session(
        id="s-1", thread=allm.Thread(tuple(HI)), context={"k": 1}, metadata={"tag": "x"}
    )
    session, _ = api.start(engine, base)
    assert (session.id, session.context, session.metadata["tag"]) == ("s-1", {"k": 1}, "x")
    assert session.status == "completed"


def test_f082_start_from_a_thread_and_from_a_completed_session(api) -> None:
    engine = make_engine(says("one"), says("two"))
    first, _ = api.start(engine, allm.Thread(tuple(HI)))
    assert first.status == "completed" and first.id is None
    again, _ = api.start(engine, sessions.append_user(first, "more"))  # completed = idle
    assert contents(again)[-2:] == [("user", "more"), ("assistant", "two")]


@pytest.mark.parametrize("value", ["hi", 42, [allm.user("a"), "b"], None])
def test_f082_start_refuses_anything_but_a_session_thread_or_messages(api, value) -> None:
    with pytest.raises(ValidationError) as caught:
        api.start(make_engine(says("x")), value)
    assert caught.value.reason == "invalid_session_input"


# -- 83: reply ---------------------------------------------------------------------------------------


def test_f083_reply_appends_the_user_text_and_runs_a_new_chat(api) -> None:
    record: list[Any] = []
    engine = make_engine(says("one"), says("two"), record=record)
    session, _ = api.start(engine, HI)
    session, result = api.reply(engine, session, "and then?")
    assert contents(session) == [
        ("user", "hi"),
        ("assistant", "one"),
        ("user", "and then?"),
        ("assistant", "two"),
    ]
    assert session.status == "completed" and result.halted_reason == "completed"
    sent = record[-1][0].messages
    assert [m.content for m in sent] == ["hi", "one", "and then?"]


def test_f083_reply_is_legal_on_idle_completed_and_awaiting_user(api) -> None:
    idle = allm.Session(thread=allm.Thread(tuple(HI)))
    assert idle.status == "idle"
    session, _ = api.reply(make_engine(says("a")), idle, "hello?")
    assert session.status == "completed"
    session, _ = api.reply(make_engine(says("b")), session, "again")  # completed
    assert contents(session)[-1] == ("assistant", "b")
    paused, engine = awaiting_user(api)
    session, _ = api.reply(engine, paused, "yes")
    assert session.status == "completed"


def test_f083_reply_raises_on_awaiting_tools_without_calling_the_model(api) -> None:
    session, engine, record = awaiting_tools(api)
    calls_before = len(record)
    with pytest.raises(SessionStateError) as caught:
        api.reply(engine, session, "hello?")
    assert len(record) == calls_before
    assert caught.value.metadata == {
        "session_id": None,
        "operation": "reply",
        "status": "awaiting_tools",
    }


# -- 84: ask-user -----------------------------------------------------------------------------------------


def test_f084_ask_user_pauses_the_session_and_reply_resumes_it(api) -> None:
    session, engine = awaiting_user(api)
    assert session.status == "awaiting_user"
    assert session.pending_question == "Book AF1?"
    assert session.pending_tool_call_id == "c1"
    assert contents(session)[-2:] == [
        ("tool", "<awaiting user response>"),
        ("assistant", "Book AF1?"),
    ]

    answered, result = api.reply(engine, session, "yes")
    assert answered.status == "completed"
    assert answered.pending_question is None and answered.pending_tool_call_id is None
    assert contents(answered)[-3:] == [
        ("assistant", "Book AF1?"),
        ("user", "yes"),
        ("assistant", "booked"),
    ]
    # the placeholder tool message stays in the history
    assert ("tool", "<awaiting user response>") in contents(answered)
    assert result.pending_question is None


# -- 85: manual mode and submit_tool_result --------------------------------------------------------


def test_f085_manual_mode_waits_for_the_caller_to_run_the_tools(api) -> None:
    session, _, _ = awaiting_tools(api)
    assert session.status == "awaiting_tools"
    assert [(c.id, c.name, c.arguments) for c in session.pending_tool_calls] == [
        ("c1", "a", {"x": 1}),
        ("c2", "b", {"y": 2}),
    ]
    assert sessions.pending_tool_calls(session) == session.pending_tool_calls

    one = sessions.submit_tool_result(session, "c2", {"ok": True})
    assert one.status == "awaiting_tools"
    assert [c.id for c in one.pending_tool_calls] == ["c1"]
    last = sessions.messages(one)[-1]
    assert (last.role, last.tool_call_id, last.content) == ("tool", "c2", '{"ok":true}')

    both = sessions.submit_tool_result(one, "c1", "plain text")
    assert both.status == "idle"
    assert both.pending_tool_calls == ()
    assert contents(both)[-1] == ("tool", "plain text")
    allm.validate.session(both)


def test_f085_per_tool_manual_calls_also_wait(api) -> None:
    auto = Spy("auto ran")
    engine = make_engine(
        calls(("c1", "runner", {}), ("c2", "by_hand", {})),
        says("done"),
        tools=[make_tool("runner", auto), make_tool("by_hand", manual=True)],
    )
    session, result = api.start(engine, HI)
    assert result.halted_reason == "manual_tool_calls"
    assert session.status == "awaiting_tools"
    assert [c.id for c in session.pending_tool_calls] == ["c2"]
    assert len(auto.seen) == 1
    assert contents(session)[-1] == ("tool", "auto ran")


def test_f085_submitted_content_is_encoded_like_a_tool_result() -> None:
    session = allm.Session(
        status="awaiting_tools",
        thread=allm.Thread(tuple(HI)),
        pending_tool_calls=[allm.ToolCall(f"c{i}", "t", {}) for i in range(4)],
    )
    parts = [allm.TextPart("a part")]
    out = sessions.submit_tool_results(
        session, [("c0", [1, "two"]), ("c1", parts), ("c2", object), ("c3", None)]
    )
    tools = [m.content for m in out.thread.messages if m.role == "tool"]
    assert tools[0] == '[1,"two"]'
    assert tools[1] == (allm.TextPart("a part"),)
    assert tools[2] == repr(object)  # JSON cannot hold it: its repr
    assert tools[3] == "null"
    assert out.status == "idle"


# -- 86: unknown ids, all-or-nothing batches ---------------------------------------------------------


def test_f086_an_unknown_tool_call_id_is_a_session_error(api) -> None:
    session, _, _ = awaiting_tools(api)
    with pytest.raises(SessionError) as caught:
        sessions.submit_tool_result(session, "nope", "x")
    assert caught.value.reason == "unknown_tool_call_id"
    assert not isinstance(caught.value, SessionStateError)
    assert caught.value.metadata["pending_tool_call_ids"] == ["c1", "c2"]


def test_f086_submit_tool_results_applies_nothing_past_the_first_error(api) -> None:
    session, _, _ = awaiting_tools(api)
    before = allm.to_json(session)
    for batch in ([("c1", "ok"), ("nope", "x"), ("c2", "ok")], [("c1", "a"), ("c1", "b")]):
        with pytest.raises(SessionError) as caught:
            sessions.submit_tool_results(session, batch)
        assert caught.value.reason == "unknown_tool_call_id"
    assert allm.to_json(session) == before
    assert sessions.submit_tool_results(session, []) is session
    with pytest.raises(SessionStateError):
        sessions.submit_tool_results(allm.Session(), [("c1", "x")])
    done = sessions.submit_tool_results(session, [("c1", "1"), ("c2", "2")])
    assert done.status == "idle"
    assert contents(done)[-2:] == [("tool", "1"), ("tool", "2")]


# -- 87: resume after manual results -------------------------------------------------------------------


def test_f087_resume_after_every_result_drives_the_next_turn(api) -> None:
    session, engine, record = awaiting_tools(api)
    ready = sessions.submit_tool_results(session, [("c1", "r1"), ("c2", "r2")])
    finished, result = api.resume(engine, ready)
    assert finished.status == "completed"
    assert result.halted_reason == "completed"
    assert contents(finished)[-1] == ("assistant", "done")
    sent = record[-1][0].messages
    assert [(m.role, m.tool_call_id) for m in sent[-2:]] == [("tool", "c1"), ("tool", "c2")]


def test_f087_resume_refuses_while_calls_are_pending_or_with_a_message(api) -> None:
    session, engine, record = awaiting_tools(api)
    half = sessions.submit_tool_result(session, "c1", "r1")
    with pytest.raises(SessionStateError):
        api.resume(engine, half)
    with pytest.raises(SessionStateError):
        api.resume(engine, session, allm.user("skip the tools"))
    assert len(record) == 1
    # awaiting_tools with nothing pending breaks the status invariants: refused as invalid
    empty = allm.Session(status="awaiting_tools", thread=half.thread)
    with pytest.raises(ValidationError):
        api.resume(engine, empty)


def test_f087_resume_with_a_message_on_an_idle_session(api) -> None:
    engine = make_engine(says("hi there"))
    session, _ = api.resume(engine, allm.Session(), allm.user("hello"))
    assert contents(session) == [("user", "hello"), ("assistant", "hi there")]
    with pytest.raises(ValidationError) as caught:
        api.resume(engine, allm.Session(), "not a message")
    assert caught.value.reason == "invalid_message"


# -- 88: the error state -------------------------------------------------------------------------------


def _failed(api) -> allm.Session:
    engine = make_engine([text("partial "), error("provider_unavailable")])
    session, result = api.start(engine, allm.Session(id="s-err", thread=allm.Thread(tuple(HI))))
    assert result.halted_reason == "error"
    return session


def test_f088_a_mid_stream_error_moves_the_session_to_error(api) -> None:
    session = _failed(api)
    assert session.status == "error"
    assert isinstance(session.metadata["error"], AdapterError)
    assert session.metadata["error"].reason == "provider_unavailable"
    assert contents(session)[-1] == ("assistant", "partial ")
    allm.validate.session(session)


def test_f088_every_operation_on_an_errored_session_fails(api) -> None:
    session = _failed(api)
    engine = make_engine(says("never"))
    attempts = [
        lambda: api.start(engine, session),
        lambda: api.reply(engine, session, "hello?"),
        lambda: api.resume(engine, session),
        lambda: api.step(engine, session),
        lambda: api.open("reply", engine, session, "hello?"),
        lambda: api.open("step", engine, session),
        lambda: sessions.submit_tool_result(session, "c1", "x"),
        lambda: sessions.submit_tool_results(session, []),
    ]
    for attempt in attempts:
        with pytest.raises(SessionError) as caught:
            attempt()
        assert caught.value.reason == "session_in_error_state"
        assert not isinstance(caught.value, SessionStateError)
        assert caught.value.session_id == "s-err"
        assert caught.value.cause == session.metadata["error"]


def test_f088_a_tool_error_halt_moves_the_session_to_error(api) -> None:
    def broken(arguments: dict[str, Any]) -> Any:
        raise RuntimeError("boom")

    engine = make_engine(calls(("c1", "broken", {})), tools=[make_tool("broken", broken)])
    session, result = api.start(engine, HI, on_tool_error="halt")
    assert result.halted_reason == "tool_error"
    assert session.status == "error"
    assert session.metadata["error"] == {"halted_reason": "tool_error", "halt_tool_call_id": "c1"}


# -- 89: illegal status / operation pairs -------------------------------------------------------------


def _session_in(status: str) -> allm.Session:
    thread = allm.Thread(tuple(HI))
    if status == "awaiting_user":
        return allm.Session(
            thread=thread, status=status, pending_question="q?", pending_tool_call_id="c9"
        )
    if status == "awaiting_tools":
        return allm.Session(
            thread=thread, status=status, pending_tool_calls=[allm.ToolCall("c9", "t", {})]
        )
    return allm.Session(thread=thread, status=status)


# §17.2, with reply's and resume's arguments: "ok" or "raise"
MATRIX = {
    "idle": {"start": "ok", "reply": "ok", "resume": "ok", "step": "ok", "submit": "raise"},
    "awaiting_user": {
        "start": "raise",
        "reply": "ok",
        "resume": "raise",
        "step": "raise",
        "submit": "raise",
    },
    "awaiting_tools": {
        "start": "raise",
        "reply": "raise",
        "resume": "raise",
        "step": "raise",
        "submit": "ok",
    },
    "completed": {"start": "ok", "reply": "ok", "resume": "ok", "step": "ok", "submit": "raise"},
}


@pytest.mark.parametrize("status", list(MATRIX))
@pytest.mark.parametrize("operation", ["start", "reply", "resume", "step", "submit"])
def test_f089_the_status_table(api, status: str, operation: str) -> None:
    session = _session_in(status)
    engine = make_engine(says("ok"))
    run = {
        "start": lambda: api.start(engine, session),
        "reply": lambda: api.reply(engine, session, "hello"),
        "resume": lambda: api.resume(engine, session),
        "step": lambda: api.step(engine, session),
        "submit": lambda: (sessions.submit_tool_result(session, "c9", "r"), None),
    }[operation]
    if MATRIX[status][operation] == "ok":
        after, _ = run()
        assert after.status in ("completed", "idle")
    else:
        with pytest.raises(SessionStateError) as caught:
            run()
        assert isinstance(caught.value, ValueError)  # a programmer error
        name = "submit_tool_result" if operation == "submit" else operation
        assert caught.value.metadata["operation"] == name
        assert caught.value.metadata["status"] == status


def test_f089_streaming_forms_refuse_at_the_call(api) -> None:
    session = _session_in("awaiting_user")
    engine = make_engine(says("never"), record=(record := []))
    with pytest.raises(SessionStateError):
        api.open("step", engine, session)
    with pytest.raises(SessionStateError):
        api.open("start", engine, session)
    with pytest.raises(SessionStateError):
        api.open("resume", engine, session, None)
    assert record == []


def test_f089_an_invalid_session_is_refused_before_any_call(api) -> None:
    broken = allm.Session(status="awaiting_user", thread=allm.Thread(tuple(HI)))
    with pytest.raises(ValidationError) as caught:
        api.reply(make_engine(says("x")), broken, "hi")
    assert caught.value.reason == "invalid_session"


# -- 90: context and id reach the handlers -----------------------------------------------------------


def _context_engine(spy: Spy, **kwargs: Any) -> allm.Engine:
    return make_engine(
        calls(("c1", "probe", {})), says("ok"), tools=[make_tool("probe", spy)], **kwargs
    )


def test_f090_session_context_and_id_reach_tool_handlers(api) -> None:
    spy = Spy()
    base = allm.Session(id="s-42", thread=allm.Thread(tuple(HI)), context={"user": "ada"})
    session, _ = api.start(_context_engine(spy, context={"user": "engine"}), base)
    assert session.status == "completed"
    ctx = spy.seen[0][1]
    assert (dict(ctx.context), ctx.session_id) == ({"user": "ada"}, "s-42")


def test_f090_a_call_overrides_context_and_id(api) -> None:
    spy = Spy()
    base = allm.Session(id="s-42", thread=allm.Thread(tuple(HI)), context={"user": "ada"})
    api.start(_context_engine(spy), base, context={"user": "bob"}, session_id="other")
    ctx = spy.seen[0][1]
    assert (dict(ctx.context), ctx.session_id) == ({"user": "bob"}, "other")


def test_f090_without_a_session_context_the_engine_context_applies(api) -> None:
    spy = Spy()
    api.start(
        _context_engine(spy, context={"user": "engine"}),
        allm.Session(thread=allm.Thread(tuple(HI))),
    )
    ctx = spy.seen[0][1]
    assert (dict(ctx.context), ctx.session_id) == ({"user": "engine"}, None)


def test_f090_step_and_reply_pass_them_too(api) -> None:
    spy = Spy()
    engine = make_engine(
        calls(("c1", "probe", {})),
        calls(("c2", "probe", {})),
        says("end"),
        tools=[make_tool("probe", spy)],
    )
    base = allm.Session(id="s-7", thread=allm.Thread(tuple(HI)), context={"n": 1})
    stepped, result = api.step(engine, base)
    assert stepped.status == "idle" and result.done is False  # an auto tool turn goes on
    api.reply(engine, stepped, "go on")
    assert [(ctx.session_id, dict(ctx.context)) for _, ctx in spy.seen] == [
        ("s-7", {"n": 1}),
        ("s-7", {"n": 1}),
    ]


# -- 91: streams and StreamReducer ----------------------------------------------------------------


def test_f091_stream_reply_and_finalize_equal_reply(api) -> None:
    paused, _ = awaiting_user(api)

    def engine() -> allm.Engine:
        return make_engine([text("boo"), text("ked"), allm.providers.fake.finish("stop")])

    whole = api.reply(engine(), paused, "yes", request_id="r-1")
    events, opened, session, result = api.stream("reply", engine(), paused, "yes", request_id="r-1")
    assert (session, result) == whole
    assert isinstance(events[-1], ChatCompleted)
    assert [e.delta for e in events if isinstance(e, TextDelta)] == ["boo", "ked"]
    assert opened.status == "idle" and contents(opened)[-1] == ("user", "yes")

    # the same fold by hand, with a StreamReducer over the events
    reducer = sessions.StreamReducer(paused)
    for event in events:
        reducer.apply_event(event)
    assert reducer.done
    assert reducer.finalize() == whole


def test_f091_stream_step_with_a_step_reducer_gives_a_step_result(api) -> None:
    def engine() -> allm.Engine:
        return make_engine(says("one step"))

    base = allm.Session(thread=allm.Thread(tuple(HI)))
    whole = api.step(engine(), base, request_id="r-2")
    events, _, session, result = api.stream("step", engine(), base, request_id="r-2")
    assert isinstance(result, allm.StepResult)
    assert (session, result) == whole
    assert isinstance(events[-1], StepCompleted)
    assert session.status == "completed" and result.done

    reducer = sessions.StreamReducer(base, mode="step")
    assert not reducer.done
    for event in events:
        reducer.apply(event)
    assert reducer.finalize() == whole


def test_f091_a_stream_left_early_is_cancelled_and_keeps_the_user_message(api) -> None:
    session = allm.Session(thread=allm.Thread(tuple(HI)))
    engine = make_engine([text("a"), text("b"), allm.providers.fake.finish("stop")])
    after, result = api.stream_until(
        "reply", lambda e: isinstance(e, TextDelta), engine, session, "x"
    )
    assert result.halted_reason == "cancelled"
    assert after.status == "completed"
    assert contents(after) == [("user", "hi"), ("user", "x")]


def test_f091_a_step_stream_left_early_gives_a_cancelled_chat_result(api) -> None:
    session = allm.Session(thread=allm.Thread(tuple(HI)))
    engine = make_engine([text("a"), text("b"), allm.providers.fake.finish("stop")])
    after, result = api.stream_until("step", lambda e: isinstance(e, TextDelta), engine, session)
    assert isinstance(result, allm.ChatResult)
    assert result.halted_reason == "cancelled"
    assert contents(after) == [("user", "hi")]


def test_f091_a_stream_holds_no_session_change_until_finalize(api) -> None:
    session = allm.Session(thread=allm.Thread(tuple(HI)))
    events, opened, after, _ = api.stream("start", make_engine(says("x")), session)
    assert opened == session  # the session the run started from, untouched
    assert after.status == "completed" and len(events) > 2


def test_stream_reducer_refuses_a_bad_mode_or_session() -> None:
    with pytest.raises(allm.errors.ConfigurationError):
        sessions.StreamReducer(allm.Session(), mode="turbo")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        sessions.StreamReducer("not a session")  # type: ignore[arg-type]
    assert "mode='chat'" in repr(sessions.StreamReducer(allm.Session()))


def test_streams_show_their_mode_and_session(api) -> None:
    session = allm.Session(id="r", thread=allm.Thread(tuple(HI)))
    stream = api.open("step", make_engine(says("x")), session)
    assert "mode='step'" in repr(stream) and "'r'" in repr(stream)
    assert stream.mode == "step" and stream.request_id
    if api.is_async:
        import anyio

        anyio.run(stream.aclose)
    else:
        stream.close()
