"""The multi-turn loop and its terminal conditions (§16.4, §16.8; items 67-73)."""

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
from allm.errors import AdapterError, ConfigurationError
from allm.events import ChatCompleted, ErrorEvent, StepCompleted, TextDelta, ToolCallStarted
from allm.providers.fake import error, finish, text


def echo() -> allm.Tool:
    return make_tool("echo", lambda a: a.get("v", "none"))


def tool_turns(count: int) -> list[list[Any]]:
    return [call_turn((f"c{i}", "echo", {"v": f"r{i}"})) for i in range(count)]


def test_f067_two_script_chat_completes_in_two_steps(api) -> None:
    engine = make_engine([*tool_turns(1), text_turn("all done")], [echo()])
    result = api.chat(engine, USER)
    assert result.halted_reason == "completed"
    assert len(result.steps) == 2
    assert result.metadata == {}
    assert result.final_response is result.steps[-1].response
    assert result.text == "all done"
    assert result.pending_question is None
    assert contents(result.thread) == [
        ("user", "hi"),
        ("assistant", ""),
        ("tool", "r0"),
        ("assistant", "all done"),
    ]
    assert result.steps[0].done is False
    assert result.steps[1].done is True
    assert result.steps[0].thread == allm.Thread(result.thread.messages[:3])


def test_f067_each_step_sees_the_previous_thread(api) -> None:
    record: list[Any] = []
    engine = make_engine([*tool_turns(1), text_turn()], [echo()], record=record)
    api.chat(engine, USER)
    assert [len(request.messages) for request, _ in record] == [1, 3]
    assert record[1][0].messages[-1].content == "r0"


def test_f068_max_turns_defaults_to_8(api) -> None:
    record: list[Any] = []
    engine = make_engine(tool_turns(10), [echo()], record=record)
    result = api.chat(engine, USER)
    assert result.halted_reason == "max_turns"
    assert len(result.steps) == 8
    assert result.metadata == {"max_turns": 8}
    assert len(record) == 8


def test_f068_max_turns_from_engine_params(api) -> None:
    engine = make_engine(tool_turns(5), [echo()], params={"max_turns": 2})
    result = api.chat(engine, USER)
    assert (result.halted_reason, len(result.steps)) == ("max_turns", 2)


def test_f068_call_option_wins_over_engine_params(api) -> None:
    engine = make_engine(tool_turns(5), [echo()], params={"max_turns": 2})
    result = api.chat(engine, USER, max_turns=3)
    assert (result.halted_reason, len(result.steps)) == ("max_turns", 3)
    assert result.metadata == {"max_turns": 3}


def test_f068_max_turns_from_config(api) -> None:
    allm.configure(max_turns=4)
    result = api.chat(make_engine(tool_turns(6), [echo()]), USER)
    assert (result.halted_reason, len(result.steps)) == ("max_turns", 4)
    engine = make_engine(tool_turns(6), [echo()], params={"max_turns": 1})
    assert len(api.chat(engine, USER).steps) == 1  # engine params beat config


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "3"])
def test_f068_non_positive_max_turns_raises_before_any_call(api, bad: Any) -> None:
    record: list[Any] = []
    engine = make_engine(tool_turns(2), [echo()], record=record)
    with pytest.raises(ConfigurationError) as caught:
        api.chat(engine, USER, max_turns=bad)
    assert caught.value.reason == "invalid_option"
    assert any("max_turns" in problem for problem in caught.value.problems)
    with pytest.raises(ConfigurationError):
        api.collect(engine, USER, max_turns=bad)
    assert record == []


def test_f069_max_turns_during_tool_turns(api) -> None:
    result = api.chat(make_engine(tool_turns(3), [echo()]), USER, max_turns=2)
    assert result.halted_reason == "max_turns"
    assert result.metadata == {"max_turns": 2}
    assert len(result.steps) == 2
    # Every message so far is kept, ending with the last tool result.
    assert contents(result.thread)[-1] == ("tool", "r1")
    assert len(result.thread.messages) == 5


