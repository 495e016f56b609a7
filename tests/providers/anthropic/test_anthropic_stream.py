"""The Anthropic event stream and error handling: event grammar, structured-output lifting,
failures as data, early exit, retries, unreadable bodies, and the pure mapping helpers."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from tests.providers.anthropic.support import (
    DIRECTORY,
    STREAM_HEADERS,
    Served,
    engine_for,
    request_from_body,
    sse_body,
    text_events,
)
from tests.providers.wire import load

import allm
from allm.data.response import FinishReason
from allm.events import (
    ErrorEvent,
    MessageCompleted,
    MessageStarted,
    RawChunk,
    ReasoningCompleted,
    ReasoningDelta,
    ServerToolCallCompleted,
    TextCompleted,
    TextDelta,
    ToolCallCompleted,
    ToolCallDelta,
    ToolCallStarted,
)
from allm.providers.anthropic import classify, finish_reason_for, usage_fields

JSON_HEADERS = {"content-type": "application/json", "request-id": "req_json"}


def events_of(name: str, driver: Any, how: Any = "whole", **opts: Any) -> list[Any]:
    case = load(DIRECTORY, name)
    request, params = request_from_body(case.request["body"])
    return driver.events(engine_for(case, how), request, api_key="k", **params, **opts)


def kinds(events: list[Any]) -> list[str]:
    return [type(e).__name__ for e in events]


# -- event grammar ------------------------------------------------------------------------------


def test_text_stream_event_grammar(driver: Any) -> None:
    events = events_of("text_stream", driver)
    first = events[0]
    assert isinstance(first, MessageStarted)
    assert first.message.metadata == {
        "response_id": "msg_01mXlka1HYwCdH3yRxzE1inc",
        "model": "claude-sonnet-4-5-20250929",
        "provider_request_id": "req_011CCmtWbxp6QKtpLGPCYhcz",
    }
    assert sum(isinstance(e, MessageStarted) for e in events) == 1
    assert kinds(events)[-2:] == ["TextCompleted", "MessageCompleted"]
    assert sum(isinstance(e, TextCompleted) for e in events) == 1
    deltas = "".join(e.delta for e in events if isinstance(e, TextDelta))
    assert events[-2].text == deltas
    usage = [e.data[1] for e in events if isinstance(e, RawChunk)]
    assert usage[0]["output_tokens"] == 2  # the message_start placeholder
    assert usage[-1]["output_tokens"] == 29  # the cumulative message_delta count
    assert set(usage[-1]) <= {f for f in allm.Usage.__dataclass_fields__}
    completed = events[-1]
    assert completed.finish_reason == "stop"
    assert completed.message.content == deltas
    assert completed.metadata == {
        "response_id": "msg_01mXlka1HYwCdH3yRxzE1inc",
        "model": "claude-sonnet-4-5-20250929",
        "provider_request_id": "req_011CCmtWbxp6QKtpLGPCYhcz",
        "raw_finish_reason": "end_turn",
    }


def test_tool_events_are_keyed_by_call_id(driver: Any) -> None:
    events = events_of("parallel_tool_use_stream", driver, "bytewise")
    started = [e for e in events if isinstance(e, ToolCallStarted)]
    assert [(e.id, e.name) for e in started] == [
        ("toolu_01A9pXnV3kQz7LmB2cRt5Ywe", "get_weather"),
        ("toolu_01Hq4TzW8nMv2JdK6sPf1Xab", "get_weather"),
    ]
    deltas = [e for e in events if isinstance(e, ToolCallDelta)]
    assert {e.id for e in deltas} == {e.id for e in started}
    assert all(e.arguments_delta for e in deltas)  # the leading "" fragment is not an event
    completed = [e for e in events if isinstance(e, ToolCallCompleted)]
    assert completed[1].arguments == {"location": "Tokyo, Japan"}
    assert completed[1].raw_arguments == '{"location": "Tokyo, Japan"}'
    final = events[-1]
    assert [c.id for c in final.message.tool_calls] == [e.id for e in started]
    assert final.finish_reason == "tool_calls"


def test_thinking_streams_as_reasoning_with_its_signature(driver: Any) -> None:
    events = events_of("thinking_stream", driver)
    reasoning = [e for e in events if isinstance(e, ReasoningDelta)]
    done = [e for e in events if isinstance(e, ReasoningCompleted)]
    assert len(done) == 1
    assert done[0].text == "".join(e.delta for e in reasoning)
    assert done[0].signature == load(DIRECTORY, "thinking_stream").expect["thinking_signatures"][0]
    assert done[0].id == "thinking"
    assert all(e.delta for e in reasoning)  # the closing empty thinking_delta is dropped
    assert events[-1].message.metadata["reasoning_blocks"][0]["signature"] == done[0].signature
    assert (
        events[-1].message.content
        == "No. 1900 is not a leap year: it is divisible by 100 but not by 400."
    )
    assert not any(isinstance(e, TextDelta) and "divisible by 4" in e.delta for e in events)


def test_structured_output_stream_is_lifted_to_text(driver: Any) -> None:
    events = events_of("structured_output_stream", driver)
    assert not any(
        isinstance(e, ToolCallStarted | ToolCallDelta | ToolCallCompleted) for e in events
    )
    fragments = "".join(e.delta for e in events if isinstance(e, TextDelta))
    assert json.loads(fragments) == {"city": "Lisbon", "country": "Portugal", "population": 545000}
    text = [e for e in events if isinstance(e, TextCompleted)]
    assert text == [TextCompleted('{"city":"Lisbon","country":"Portugal","population":545000}')]
    final = events[-1]
    assert final.finish_reason == "stop"
    assert final.message.tool_calls == ()
    assert final.metadata["structured_output_tool"] is True
    assert final.metadata["raw_finish_reason"] == "tool_use"


@pytest.mark.parametrize("name", ["structured_output", "text", "tool_use"])
def test_streaming_and_non_streaming_agree(name: str, driver: Any) -> None:
    """The same answer through both paths folds to the same Response fields."""
    pairs = {
        "structured_output": ("structured_output_stream", "structured_output_nonstream"),
        "text": ("text_stream", "text_nonstream"),
        "tool_use": ("tool_use_stream_fragmented", "tool_use_nonstream"),
    }
    responses = []
    for case_name in pairs[name]:
        case = load(DIRECTORY, case_name)
        request, params = request_from_body(case.request["body"])
        responses.append(
            driver.generate(
                engine_for(case), request, api_key="k", streaming=case.expect["stream"], **params
            )
        )
    streamed, whole = responses
    assert streamed.finish_reason == whole.finish_reason
    assert set(streamed.metadata) == set(whole.metadata)
    assert whole.message is not None and whole.message.role == "assistant"
    if name == "structured_output":
        assert streamed.output_text == whole.output_text
        assert replace(streamed.usage, extra={}) == replace(whole.usage, extra={})
        assert streamed.tool_calls == whole.tool_calls == ()


def test_server_tool_blocks_are_a_server_tool_call_not_a_tool_call(driver: Any) -> None:
    events = events_of("pause_turn_stream", driver, include_raw_chunks=True)
    raw = [e.data for e in events if isinstance(e, RawChunk) and e.data[0] == "anthropic_block"]
    assert raw == []  # server_tool_use and web_search_tool_result are decoded, not skipped
    calls = [e.call for e in events if isinstance(e, ServerToolCallCompleted)]
    assert [(c.name, c.arguments) for c in calls] == [
        ("web_search", {"query": "San Francisco weather today"})
    ]
    assert not any(isinstance(e, ToolCallStarted | ToolCallDelta) for e in events)
    final = events[-1]
    assert final.finish_reason == "other"
    usage = [e.data[1] for e in events if isinstance(e, RawChunk) and e.data[0] == "usage"][-1]
    assert usage["tool_usage"] == {"web_search_requests": 1}
    assert usage["extra"]["uncached_input_tokens"] == 2479


def test_new_event_types_and_a_stream_without_message_start(driver: Any) -> None:
    body = sse_body(
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": "Hi"},
            },
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {
                    "type": "citations_delta",
                    "citation": {"type": "char_location", "cited_text": "x"},
                },
            },
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": " there"},
            },
        ),
        (
            "content_block_delta",
            {"type": "content_block_delta", "index": 0, "delta": {"type": "future_delta"}},
        ),
        ("message_annotation", {"type": "message_annotation", "note": "from the future"}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "brand_new_reason"}}),
        ("message_stop", {"type": "message_stop"}),
    )
    served = Served((200, STREAM_HEADERS, body))
    events = driver.events(served.engine(), [allm.user("Hi")], api_key="k", include_raw_chunks=True)
    assert isinstance(events[0], MessageStarted)
    assert events[0].message.metadata == {"provider_request_id": "req_test"}
    assert (
        "anthropic_event",
        "message_annotation",
        {"type": "message_annotation", "note": "from the future"},
    ) in [e.data for e in events if isinstance(e, RawChunk)]
    final = events[-1]
    assert final.message.content == "Hi there"
    assert final.finish_reason == "other"
    assert final.metadata["citations"] == ({"type": "char_location", "cited_text": "x"},)


def test_invalid_tool_json_is_kept_raw_and_flagged(driver: Any) -> None:
    body = sse_body(
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {
                    "type": "tool_use",
                    "id": "t1",
                    "name": "get_weather",
                    "input": {},
                },
            },
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "input_json_delta", "partial_json": '{"location": "Par'},
            },
        ),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 1,
                "content_block": {"type": "tool_use", "id": "t2", "name": "list", "input": {}},
            },
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 1,
                "delta": {"type": "input_json_delta", "partial_json": "[1, 2]"},
            },
        ),
        ("content_block_stop", {"type": "content_block_stop", "index": 1}),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 2,
                "content_block": {"type": "tool_use", "id": "t3", "name": "now", "input": {}},
            },
        ),
        ("content_block_stop", {"type": "content_block_stop", "index": 2}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use"}}),
        ("message_stop", {"type": "message_stop"}),
    )
    served = Served((200, STREAM_HEADERS, body))
    response = driver.generate(served.engine(), [allm.user("Hi")], api_key="k")
    first, second, third = response.tool_calls
    assert (first.arguments, first.raw_arguments) == ({}, '{"location": "Par')
    assert first.metadata["arguments_error"].startswith("invalid JSON arguments")
    assert second.metadata == {"arguments_error": "tool arguments are not a JSON object"}
    assert (third.arguments, third.raw_arguments, third.metadata) == ({}, None, {})
    assert response.finish_reason == "tool_calls"


# -- failures are data ----------------------------------------------------------------------------


def test_in_band_error_keeps_what_came_before(driver: Any) -> None:
    events = events_of("stream_overloaded_error", driver)
    assert isinstance(events[-1], ErrorEvent)
    assert not any(isinstance(e, MessageCompleted) for e in events)
    error = events[-1].error
    assert (error.reason, error.status, error.provider) == (
        "provider_unavailable",
        None,
        "anthropic",
    )
    assert error.metadata == {"anthropic_type": "overloaded_error", "in_band": True}
    assert (
        "".join(e.delta for e in events if isinstance(e, TextDelta))
        == "Photosynthesis converts light energy into"
    )


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (
            {"type": "billing_error", "message": "Your credit balance is too low."},
            "quota_exhausted",
        ),
        (
            {
                "type": "invalid_request_error",
                "message": "prompt is too long: 201000 tokens > 200000 maximum",
            },
            "context_length_exceeded",
        ),
        ({"type": "api_error", "message": "Internal server error"}, "provider_unavailable"),
        ({"type": "mystery_error", "message": "?"}, "unknown"),
        ({"message": "no type"}, "provider_unavailable"),
    ],
)
def test_in_band_error_types(error: dict[str, Any], reason: str, driver: Any) -> None:
    body = text_events("partial", complete=False) + sse_body(
        ("error", {"type": "error", "error": error, "request_id": "req_inband"})
    )
    served = Served((200, STREAM_HEADERS, body))
    response = driver.generate(served.engine(), [allm.user("Hi")], api_key="k")
    assert response.finish_reason == "error"
    assert response.output_text == "partial"
    assert response.metadata["error"].reason == reason
    assert response.metadata["error"].request_id == "req_inband"


def test_truncated_stream_is_a_network_error_not_a_short_answer(driver: Any) -> None:
    events = events_of("stream_truncated", driver, "bytewise")
    error = events[-1].error
    assert error.reason == "network_error"
    assert "terminal event" in error.message
    assert error.request_id == "req_011CTruncatedStreamZ2b"


def test_malformed_json_event_stops_the_stream(driver: Any) -> None:
    events = events_of("malformed_json_event_stream", driver)
    assert isinstance(events[-1], ErrorEvent)
    assert events[-1].error.reason == "malformed_response"
    assert "never seen" not in "".join(e.delta for e in events if isinstance(e, TextDelta))
    assert sum(isinstance(e, ErrorEvent) for e in events) == 1


def test_an_oversized_sse_line_is_a_typed_error_after_the_text(driver: Any) -> None:
    head = text_events("kept", complete=False)
    huge = b'event: content_block_delta\ndata: {"x": "' + b"a" * (16 * 1024 * 1024 + 10) + b'"}\n\n'
    served = Served((200, STREAM_HEADERS, head + huge), chunk_size=1024 * 1024)
    response = driver.generate(served.engine(), [allm.user("Hi")], api_key="k")
    assert response.finish_reason == "error"
    assert response.output_text == "kept"
    error = response.metadata["error"]
    assert (error.reason, error.provider) == ("malformed_response", "anthropic")
    assert "exceeded" in error.message


@pytest.mark.parametrize(
    ("status", "body", "content_type"),
    [
        (200, b"this is not json", "application/json"),
        (200, b"<html><body>Gateway says hi</body></html>", "text/html"),
        (200, b'{"type":"message","content":"not a list"}', "application/json"),
    ],
)
def test_unreadable_non_streaming_bodies(
    status: int, body: bytes, content_type: str, driver: Any
) -> None:
    served = Served((status, {"content-type": content_type}, body))
    response = driver.generate(served.engine(), [allm.user("Hi")], api_key="k", streaming=False)
    assert response.finish_reason == "error"
    error = response.metadata["error"]
    assert (error.reason, error.status, error.provider) == ("malformed_response", 200, "anthropic")
    assert "unreadable" in error.message


def test_html_error_page_from_a_proxy(driver: Any) -> None:
    case = load(DIRECTORY, "error_502_html_proxy")
    request, _ = request_from_body(case.request["body"])
    response = driver.generate(engine_for(case), request, api_key="k")
    error = response.metadata["error"]
    assert (error.reason, error.status) == ("malformed_response", 502)
    assert "text/html" in error.message and "502 Bad Gateway" in error.message
    assert error.request_id == response.request_id  # no request-id header: allm's own id


# -- early exit and retries -----------------------------------------------------------------------


def test_leaving_a_stream_early_closes_the_response_once() -> None:
    served = Served((200, STREAM_HEADERS, text_events("a long answer " * 50)))
    stream = allm.stream_generate(served.engine(), [allm.user("Hi")], api_key="k")
    for _event in stream:
        break
    stream.close()
    stream.close()
    assert served.closes == 1


def test_leaving_an_async_stream_early_closes_the_response_once() -> None:
    import anyio

    served = Served((200, STREAM_HEADERS, text_events("a long answer " * 50)))

    async def run() -> None:
        stream = await allm.astream_generate(served.engine(), [allm.user("Hi")], api_key="k")
        async for _event in stream:
            break
        await stream.aclose()
        await stream.aclose()

    anyio.run(run)
    assert served.closes == 1


def test_a_finished_stream_closes_its_response_once(driver: Any) -> None:
    served = Served((200, STREAM_HEADERS, text_events("done")))
    driver.generate(served.engine(), [allm.user("Hi")], api_key="k")
    assert served.closes == 1


RETRY = {"base_delay_ms": 0, "jitter_ms": 0, "max_attempts": 3}
OVERLOADED = b'{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_529"}'
SPEND = b'{"type":"error","error":{"type":"rate_limit_error","message":"limit","details":{"error_code":"enforced_spend_limit_reached"}}}'


@pytest.mark.parametrize("streaming", [True, False])
def test_529_is_retried(streaming: bool, driver: Any) -> None:
    answer = (
        text_events("recovered")
        if streaming
        else json.dumps(
            {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": "m",
                "content": [{"type": "text", "text": "recovered"}],
                "stop_reason": "end_turn",
                "usage": {"input_tokens": 1, "output_tokens": 1},
            }
        ).encode()
    )
    headers = STREAM_HEADERS if streaming else JSON_HEADERS
    served = Served((529, JSON_HEADERS, OVERLOADED), (200, headers, answer))
    response = driver.generate(
        served.engine(retry=RETRY), [allm.user("Hi")], api_key="k", streaming=streaming
    )
    assert response.output_text == "recovered"
    assert len(served.requests) == 2


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (429, SPEND, "quota_exhausted"),
        (
            401,
            b'{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}',
            "authentication_failed",
        ),
        (
            400,
            b'{"type":"error","error":{"type":"invalid_request_error","message":"bad"}}',
            "invalid_request",
        ),
    ],
)
def test_terminal_errors_are_not_retried(
    status: int, body: bytes, reason: str, driver: Any
) -> None:
    served = Served((status, JSON_HEADERS, body), (200, STREAM_HEADERS, text_events("never")))
    response = driver.generate(served.engine(retry=RETRY), [allm.user("Hi")], api_key="k")
    assert response.metadata["error"].reason == reason
    assert len(served.requests) == 1


def test_retry_after_ms_header_and_should_retry_are_read(driver: Any) -> None:
    headers = {
        **JSON_HEADERS,
        "retry-after-ms": "1500",
        "retry-after": "9",
        "x-should-retry": "false",
    }
    body = b'{"type":"error","error":{"type":"rate_limit_error","message":"slow down"},"request_id":"req_body"}'
    served = Served((429, headers, body))
    response = driver.generate(served.engine(), [allm.user("Hi")], api_key="k")
    error = response.metadata["error"]
    assert (error.reason, error.retry_after_ms, error.request_id) == (
        "rate_limited",
        1500,
        "req_body",
    )
    assert error.metadata == {"should_retry": False, "anthropic_type": "rate_limit_error"}


# -- pure helpers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "tools", "structured", "expected"),
    [
        ("end_turn", False, False, FinishReason.STOP),
        ("end_turn", True, False, FinishReason.TOOL_CALLS),
        ("stop_sequence", False, False, FinishReason.STOP),
        ("max_tokens", False, False, FinishReason.LENGTH),
        ("model_context_window_exceeded", False, False, FinishReason.LENGTH),
        ("tool_use", True, False, FinishReason.TOOL_CALLS),
        ("tool_use", False, True, FinishReason.STOP),
        ("tool_use", True, True, FinishReason.TOOL_CALLS),
        ("refusal", False, False, FinishReason.CONTENT_FILTER),
        ("pause_turn", False, False, FinishReason.OTHER),
        ("something_new", False, False, FinishReason.OTHER),
        (None, False, False, None),
    ],
)
def test_finish_reason_mapping(raw: Any, tools: bool, structured: bool, expected: Any) -> None:
    assert finish_reason_for(raw, tool_calls=tools, structured=structured) == expected


@pytest.mark.parametrize(
    ("status", "error_type", "code", "message", "reason"),
    [
        (401, "authentication_error", None, "invalid x-api-key", "authentication_failed"),
        (403, "permission_error", None, "no access", "authentication_failed"),
        (402, "billing_error", None, "pay up", "quota_exhausted"),
        (429, "rate_limit_error", None, "slow", "rate_limited"),
        (429, "rate_limit_error", "enforced_spend_limit_reached", "cap", "quota_exhausted"),
        (
            400,
            "invalid_request_error",
            None,
            "prompt is too long: 210000 tokens > 200000 maximum",
            "context_length_exceeded",
        ),
        (
            400,
            "invalid_request_error",
            None,
            "input length and `max_tokens` exceed context limit: 198000 + 8192 > 200000",
            "context_length_exceeded",
        ),
        (400, "invalid_request_error", None, "max_tokens: 100000 > 64000", "invalid_request"),
        (404, "not_found_error", None, "model: nope", "invalid_request"),
        (413, "request_too_large", None, "Request exceeds the maximum size", "invalid_request"),
        (500, "api_error", None, "oops", "provider_unavailable"),
        (504, "timeout_error", None, "slow", "provider_unavailable"),
        (529, "overloaded_error", None, "Overloaded", "provider_unavailable"),
        (409, "conflict_error", None, "conflict", "unknown"),
        (None, "overloaded_error", None, "Overloaded", "provider_unavailable"),
        (None, "rate_limit_error", None, "slow", "rate_limited"),
    ],
)
def test_error_classification(
    status: Any, error_type: str, code: Any, message: str, reason: str
) -> None:
    assert classify(status, error_type, code, message) == reason


def test_usage_fields_absent_counters_stay_none() -> None:
    assert usage_fields({"output_tokens": 3}) == {
        "input_tokens": None,
        "output_tokens": 3,
        "cached_input_tokens": None,
        "cache_write_input_tokens": None,
        "reasoning_tokens": None,
        "total_tokens": None,
        "tool_usage": {},
        "extra": {},
    }
    full = usage_fields(
        {
            "input_tokens": 3,
            "cache_creation_input_tokens": 418,
            "cache_read_input_tokens": 1111,
            "output_tokens": 56,
            "service_tier": "standard",
            "output_tokens_details": {"thinking_tokens": 9},
        }
    )
    assert (full["input_tokens"], full["total_tokens"], full["reasoning_tokens"]) == (1532, 1588, 9)
    assert full["extra"] == {"service_tier": "standard", "uncached_input_tokens": 3}


# -- odd but legal payloads -----------------------------------------------------------------------


def _block(index: int, block: Any) -> tuple[str, Any]:
    return (
        "content_block_start",
        {"type": "content_block_start", "index": index, "content_block": block},
    )


def _delta(index: int, delta: Any) -> tuple[str, Any]:
    return ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})


def _stop(index: int) -> tuple[str, Any]:
    return ("content_block_stop", {"type": "content_block_stop", "index": index})


def _end(reason: str) -> list[tuple[str, Any]]:
    return [
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": reason}}),
        ("message_stop", {"type": "message_stop"}),
    ]


def test_structured_output_cut_by_max_tokens_keeps_the_raw_json(driver: Any) -> None:
    body = sse_body(
        _block(0, {"type": "tool_use", "id": "t1", "name": "respond_with_json_city", "input": {}}),
        _delta(0, {"type": "input_json_delta", "partial_json": '{"city": "Lis'}),
        _stop(0),
        *_end("max_tokens"),
    )
    served = Served((200, STREAM_HEADERS, body))
    request = allm.request(
        [allm.user("Hi")],
        response_format=allm.json_schema("city", {"type": "object", "properties": {}}),
    )
    response = driver.generate(served.engine(), request, api_key="k")
    assert response.output_text == '{"city": "Lis'
    assert response.finish_reason == "length"
    assert response.tool_calls == ()
    assert response.metadata["structured_output_tool"] is True


def test_odd_payloads_are_tolerated(driver: Any) -> None:
    body = sse_body(
        _block(0, "not a block"),
        _block(1, {"type": "thinking", "thinking": "pre-filled", "signature": "sig-a"}),
        _delta(1, {"type": "thinking_delta", "thinking": " and more"}),
        _delta(1, "not a delta"),
        _stop(1),
        _stop(42),
        _block(2, {"type": "tool_use", "id": "t1", "name": "noop", "input": {}}),
        _delta(2, {"type": "input_json_delta", "partial_json": ""}),
        _stop(2),
        *_end("tool_use"),
    )
    served = Served((200, STREAM_HEADERS, body))
    response = driver.generate(served.engine(), [allm.user("Hi")], api_key="k")
    assert response.reasoning == "pre-filled and more"
    assert response.metadata["reasoning_blocks"] == (
        {"text": "pre-filled and more", "signature": "sig-a", "id": "thinking"},
    )
    (call,) = response.tool_calls
    assert (call.arguments, call.raw_arguments, call.metadata) == ({}, "", {})
    assert response.finish_reason == "tool_calls"


def test_in_band_error_with_a_spend_limit_code(driver: Any) -> None:
    error = {
        "type": "rate_limit_error",
        "message": "limit reached",
        "details": {"error_code": "enforced_spend_limit_reached"},
    }
    body = text_events("so far", complete=False) + sse_body(
        ("error", {"type": "error", "error": error})
    )
    served = Served((200, STREAM_HEADERS, body))
    response = driver.generate(served.engine(), [allm.user("Hi")], api_key="k")
    failure = response.metadata["error"]
    assert failure.reason == "quota_exhausted"
    assert failure.metadata["error_code"] == "enforced_spend_limit_reached"
    assert failure.request_id == "req_test"  # the request-id header, as the event has none
    assert response.output_text == "so far"


def test_non_streaming_redacted_thinking_and_odd_blocks(driver: Any) -> None:
    body = json.dumps(
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-5-20250929",
            "content": [
                "junk",
                {"type": "redacted_thinking", "data": "opaque"},
                {"type": "text", "text": "Hello", "citations": [{"type": "char_location"}]},
                {"type": "server_tool_use", "id": "srv", "name": "web_search", "input": {}},
            ],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 4, "output_tokens": 2},
        }
    ).encode()
    served = Served((200, {"content-type": "application/json"}, body))
    response = driver.generate(served.engine(), [allm.user("Hi")], api_key="k", streaming=False)
    assert response.output_text == "Hello"
    assert response.reasoning == ""
    assert response.metadata == {
        "citations": ({"type": "char_location"},),
        "reasoning_blocks": ({"text": "", "signature": "opaque", "id": "redacted_thinking"},),
    }
    assert response.tool_calls == ()
    assert response.finish_reason == "stop"
    assert response.usage.total_tokens == 6


def test_text_deltas_empty_or_not_text_are_read_as_the_general_path_reads_them() -> None:
    from allm.adapters.sse import SSEEvent
    from allm.providers.anthropic.decode import AnthropicStreamDecoder

    def delta(decoder: AnthropicStreamDecoder, value: Any) -> list[Any]:
        body = {"type": "content_block_delta", "index": 0, "delta": value}
        return decoder.feed(SSEEvent(json.dumps(body), "content_block_delta"))

    decoder = AnthropicStreamDecoder("anthropic", "req", None)
    start = {"type": "message_start", "message": {"id": "msg_1", "model": "m"}}
    assert kinds(decoder.feed(SSEEvent(json.dumps(start), "message_start"))) == ["MessageStarted"]
    assert delta(decoder, {"type": "text_delta", "text": ""}) == []
    assert delta(decoder, {"type": "text_delta", "text": 7}) == []
    assert delta(decoder, {"type": "text_delta", "text": "hi"}) == [TextDelta("hi")]
    assert delta(decoder, ["not", "an", "object"]) == []
    assert decoder.turn.text == "hi"
    # Before message_start, a delta still opens the message first.
    early = AnthropicStreamDecoder("anthropic", "req", None)
    assert kinds(delta(early, {"type": "text_delta", "text": "a"})) == [
        "MessageStarted",
        "TextDelta",
    ]
