"""generate: the fold of stream_generate; mid-stream errors as data; retries only off-stream (§8.1)."""

from __future__ import annotations

from typing import Any

import allm
from allm import AdapterError, StreamCollector
from allm.data import Response, ToolCall, Usage
from allm.errors import AdapterTimeoutError, RateLimitError
from allm.providers.fake import (
    error,
    finish,
    reasoning,
    text,
    tool_call,
    usage,
)

SCRIPT = [
    reasoning("think"),
    text("Hello "),
    tool_call(id="c1", name="lookup", arguments={"q": "x"}),
    text("world"),
    usage(input_tokens=4, output_tokens=6),
    finish("tool_calls"),
]


# -- item 32 -------------------------------------------------------------------------------------


def test_f032_generate_equals_collect_of_stream_generate(driver, fake_engine, messages) -> None:
    generated = driver.generate(fake_engine(SCRIPT), messages, request_id="req-1")
    collected = driver.collect(fake_engine(SCRIPT), messages, request_id="req-1")
    assert generated == collected
    assert generated == Response(
        request_id="req-1",
        message=allm.Message(
            "assistant",
            "Hello world",
            tool_calls=(ToolCall("c1", "lookup", {"q": "x"}, '{"q":"x"}'),),
        ),
        output_text="Hello world",
        tool_calls=(ToolCall("c1", "lookup", {"q": "x"}, '{"q":"x"}'),),
        finish_reason="tool_calls",
        usage=Usage(input_tokens=4, output_tokens=6),
        metadata={"reasoning_blocks": ({"text": "think", "signature": None, "id": None},)},
        reasoning="think",
    )


def test_f032_generate_equals_the_fold_of_the_events(driver, fake_engine, messages) -> None:
    events = driver.events(fake_engine(SCRIPT), messages, request_id="req-2")
    folded = StreamCollector(request_id="req-2").apply_all(events).to_response()
    assert driver.generate(fake_engine(SCRIPT), messages, request_id="req-2") == folded


def test_f032_generate_ignores_stream_filters(driver, fake_engine, messages) -> None:
    plain = driver.generate(fake_engine(SCRIPT), messages, request_id="r")
    filtered = driver.generate(
        fake_engine(SCRIPT),
        messages,
        request_id="r",
        emit_text_deltas=False,
        emit_tool_deltas=False,
        include_raw_chunks=False,
    )
    assert filtered == plain


def test_f032_generate_response_has_no_provider_id_or_model(driver, fake_engine, messages) -> None:
    response = driver.generate(fake_engine([text("a")], model="m"), messages)
    assert (response.id, response.model, response.raw) == (None, None, None)


# -- item 33 -------------------------------------------------------------------------------------


def test_f033_mid_stream_error_returns_normally_with_finish_reason_error(
    driver, fake_engine, messages
) -> None:
    engine = fake_engine([text("partial"), usage(input_tokens=2), error("rate_limited")])
    response = driver.generate(engine, messages)
    assert response.finish_reason == "error"
    assert response.metadata["error"] == AdapterError("rate_limited", provider="fake")
    assert isinstance(response.error, RateLimitError)
    # What arrived before the failure is kept.
    assert response.output_text == "partial"
    assert response.usage == Usage(input_tokens=2)


def test_f033_error_then_finish_stop_keeps_finish_reason_error(
    driver, fake_engine, messages
) -> None:
    response = driver.generate(fake_engine([error("timeout"), text("x"), finish("stop")]), messages)
    assert response.finish_reason == "error"
    assert isinstance(response.metadata["error"], AdapterTimeoutError)
    assert response.output_text == "x"


def test_f033_error_with_an_unknown_term_folds_as_unknown(driver, fake_engine, messages) -> None:
    response = driver.generate(fake_engine([error("kaboom")]), messages)
    assert response.finish_reason == "error"
    assert response.metadata["error"] == AdapterError("unknown", provider="fake", cause="kaboom")


# -- item 35: retries ----------------------------------------------------------------------------


def test_f035_streaming_path_never_retries(driver, fake_engine, messages, retry_events) -> None:
    engine = fake_engine([text("ok")], retry_until_call=2)
    first = driver.generate(engine, messages)
    assert first.finish_reason == "error"
    assert first.metadata["error"].reason == "timeout"
    assert retry_events == []
    # The transient failure used up one call; the next call succeeds.
    assert driver.generate(engine, messages).text == "ok"
    assert retry_events == []


def test_f035_non_streaming_path_retries_per_the_engine_policy(
    driver, fake_engine, messages, retry_events
) -> None:
    record: list[Any] = []
    engine = fake_engine([text("finally"), finish("stop")], retry_until_call=3, record=record)
    response = driver.generate(engine, messages, streaming=False, request_id="req-r")
    assert response.text == "finally"
    assert response.finish_reason == "stop"
    assert response.request_id == "req-r"
    assert [name for name, _, _ in retry_events] == ["allm.adapter.retry"] * 2
    assert [meta["attempt"] for _, _, meta in retry_events] == [1, 2]
    assert {meta["request_id"] for _, _, meta in retry_events} == {"req-r"}
    assert {meta["reason"] for _, _, meta in retry_events} == {"timeout"}
    assert all(meta["delay_ms"] == 0 for _, _, meta in retry_events)
    assert len(record) == 1  # one call, several attempts


def test_f035_non_streaming_retry_false_makes_one_attempt(
    driver, fake_engine, messages, retry_events
) -> None:
    engine = fake_engine([text("never")], retry=False, retry_until_call=2)
    response = driver.generate(engine, messages, streaming=False)
    assert response.finish_reason == "error"
    assert isinstance(response.metadata["error"], AdapterTimeoutError)
    assert retry_events == []


def test_f035_non_streaming_gives_up_after_max_attempts(
    driver, fake_engine, messages, retry_events
) -> None:
    engine = fake_engine(
        [text("never")],
        retry={"max_attempts": 2, "base_delay_ms": 0, "jitter_ms": 0},
        retry_until_call=4,
    )
    response = driver.generate(engine, messages, streaming=False)
    assert response.finish_reason == "error"
    assert response.metadata["error"].reason == "timeout"
    assert len(retry_events) == 1  # none after the final attempt


def test_f035_non_streaming_does_not_retry_a_scripted_error(
    driver, fake_engine, messages, retry_events
) -> None:
    response = driver.generate(fake_engine([error("timeout")]), messages, streaming=False)
    assert response.finish_reason == "error"
    assert response.metadata["error"].reason == "unknown"
    assert retry_events == []


def test_non_streaming_response_matches_the_streaming_fold_for_plain_text(
    driver, fake_engine, messages
) -> None:
    script = [text("a"), text("b"), usage(input_tokens=1), finish("length")]
    whole = driver.generate(fake_engine(script), messages, streaming=False, request_id="q")
    folded = driver.generate(fake_engine(script), messages, request_id="q")
    for field in ("request_id", "output_text", "finish_reason", "usage", "message"):
        assert getattr(whole, field) == getattr(folded, field)
