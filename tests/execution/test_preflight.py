"""Pre-flight failures raise from the call itself, before any stream or I/O exists (§7 step 3)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import allm
from allm import EngineError, ValidationError
from allm.data import Request
from allm.errors import ConfigurationError
from allm.events import MessageCompleted, MessageStarted, TextDelta
from allm.providers.fake import finish, text


class SpyAdapter:
    """A streaming adapter that records every call to ``stream``."""

    name = "spy"

    def __init__(self) -> None:
        self.calls: list[Any] = []

    def stream(self, request: Any, call: Any) -> Iterator[Any]:
        self.calls.append((request, call))
        return self._events()

    def _events(self) -> Iterator[Any]:
        yield MessageStarted(allm.assistant(""))
        yield TextDelta("spy")
        yield MessageCompleted(allm.assistant("spy"), "stop")


class GenerateOnlyAdapter:
    """An adapter object with a non-streaming path and no ``stream`` method."""

    name = "generate_only"

    def generate(self, request: Any, call: Any) -> Any:  # pragma: no cover - never reached
        raise AssertionError("not called")


# -- item 26 -------------------------------------------------------------------------------------


def test_f026_no_adapter_raises_missing_adapter(open_stream, messages) -> None:
    with pytest.raises(EngineError) as info:
        open_stream(allm.Engine(), messages)
    assert info.value.reason == "missing_adapter"


def test_f026_generate_without_adapter_raises_missing_adapter(driver, messages) -> None:
    with pytest.raises(EngineError) as info:
        driver.generate(allm.Engine(model="gpt-4o"), messages)
    assert info.value.reason == "missing_adapter"


def test_f026_adapter_without_stream_raises_missing_stream_adapter(open_stream, messages) -> None:
    engine = allm.Engine(adapter=GenerateOnlyAdapter())
    with pytest.raises(EngineError) as info:
        open_stream(engine, messages)
    assert info.value.reason == "missing_stream_adapter"
    assert info.value.provider == "generate_only"


def test_f026_generate_with_adapter_without_stream_raises(driver, messages) -> None:
    with pytest.raises(EngineError) as info:
        driver.generate(allm.Engine(adapter=GenerateOnlyAdapter()), messages)
    assert info.value.reason == "missing_stream_adapter"


def test_f026_empty_messages_raise_validation_error(open_stream, fake_engine) -> None:
    with pytest.raises(ValidationError) as info:
        open_stream(fake_engine([text("a")]), [])
    assert info.value.reason == "invalid_request"
    assert (("messages",), "empty") in info.value.errors
    assert isinstance(info.value, ValueError)


def test_f026_every_problem_in_one_error_and_the_adapter_is_never_called(driver, messages) -> None:
    spy = SpyAdapter()
    engine = allm.Engine(adapter=spy)
    bad = Request(messages=(), temperature=5.0, max_tokens=0, structured_finalize=True)
    with pytest.raises(ValidationError) as info:
        driver.generate(engine, bad)
    assert set(info.value.errors) >= {
        (("messages",), "empty"),
        (("temperature",), "out_of_range"),
        (("max_tokens",), "must_be_positive"),
        (("structured_finalize",), "requires_json_schema"),
    }
    assert spy.calls == []
    # The same engine works once the request is valid.
    assert driver.generate(engine, messages).text == "spy"
    assert len(spy.calls) == 1


def test_f026_a_failed_preflight_does_not_consume_the_fake_script(
    driver, fake_engine, messages, cleanup
) -> None:
    record: list[Any] = []
    engine = fake_engine([text("kept"), finish("stop")], record=record, cleanup_observer=cleanup)
    with pytest.raises(ValidationError):
        driver.generate(engine, [])
    assert record == []
    assert cleanup.calls == 0
    assert driver.generate(engine, messages).text == "kept"


def test_f026_preflight_raises_at_the_call_not_on_iteration(fake_engine) -> None:
    # The sync call raises before returning a stream object.
    with pytest.raises(ValidationError):
        allm.stream_generate(fake_engine([text("a")]), [])


@pytest.mark.anyio
async def test_f026_async_preflight_raises_at_the_await(fake_engine) -> None:
    with pytest.raises(ValidationError):
        await allm.astream_generate(fake_engine([text("a")]), [])


def test_preflight_non_streaming_path_checks_the_same(driver, fake_engine) -> None:
    with pytest.raises(ValidationError) as info:
        driver.generate(fake_engine([text("a")]), [], streaming=False)
    assert (("messages",), "empty") in info.value.errors


def test_preflight_non_streaming_without_generate_raises(driver, messages) -> None:
    with pytest.raises(EngineError) as info:
        driver.generate(allm.Engine(adapter=SpyAdapter()), messages, streaming=False)
    assert info.value.reason == "missing_adapter"


def test_preflight_non_streaming_without_adapter_raises(driver, messages) -> None:
    with pytest.raises(EngineError) as info:
        driver.generate(allm.Engine(), messages, streaming=False)
    assert info.value.reason == "missing_adapter"


# -- bad input -----------------------------------------------------------------------------------


def test_negative_max_tokens_call_keyword_raises(driver, fake_engine, messages) -> None:
    with pytest.raises(ValidationError) as info:
        driver.generate(fake_engine([text("a")]), messages, max_tokens=-1)
    assert info.value.errors == ((("max_tokens",), "must_be_positive"),)


def test_negative_max_tokens_request_field_raises(driver, fake_engine, messages) -> None:
    with pytest.raises(ValidationError) as info:
        driver.generate(fake_engine([text("a")]), allm.request(messages, max_tokens=-5))
    assert (("max_tokens",), "must_be_positive") in info.value.errors


def test_tool_message_without_tool_call_id_raises(driver, fake_engine) -> None:
    thread = [allm.user("hi"), allm.Message("tool", "result")]
    with pytest.raises(ValidationError) as info:
        driver.generate(fake_engine([text("a")]), thread)
    assert info.value.errors == ((("messages", 1, "tool_call_id"), "required"),)


@pytest.mark.parametrize("key", ["emit_text_deltas", "emit_tool_deltas", "include_raw_chunks"])
def test_stream_option_of_the_wrong_type_raises_configuration_error(
    open_stream, fake_engine, messages, key
) -> None:
    with pytest.raises(ConfigurationError) as info:
        open_stream(fake_engine([text("a")]), messages, **{key: "yes"})
    assert info.value.reason == "invalid_option"
    assert len(info.value.problems) == 1
    assert key in info.value.problems[0]


def test_emit_text_deltas_yes_raises_from_generate(driver, fake_engine, messages) -> None:
    with pytest.raises(ConfigurationError):
        driver.generate(fake_engine([text("a")]), messages, emit_text_deltas="yes")


def test_every_bad_stream_option_is_listed(open_stream, fake_engine, messages) -> None:
    with pytest.raises(ConfigurationError) as info:
        open_stream(
            fake_engine([text("a")]),
            messages,
            emit_text_deltas="yes",
            emit_tool_deltas=1,
            on_event=42,
        )
    assert len(info.value.problems) == 3


def test_not_a_request_raises_validation_error(open_stream, fake_engine) -> None:
    with pytest.raises(ValidationError) as info:
        open_stream(fake_engine([text("a")]), "hello")
    assert info.value.errors == (((), "not_a_request"),)


def test_not_an_engine_raises_configuration_error(open_stream, messages) -> None:
    with pytest.raises(ConfigurationError):
        open_stream({"adapter": "fake"}, messages)


@pytest.mark.parametrize("request_id", ["", 42])
def test_bad_request_id_raises_configuration_error(
    driver, fake_engine, messages, request_id
) -> None:
    with pytest.raises(ConfigurationError):
        driver.generate(fake_engine([text("a")]), messages, request_id=request_id)
