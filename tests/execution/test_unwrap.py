"""allm.unwrap: the text of a stop response, else the folded error or NonStopFinishError (§25.1)."""

from __future__ import annotations

import pytest

import allm
from allm import AdapterError, TextPart
from allm.data import Response
from allm.errors import EngineError, NonStopFinishError, RateLimitError
from allm.providers.fake import error, finish, text, tool_call


def test_f129_unwrap_returns_the_text_of_a_stop_response(driver, fake_engine, messages) -> None:
    response = driver.generate(fake_engine([text("Hello"), finish("stop")]), messages)
    assert allm.unwrap(response) == "Hello"


def test_f129_unwrap_of_an_empty_stop_text_is_the_empty_string(
    driver, fake_engine, messages
) -> None:
    response = driver.generate(fake_engine([finish("stop")]), messages)
    assert allm.unwrap(response) == ""


def test_f129_unwrap_raises_the_folded_error(driver, fake_engine, messages) -> None:
    response = driver.generate(fake_engine([text("part"), error("rate_limited")]), messages)
    with pytest.raises(RateLimitError) as info:
        allm.unwrap(response)
    assert info.value is response.metadata["error"]
    assert info.value == AdapterError("rate_limited", provider="fake")


def test_f129_unwrap_raises_the_folded_error_on_the_non_streaming_path(
    driver, fake_engine, messages
) -> None:
    response = driver.generate(fake_engine([error("boom")]), messages, streaming=False)
    with pytest.raises(AdapterError) as info:
        allm.unwrap(response)
    assert info.value.cause == "boom"


@pytest.mark.parametrize("reason", ["length", "tool_calls", "content_filter", "other"])
def test_f129_unwrap_raises_non_stop_finish_otherwise(
    driver, fake_engine, messages, reason
) -> None:
    script = [text("cut"), tool_call(id="c1", name="f"), finish(reason)]
    response = driver.generate(fake_engine(script), messages)
    with pytest.raises(NonStopFinishError) as info:
        allm.unwrap(response)
    assert info.value.reason == "non_stop_finish"
    assert info.value.finish_reason == reason


def test_f129_unwrap_without_a_finish_reason_is_non_stop(driver, fake_engine, messages) -> None:
    response = driver.generate(fake_engine([text("x")]), messages)  # no finish entry
    assert response.finish_reason is None
    with pytest.raises(NonStopFinishError) as info:
        allm.unwrap(response)
    assert (info.value.reason, info.value.finish_reason) == ("non_stop_finish", None)


def test_f129_unwrap_of_an_error_that_is_not_an_exception() -> None:
    response = Response(finish_reason="error", metadata={"error": "opaque"})
    with pytest.raises(NonStopFinishError) as info:
        allm.unwrap(response)
    assert (info.value.finish_reason, info.value.cause) == ("error", "opaque")


def test_f129_unwrap_of_a_stop_response_without_text() -> None:
    with pytest.raises(NonStopFinishError) as info:
        allm.unwrap(Response(finish_reason="stop"))
    assert info.value.reason == "empty_stop_response"


def test_f129_unwrap_of_structured_content() -> None:
    message = allm.Message("assistant", (TextPart("a"),))
    with pytest.raises(NonStopFinishError) as info:
        allm.unwrap(Response(message=message, finish_reason="stop"))
    assert info.value.reason == "structured_content"


def test_f129_unwrap_falls_back_to_the_message_text() -> None:
    response = Response(message=allm.assistant("from message"), finish_reason="stop")
    assert allm.unwrap(response) == "from message"


# -- W1: a typed Response.error; unwrap of step and chat results ---------------------------------


def test_response_error_is_the_typed_folded_error(driver, fake_engine, messages) -> None:
    response = driver.generate(fake_engine([text("part"), error("rate_limited")]), messages)
    assert isinstance(response.error, RateLimitError)
    assert response.error is response.metadata["error"]  # kept for compatibility


def test_response_error_is_none_without_a_typed_error() -> None:
    assert Response(finish_reason="stop").error is None
    assert Response(finish_reason="error", metadata={"error": "opaque"}).error is None


def test_unwrap_of_a_step_result(fake_engine, messages) -> None:
    result = allm.step(fake_engine([text("stepped"), finish("stop")]), messages)
    assert allm.unwrap(result) == "stepped"
    failed = allm.step(fake_engine([text("x"), error("rate_limited")]), messages)
    with pytest.raises(RateLimitError):
        allm.unwrap(failed)


def test_unwrap_of_a_chat_result(fake_engine, messages) -> None:
    result = allm.chat(fake_engine([text("chatted"), finish("stop")]), messages)
    assert allm.unwrap(result) == "chatted"
    failed = allm.chat(fake_engine([text("x"), error("rate_limited")]), messages)
    assert failed.halted_reason == "error"
    with pytest.raises(RateLimitError) as info:
        allm.unwrap(failed)
    assert info.value is failed.metadata["error"]


def test_unwrap_of_a_chat_result_without_a_final_response() -> None:
    result = allm.ChatResult(thread=allm.Thread(), halted_reason="cancelled")
    with pytest.raises(NonStopFinishError) as info:
        allm.unwrap(result)
    assert (info.value.reason, info.value.finish_reason) == ("non_stop_finish", None)


def test_unwrap_of_a_chat_halted_on_an_unknown_tool_raises_it(fake_engine, messages) -> None:
    script = [tool_call(id="c1", name="f"), finish("tool_calls")]
    halted = allm.chat(fake_engine(script), messages)
    with pytest.raises(EngineError) as info:
        allm.unwrap(halted)
    assert info.value.reason == "unknown_tool"