def test_f069_max_turns_1_with_a_final_text_is_completed(api) -> None:
    result = api.chat(make_engine([text_turn("hi")]), USER, max_turns=1)
    assert result.halted_reason == "completed"


def test_f070_halt_when_true_halts(api) -> None:
    seen: list[allm.StepResult] = []

    def halt_when(result: allm.StepResult) -> bool:
        seen.append(result)
        return len(seen) == 2

    result = api.chat(make_engine(tool_turns(4), [echo()]), USER, halt_when=halt_when)
    assert result.halted_reason == "halt_when"
    assert result.metadata == {"halt_when_step_index": 1}
    assert len(result.steps) == 2
    # It runs after the thread mutation: the step it sees holds its tool message.
    assert seen[1].thread.messages[-1].content == "r1"
    assert seen == list(result.steps)


@pytest.mark.parametrize("reason", ["stop", "length", "content_filter"])
def test_f070_halt_when_not_consulted_for_final_finishes(api, reason: str) -> None:
    seen: list[Any] = []
    engine = make_engine([*tool_turns(1), [text("x"), finish(reason)]], [echo()])
    result = api.chat(engine, USER, halt_when=lambda r: seen.append(r) or True)
    assert len(seen) == 1  # only the tool turn was offered to it
    assert result.halted_reason == "halt_when"
    seen.clear()
    engine = make_engine([[text("x"), finish(reason)]], [echo()])
    result = api.chat(engine, USER, halt_when=lambda r: seen.append(r) or True)
    assert seen == []
    assert result.halted_reason == "completed"


def test_f070_halt_when_not_consulted_for_error_finishes(api) -> None:
    seen: list[Any] = []
    engine = make_engine([[text("x"), error("rate_limited"), finish("stop")]])
    result = api.chat(engine, USER, halt_when=lambda r: seen.append(r) or True)
    assert seen == []
    assert result.halted_reason == "error"


def test_f070_halt_when_consulted_for_an_other_finish(api) -> None:
    engine = make_engine([[text("paused"), finish("other")], text_turn()])
    result = api.chat(engine, USER, halt_when=lambda r: True)
    assert result.halted_reason == "halt_when"
    result = api.chat(make_engine([[text("paused"), finish("other")], text_turn("fin")]), USER)
    assert (result.halted_reason, result.text, len(result.steps)) == ("completed", "fin", 2)


def test_f070_halt_when_exceptions_propagate(api) -> None:
    class Stop(Exception):
        pass

    def halt_when(result: allm.StepResult) -> bool:
        raise Stop

    with pytest.raises(Stop):
        api.chat(make_engine(tool_turns(2), [echo()]), USER, halt_when=halt_when)


def test_f070_halt_when_must_be_callable(api) -> None:
    with pytest.raises(ConfigurationError):
        api.chat(make_engine(tool_turns(1), [echo()]), USER, halt_when=True)


@pytest.mark.parametrize("reason", ["length", "content_filter"])
def test_f071_length_and_content_filter_complete(api, reason: str) -> None:
    result = api.chat(make_engine([[text("cut"), finish(reason)]]), USER)
    assert result.halted_reason == "completed"
    assert result.final_response.finish_reason == reason
    assert result.metadata == {}


def test_f071_error_finish_yields_error_with_metadata(api) -> None:
    engine = make_engine([*tool_turns(1), [text("par"), error("provider_unavailable")]], [echo()])
    result = api.chat(engine, USER)
    assert result.halted_reason == "error"
    assert isinstance(result.metadata["error"], AdapterError)
    assert result.metadata["error"].reason == "provider_unavailable"
    assert result.final_response.finish_reason == "error"
    assert len(result.steps) == 2
    # The thread keeps everything, including the partial assistant text of the failed turn.
    assert contents(result.thread)[-1] == ("assistant", "par")


