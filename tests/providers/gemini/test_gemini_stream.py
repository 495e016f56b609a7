"""Gemini stream decoding beyond the transcripts: failures that keep what came before them,
unreadable bodies, event order, and closing the HTTP response exactly once on early exit."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from tests.conftest import Driver
from tests.providers.gemini.support import KEY, CountingStream
from tests.providers.wire import load

import allm
from allm.adapters.http import HttpResult
from allm.adapters.sse import SSEEvent
from allm.events import (
    ErrorEvent,
    MessageCompleted,
    MessageStarted,
    RawChunk,
    ReasoningCompleted,
    ReasoningDelta,
    TextCompleted,
    TextDelta,
    ToolCallCompleted,
    ToolCallStarted,
)
from allm.providers.gemini import THOUGHT_ID, Gemini, GeminiStreamDecoder, usage_fields

SSE_HEADERS = {"content-type": "text/event-stream"}
JSON_HEADERS = {"content-type": "application/json; charset=UTF-8"}


def data(obj: Any) -> bytes:
    return b"data: " + json.dumps(obj, separators=(",", ": ")).encode() + b"\r\n\r\n"


def text_chunk(text: str, finish: str | None = None, **extra: Any) -> dict[str, Any]:
    candidate: dict[str, Any] = {
        "content": {"parts": [{"text": text}], "role": "model"},
        "index": 0,
    }
    if finish:
        candidate["finishReason"] = finish
    return {
        "candidates": [candidate],
        "modelVersion": "gemini-2.5-flash",
        "responseId": "r-1",
        **extra,
    }


def engine_serving(
    status: int,
    headers: dict[str, str],
    chunks: list[bytes],
    streams: list[CountingStream] | None = None,
) -> allm.Engine:
    def make() -> CountingStream:
        stream = CountingStream(chunks)
        if streams is not None:
            streams.append(stream)
        return stream

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers=headers, stream=make())

    async def ahandler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers=headers, stream=make())

    return allm.Engine(
        adapter=Gemini(),
        model="gemini-2.5-flash",
        adapter_opts={
            "http_client": httpx.Client(transport=httpx.MockTransport(handler)),
            "async_http_client": httpx.AsyncClient(transport=httpx.MockTransport(ahandler)),
        },
        retry=False,
    )


def run_decoder(*payloads: Any, headers: dict[str, str] | None = None) -> list[Any]:
    decoder = GeminiStreamDecoder("gemini", "req-1")
    events = decoder.start(HttpResult(200, headers or SSE_HEADERS))
    for payload in payloads:
        text = payload if isinstance(payload, str) else json.dumps(payload)
        events.extend(decoder.feed(SSEEvent(text)))
    events.extend(decoder.finish())
    return events


# -- event order ----------------------------------------------------------------------------------


def test_thinking_then_text_then_calls_in_order() -> None:
    events = run_decoder(
        {
            "candidates": [
                {"content": {"parts": [{"text": "plan ", "thought": True}], "role": "model"}}
            ]
        },
        {
            "candidates": [
                {"content": {"parts": [{"text": "more", "thought": True}], "role": "model"}}
            ],
            "usageMetadata": {
                "promptTokenCount": 5,
                "thoughtsTokenCount": 20,
                "totalTokenCount": 25,
            },
        },
        {
            "candidates": [
                {
                    "content": {
                        "parts": [
                            {"text": "Calling."},
                            {
                                "functionCall": {"name": "f", "args": {"x": 1}},
                                "thoughtSignature": "sig-f",
                            },
                            {"functionCall": {"name": "g", "id": "wire-id"}},
                        ],
                        "role": "model",
                    },
                    "finishReason": "STOP",
                    "index": 0,
                }
            ],
            "usageMetadata": {
                "promptTokenCount": 5,
                "candidatesTokenCount": 7,
                "thoughtsTokenCount": 20,
                "totalTokenCount": 32,
            },
            "responseId": "r-9",
            "modelVersion": "gemini-2.5-pro",
        },
    )
    kinds = [type(e).__name__ for e in events]
    assert kinds == [
        "MessageStarted",
        "ReasoningDelta",
        "ReasoningDelta",
        "RawChunk",
        "ReasoningCompleted",
        "TextDelta",
        "ToolCallStarted",
        "ToolCallCompleted",
        "ToolCallStarted",
        "ToolCallCompleted",
        "RawChunk",
        "TextCompleted",
        "MessageCompleted",
    ]
    reasoning = events[4]
    assert reasoning == ReasoningCompleted("plan more", signature=None, id=THOUGHT_ID)
    f_call, g_call = events[7], events[9]
    assert isinstance(f_call, ToolCallCompleted) and isinstance(g_call, ToolCallCompleted)
    assert (f_call.arguments, f_call.raw_arguments, f_call.metadata["thought_signature"]) == (
        {"x": 1},
        '{"x":1}',
        "sig-f",
    )
    assert (g_call.id, g_call.arguments, g_call.raw_arguments, g_call.metadata) == (
        "wire-id",
        {},
        "{}",
        {},
    )
    done = events[-1]
    assert isinstance(done, MessageCompleted)
    assert done.finish_reason == "tool_calls"
    assert done.metadata["response_id"] == "r-9" and done.metadata["model"] == "gemini-2.5-pro"
    assert done.message.content == "Calling." and len(done.message.tool_calls) == 2
    assert events[-3] == RawChunk(
        (
            "usage",
            {"input_tokens": 5, "output_tokens": 27, "reasoning_tokens": 20, "total_tokens": 32},
        )
    )
    response = allm.StreamCollector().apply_all(events).to_response()
    assert response.reasoning == "plan more"
    assert response.tool_calls[1].id == "wire-id"


def test_identical_usage_is_not_repeated_and_total_falls_back_to_the_sum() -> None:
    usage = {"promptTokenCount": 3, "candidatesTokenCount": 1}
    events = run_decoder(
        text_chunk("a", usageMetadata=usage), text_chunk("b", "STOP", usageMetadata=usage)
    )
    chunks = [e for e in events if isinstance(e, RawChunk)]
    assert chunks == [
        RawChunk(("usage", {"input_tokens": 3, "output_tokens": 1, "total_tokens": 4}))
    ]
    assert usage_fields({}) == {}
    assert usage_fields(
        {"promptTokenCount": 2, "responseTokenCount": 5, "toolUsePromptTokenCount": 9}
    ) == {"input_tokens": 11, "output_tokens": 5, "total_tokens": 16}


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("STOP", "stop"),
        ("MAX_TOKENS", "length"),
        ("SAFETY", "content_filter"),
        ("RECITATION", "content_filter"),
        ("BLOCKLIST", "content_filter"),
        ("SPII", "content_filter"),
        ("PROHIBITED_CONTENT", "content_filter"),
        ("IMAGE_SAFETY", "content_filter"),
        ("MALFORMED_FUNCTION_CALL", "error"),
        ("OTHER", "other"),
        ("LANGUAGE", "content_filter"),
        ("MODEL_ARMOR", "content_filter"),
        ("IMAGE_PROHIBITED_CONTENT", "content_filter"),
        ("IMAGE_RECITATION", "content_filter"),
        ("UNEXPECTED_TOOL_CALL", "error"),
        ("TOO_MANY_TOOL_CALLS", "error"),
        ("MISSING_THOUGHT_SIGNATURE", "error"),
        ("MALFORMED_RESPONSE", "error"),
        ("IMAGE_OTHER", "other"),
        ("NO_IMAGE", "other"),
        ("FINISH_REASON_UNSPECIFIED", "other"),
        ("SOMETHING_NEW", "other"),
    ],
)
def test_finish_reasons(raw: str, normalized: str) -> None:
    events = run_decoder(text_chunk("partial", raw))
    done = events[-1]
    assert isinstance(done, MessageCompleted)
    assert done.finish_reason == normalized
    assert done.metadata["raw_finish_reason"] == raw
    assert done.message.content == "partial"


def test_only_the_first_candidate_is_read_and_other_parts_are_skipped() -> None:
    events = run_decoder(
        {
            "candidates": [
                {"content": {"parts": [{"text": "second"}]}, "index": 1},
                {
                    "content": {
                        "parts": [
                            {"inlineData": {"mimeType": "image/png", "data": "AA=="}},
                            {"text": "first"},
                        ]
                    },
                    "index": 0,
                    "finishReason": "STOP",
                },
            ]
        },
        "[DONE]",
    )
    assert [e.delta for e in events if isinstance(e, TextDelta)] == ["first"]
    assert isinstance(events[-1], MessageCompleted)


# -- failures keep what came before them ----------------------------------------------------------


def test_truncated_stream_keeps_text_reasoning_and_calls() -> None:
    events = run_decoder(
        {"candidates": [{"content": {"parts": [{"text": "hmm", "thought": True}]}}]},
        {
            "candidates": [
                {
                    "content": {
                        "parts": [{"functionCall": {"name": "f", "args": {}}}, {"text": "so"}]
                    }
                }
            ],
            "usageMetadata": {
                "promptTokenCount": 4,
                "candidatesTokenCount": 2,
                "totalTokenCount": 6,
            },
        },
    )
    assert isinstance(events[-1], ErrorEvent)
    assert events[-1].error.reason == "network_error"
    assert events[-1].error.message == "stream ended before its terminal event"
    response = allm.StreamCollector().apply_all(events).to_response()
    assert response.finish_reason == "error"
    assert response.text == "so"
    assert response.reasoning == "hmm"
    assert [c.name for c in response.tool_calls] == ["f"]
    assert response.usage.total_tokens == 6


def test_open_reasoning_is_closed_before_an_in_band_error() -> None:
    events = run_decoder(
        {
            "candidates": [{"content": {"parts": [{"text": "thinking", "thought": True}]}}],
            "responseId": "r-7",
        },
        [{"error": {"code": 500, "message": "Internal error", "status": "INTERNAL"}}],
    )
    assert isinstance(events[-2], ReasoningCompleted) and events[-2].text == "thinking"
    error = events[-1].error
    assert error.reason == "provider_unavailable"
    assert error.request_id == "r-7"  # the responseId identifies the failed call


@pytest.mark.parametrize("payload", ['{"candidates": [', "[1, 2]", '"just a string"'])
def test_unreadable_events_are_malformed(payload: str) -> None:
    events = run_decoder(text_chunk("ok"), payload, text_chunk(" never", "STOP"))
    assert isinstance(events[-1], ErrorEvent)
    assert events[-1].error.reason == "malformed_response"
    assert "".join(e.delta for e in events if isinstance(e, TextDelta)) == "ok"


def test_a_stream_answered_with_html_and_status_200(driver: Driver) -> None:
    engine = engine_serving(
        200, {"content-type": "text/html"}, [b"<html><body>Login required</body></html>"]
    )
    response = driver.generate(engine, [allm.user("hi")], api_key=KEY)
    assert response.finish_reason == "error"
    assert response.error.reason == "malformed_response"
    assert "text/html" in response.error.message


def test_an_empty_event_stream_is_truncated(driver: Driver) -> None:
    response = driver.generate(
        engine_serving(200, SSE_HEADERS, [b""]), [allm.user("hi")], api_key=KEY
    )
    assert response.error.reason == "network_error"


def test_an_oversized_sse_line_is_a_clear_error_and_keeps_earlier_text(driver: Driver) -> None:
    # A good event, then one line over the limit (the base's max_sse_line_bytes transport option).
    huge = b"data: " + b"x" * 5000
    engine = engine_serving(200, SSE_HEADERS, [data(text_chunk("kept")) + huge[:100], huge[100:]])
    response = driver.generate(engine, [allm.user("hi")], api_key=KEY, max_sse_line_bytes=4096)
    assert response.finish_reason == "error"
    assert response.error.reason == "malformed_response"
    assert response.error.provider == "gemini"
    assert "4096" in response.error.message
    assert response.text == "kept"


def test_the_default_line_limit_is_sixteen_mebibytes(driver: Driver) -> None:
    huge = b"data: " + b"x" * (16 * 1024 * 1024 + 16)
    engine = engine_serving(200, SSE_HEADERS, [data(text_chunk("kept")), huge])
    response = driver.generate(engine, [allm.user("hi")], api_key=KEY)
    assert response.error.reason == "malformed_response"
    assert response.text == "kept"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<html>oops</html>", "malformed_response"),
        (b'{"usageMetadata": {"promptTokenCount": 3}}', "malformed_response"),
        (b'{"candidates": [{"content": {}}]}', "malformed_response"),
        (
            b'{"error": {"code": 503, "message": "busy", "status": "UNAVAILABLE"}}',
            "provider_unavailable",
        ),
        (
            b'[{"error": {"code": 429, "message": "slow down", "status": "RESOURCE_EXHAUSTED"}}]',
            "rate_limited",
        ),
    ],
    ids=["html", "no-candidates", "empty-candidate", "in-band-error", "wrapped-in-band-error"],
)
def test_unreadable_or_failed_whole_bodies(driver: Driver, body: bytes, reason: str) -> None:
    engine = engine_serving(200, JSON_HEADERS, [body])
    response = driver.generate(engine, [allm.user("hi")], api_key=KEY, streaming=False)
    assert response.finish_reason == "error"
    assert response.error.reason == reason
    assert response.error.provider == "gemini"


def test_a_whole_body_without_finish_reason_keeps_its_text(driver: Driver) -> None:
    body = json.dumps(text_chunk("incomplete but whole")).encode()
    response = driver.generate(
        engine_serving(200, JSON_HEADERS, [body]), [allm.user("hi")], api_key=KEY, streaming=False
    )
    assert response.text == "incomplete but whole"
    assert response.finish_reason == "other"
    assert response.raw_finish_reason is None
    assert response.id == "r-1"


def test_transport_failure_mid_stream_keeps_text(driver: Driver) -> None:
    class Broken(httpx.SyncByteStream, httpx.AsyncByteStream):
        def __iter__(self) -> Any:
            yield data(text_chunk("before the cut"))
            raise httpx.ReadError("connection reset")

        async def __aiter__(self) -> Any:
            yield data(text_chunk("before the cut"))
            raise httpx.ReadError("connection reset")

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=SSE_HEADERS, stream=Broken())

    async def ahandler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=SSE_HEADERS, stream=Broken())

    engine = allm.Engine(
        adapter=Gemini(),
        model="gemini-2.5-flash",
        adapter_opts={
            "http_client": httpx.Client(transport=httpx.MockTransport(handler)),
            "async_http_client": httpx.AsyncClient(transport=httpx.MockTransport(ahandler)),
        },
        retry=False,
    )
    response = driver.generate(engine, [allm.user("hi")], api_key=KEY)
    assert response.text == "before the cut"
    assert response.error.reason == "network_error"


# -- early exit closes the response exactly once --------------------------------------------------


def _chunks() -> list[bytes]:
    case = load("gemini", "text_stream")
    return [case.body[i : i + 50] for i in range(0, len(case.body), 50)]


def test_break_after_the_first_event_closes_once_sync() -> None:
    streams: list[CountingStream] = []
    engine = engine_serving(200, SSE_HEADERS, _chunks(), streams)
    with allm.stream_generate(engine, [allm.user("hi")], api_key=KEY) as stream:
        for event in stream:
            assert isinstance(event, MessageStarted)
            break
        stream.close()
    assert len(streams) == 1
    assert streams[0].closes == 1
    assert streams[0].served < len(_chunks())


def test_break_after_the_first_event_closes_once_async() -> None:
    import anyio

    streams: list[CountingStream] = []
    engine = engine_serving(200, SSE_HEADERS, _chunks(), streams)

    async def run() -> None:
        async with await allm.astream_generate(engine, [allm.user("hi")], api_key=KEY) as stream:
            async for event in stream:
                assert isinstance(event, MessageStarted)
                break
            await stream.aclose()

    anyio.run(run)
    assert len(streams) == 1
    assert streams[0].closes == 1
    assert streams[0].served < len(_chunks())


def test_a_complete_stream_is_closed_once_too(driver: Driver) -> None:
    streams: list[CountingStream] = []
    events = driver.events(
        engine_serving(200, SSE_HEADERS, _chunks(), streams), [allm.user("hi")], api_key=KEY
    )
    assert isinstance(events[-1], MessageCompleted)
    assert [s.closes for s in streams] == [1]


def test_events_are_lazy_nothing_is_sent_before_the_first_pull() -> None:
    streams: list[CountingStream] = []
    stream = allm.stream_generate(
        engine_serving(200, SSE_HEADERS, _chunks(), streams), [allm.user("hi")], api_key=KEY
    )
    assert streams == []
    events = list(stream)
    assert isinstance(events[0], MessageStarted)
    assert [e for e in events if isinstance(e, TextCompleted)]
    assert not [e for e in events if isinstance(e, ToolCallStarted | ReasoningDelta)]
    assert len(streams) == 1


def test_decoder_edges() -> None:
    events = run_decoder(
        {
            "candidates": [
                {
                    "content": {
                        "parts": [{"text": "deep", "thought": True, "thoughtSignature": "sig-t"}]
                    }
                }
            ]
        },
        {"candidates": [{"content": {"parts": ["junk", {"text": "Answer"}]}, "index": 3}]},
        {
            "candidates": [
                {
                    "content": {"parts": []},
                    "finishReason": "RECITATION",
                    "finishMessage": "Recited.",
                }
            ]
        },
    )
    assert ReasoningCompleted("deep", signature="sig-t", id="gemini:thought_signature") in events
    done = events[-1]
    assert isinstance(done, MessageCompleted)
    assert done.finish_reason == "content_filter"
    assert done.metadata["finish_message"] == "Recited."
    assert done.message.metadata["reasoning_blocks"] == (
        {"text": "deep", "signature": "sig-t", "id": "gemini:thought_signature"},
    )
    decoder = GeminiStreamDecoder("gemini", "req-1")
    decoder.start(HttpResult(200, SSE_HEADERS))
    decoder.feed(SSEEvent(json.dumps(text_chunk("x", "STOP"))))
    assert decoder.done
    assert decoder.feed(SSEEvent("{}")) == []
    assert decoder.finish() == []
    assert decoder.fail(allm.AdapterError("network_error")) == []


def test_a_function_call_without_a_string_name_is_named_by_its_text() -> None:
    from allm.events import ToolCallCompleted as Completed
    from allm.providers.gemini.decode import GeminiStreamDecoder

    decoder = GeminiStreamDecoder("gemini", "req")
    parts = [{"functionCall": {"args": {"a": 1}}}, {"functionCall": {"name": 7, "args": {}}}]
    events = decoder.payload({"responseId": "r1", "candidates": [{"content": {"parts": parts}}]})
    calls = [e for e in events if isinstance(e, Completed)]
    assert [c.name for c in calls] == ["", "7"]
    assert calls[0].id != calls[1].id and all(c.metadata["synthetic_id"] for c in calls)