def test_f071_later_step_preflight_failure_is_an_error_result(api) -> None:
    # The script runs out after one tool turn: the second call fails before its stream exists.
    engine = make_engine(tool_turns(1), [echo()])
    result = api.chat(engine, USER, request_id="r71")
    assert result.halted_reason == "error"
    assert result.metadata["error"].reason == "no_scripted_response"
    assert len(result.steps) == 1
    assert contents(result.thread)[-1] == ("tool", "r0")
    events = api.stream(make_engine(tool_turns(1), [echo()]), USER, request_id="r71")
    assert kinds(events)[-2:] == ["error", "chat_completed"]
    assert events[-1].result == result


def test_f071_first_step_preflight_failure_raises(api) -> None:
    engine = allm.Engine(adapter="fake", adapter_opts={})
    with pytest.raises(AdapterError) as caught:
        api.chat(engine, USER)
    assert caught.value.reason == "no_scripted_response"


def test_f072_chat_equals_collected_stream(api) -> None:
    def scripts() -> list[list[Any]]:
        return [*tool_turns(2), [text("fi"), text("n"), finish("stop")]]

    direct = api.chat(make_engine(scripts(), [echo()]), USER, request_id="r72")
    folded = api.collect(make_engine(scripts(), [echo()]), USER, request_id="r72")
    assert direct == folded
    events = api.stream(make_engine(scripts(), [echo()]), USER, request_id="r72")
    assert [len(ids) for ids in check_chat_grammar(events)] == [1, 1, 0]
    assert kinds(events).count("chat_completed") == 1
    assert isinstance(events[-1], ChatCompleted)
    assert events[-1].result == direct
    assert len(of_type(events, StepCompleted)) == 3


def test_f072_request_id_on_every_response(api) -> None:
    result = api.chat(make_engine([*tool_turns(1), text_turn()], [echo()]), USER, request_id="q")
    assert [step.response.request_id for step in result.steps] == ["q", "q"]


def test_f073_early_exit_gives_a_cancelled_fallback(api, counter) -> None:
    engine = make_engine([*tool_turns(1), text_turn()], [echo()], cleanup_observer=counter)
    events = api.stream_until(engine, USER, lambda event: isinstance(event, ToolCallStarted))
    assert counter.calls == 1  # the abandoned adapter stream cleaned up, once
    assert "chat_completed" not in kinds(events)
    collector = allm.StreamCollector(allm.Thread(tuple(USER)))
    collector.apply_all(events)
    fallback = collector.to_chat_result()
    assert fallback.halted_reason == "cancelled"
    assert fallback.steps == ()
    assert fallback.thread == allm.Thread(tuple(USER))


def test_f073_early_exit_after_a_step(api, counter) -> None:
    engine = make_engine([*tool_turns(2), text_turn()], [echo()], cleanup_observer=counter)
    events = api.stream_until(engine, USER, lambda event: isinstance(event, StepCompleted))
    assert counter.calls == 1  # only one adapter stream was ever opened
    collector = allm.StreamCollector(allm.Thread(tuple(USER)))
    collector.apply_all(events)
    fallback = collector.to_chat_result()
    assert fallback.halted_reason == "cancelled"
    assert len(fallback.steps) == 1
    assert fallback.final_response == fallback.steps[0].response
    assert contents(fallback.thread)[-1] == ("tool", "r0")


def test_f073_early_exit_mid_text(api, counter) -> None:
    engine = make_engine([[text("a"), text("b"), finish("stop")]], cleanup_observer=counter)
    events = api.stream_until(engine, USER, lambda event: isinstance(event, TextDelta))
    assert counter.calls == 1
    collector = allm.StreamCollector(allm.Thread(tuple(USER)))
    collector.apply_all(events)
    assert collector.to_chat_result().halted_reason == "cancelled"
    assert collector.to_chat_result().final_response.output_text == "a"


def test_f073_full_stream_cleans_up_once_per_call(api, counter) -> None:
    engine = make_engine([*tool_turns(1), text_turn()], [echo()], cleanup_observer=counter)
    events = api.stream(engine, USER)
    assert counter.calls == 2
    assert not of_type(events, ErrorEvent)
