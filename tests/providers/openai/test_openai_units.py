"""The decoders, parsers and builders called directly, for the shapes a transcript rarely shows:
odd payloads, missing fields, bodies that are not what was asked for."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.providers.openai.support import Server

import allm
from allm.adapters import Call
from allm.adapters.http import HttpResult
from allm.adapters.sse import SSEEvent
from allm.data.messages import Message, TextPart
from allm.events import (
    ErrorEvent,
    MessageCompleted,
    MessageStarted,
    RawChunk,
    ReasoningDelta,
    TextDelta,
    ToolCallCompleted,
    ToolCallStarted,
)
from allm.providers.openai import (
    ChatStreamDecoder,
    OpenAI,
    OpenAICompatible,
    chat_usage,
    classify_http_error,
    finish_reason_for,
    go_duration_ms,
    parse_arguments,
)
from allm.providers.openai_responses import (
    ResponsesStreamDecoder,
    build_body,
    finish_of,
    parse_body,
    reasoning_items,
)

SSE = {"content-type": "text/event-stream"}
JSON = {"content-type": "application/json"}


def call(**fields: Any) -> Call:
    return Call("req-u", allm.Engine(adapter=OpenAI()), **fields)


def started(decoder: Any, headers: dict[str, str] | None = None) -> list[Any]:
    return decoder.start(HttpResult(200, {**SSE, **(headers or {})}, b"", 1))


def feed(decoder: Any, *payloads: Any, kind: str = "message") -> list[Any]:
    out: list[Any] = []
    for payload in payloads:
        data = payload if isinstance(payload, str) else json.dumps(payload)
        out += decoder.feed(SSEEvent(data, kind))
    return out


# -- Chat Completions decoder --------------------------------------------------------------------------


def test_a_decoding_bug_becomes_a_malformed_response_not_an_exception(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    decoder = ChatStreamDecoder("openai", call())
    started(decoder)

    def broken(event: SSEEvent) -> list[Any]:
        raise TypeError("unexpected")

    monkeypatch.setattr(decoder, "handle", broken)
    [error] = feed(decoder, {"x": 1})
    assert isinstance(error, ErrorEvent) and error.error.reason == "malformed_response"
    assert decoder.done and feed(decoder, {"x": 2}) == []


def test_after_done_nothing_more_is_emitted() -> None:
    decoder = ChatStreamDecoder("openai", call())
    started(decoder)
    feed(decoder, {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    assert isinstance(feed(decoder, "[DONE]")[-1], MessageCompleted)
    assert decoder.finish() == []


def test_tool_calls_without_names_and_odd_fragments() -> None:
    decoder = ChatStreamDecoder("openai", call())
    started(decoder)
    found = feed(
        decoder,
        {"choices": [{"index": 0, "delta": {"tool_calls": ["junk", {"index": 0, "id": "c1"}]}}]},
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]},
                }
            ]
        },
        "[DONE]",
    )
    starts = [e for e in found if isinstance(e, ToolCallStarted)]
    completed = [e for e in found if isinstance(e, ToolCallCompleted)]
    assert [(e.id, e.name) for e in starts] == [("c1", "")]
    assert [(e.id, e.arguments, e.raw_arguments) for e in completed] == [("c1", {}, "{}")]


def test_reasoning_deltas_from_compatible_servers() -> None:
    decoder = ChatStreamDecoder("openai_compatible", call(), lenient=True)
    started(decoder)
    found = feed(
        decoder,
        {"choices": [{"index": 0, "delta": {"reasoning": "hmm"}}]},
        {"choices": [{"index": 0, "delta": {"reasoning_content": " ok", "content": "A"}}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "eos"}]},
    )
    assert [e.delta for e in found if isinstance(e, ReasoningDelta)] == ["hmm", " ok"]
    events = decoder.finish()
    final = events[-1]
    assert final.finish_reason == "other" and final.metadata["raw_finish_reason"] == "eos"
    assert allm.StreamCollector().apply_all(found + events).to_response().reasoning == "hmm ok"


def test_a_json_body_on_a_stream_that_is_not_an_object_or_not_a_completion() -> None:
    decoder = ChatStreamDecoder("openai", call())
    decoder.start(HttpResult(200, JSON, b"", 1))
    assert decoder.raw_body
    [error] = decoder.finish_body(b"[1, 2]")
    assert error.error.reason == "malformed_response" and "application/json" in error.error.message
    decoder = ChatStreamDecoder("openai", call())
    decoder.start(HttpResult(200, JSON, b"", 1))
    [error] = decoder.finish_body(b'{"id": "x", "choices": []}')
    assert error.error.reason == "malformed_response" and "no choices" in error.error.message


def test_a_chat_json_body_with_text_becomes_text_events() -> None:
    body = {
        "id": "c",
        "model": "m",
        "choices": [
            {"index": 0, "message": {"content": "Hello", "refusal": None}, "finish_reason": "stop"}
        ],
    }
    server = Server((200, JSON, [json.dumps(body).encode()]))
    engine = allm.Engine(adapter=OpenAI(), model="gpt-4o", adapter_opts=server.opts(), retry=False)
    found = list(allm.stream_generate(engine, [allm.user("hi")], api_key="k"))
    assert [type(e).__name__ for e in found] == [
        "MessageStarted",
        "TextCompleted",
        "MessageCompleted",
    ]
    assert found[-1].metadata["response_id"] == "c" and found[-1].finish_reason == "stop"


def test_a_non_event_stream_body_over_the_limit_is_refused() -> None:
    server = Server((200, {"content-type": "text/html"}, [b"<html>" + b"x" * 600, b"y" * 600]))
    engine = allm.Engine(
        adapter=OpenAI(max_line_bytes=1000), model="gpt-4o", adapter_opts=server.opts(), retry=False
    )
    response = allm.generate(engine, [allm.user("hi")], api_key="k")
    error = response.metadata["error"]
    assert error.reason == "malformed_response" and "1000 bytes" in error.message
    assert server.counter["closed"] == 1


# -- Chat Completions whole bodies ----------------------------------------------------------------------


def generate_whole(
    body: Any, *, model: str = "gpt-4o", status: int = 200, **headers: str
) -> allm.Response:
    server = Server((status, {**JSON, **headers}, [json.dumps(body).encode()]))
    engine = allm.Engine(adapter=OpenAI(), model=model, adapter_opts=server.opts(), retry=False)
    return allm.generate(engine, [allm.user("hi")], streaming=False, api_key="k")


def test_whole_chat_bodies_with_part_lists_refusals_and_legacy_function_calls() -> None:
    response = generate_whole(
        {
            "id": "c1",
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "content": [
                            {"type": "text", "text": "A"},
                            {"type": "image"},
                            "x",
                            {"type": "text", "text": "B"},
                        ],
                        "tool_calls": ["junk"],
                        "function_call": {"name": "legacy", "arguments": '{"v":1}'},
                    },
                    "finish_reason": "function_call",
                }
            ],
        }
    )
    assert response.text == "AB"
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == [
        ("call_0", "legacy", {"v": 1})
    ]
    assert (response.finish_reason, response.raw_finish_reason) == ("tool_calls", "function_call")
    refused = generate_whole(
        {"choices": [{"message": {"content": None, "refusal": "No."}, "finish_reason": "stop"}]}
    )
    assert refused.finish_reason == "content_filter"
    assert refused.metadata["refusal"] == "No." and refused.message.metadata == {"refusal": "No."}


def test_an_error_document_with_status_200_is_an_error() -> None:
    response = generate_whole(
        {"error": {"message": "overloaded", "type": "server_error"}}, **{"x-request-id": "req_9"}
    )
    error = response.metadata["error"]
    assert (error.reason, error.request_id, error.status) == ("provider_unavailable", "req_9", None)
    response = generate_whole(
        {"error": {"message": "nope", "code": "invalid_prompt"}}, model="gpt-5"
    )
    assert response.metadata["error"].reason == "invalid_request"


def test_an_error_status_with_an_unknown_json_shape_is_unreadable() -> None:
    result = HttpResult(500, JSON, b'{"status": "down"}')
    error = classify_http_error("openai", result, call())
    assert (error.reason, error.status) == ("malformed_response", 500)
    assert error.metadata["body_unreadable"] is True


# -- usage, finish, arguments -----------------------------------------------------------------------------


def test_chat_usage_with_missing_and_extra_counters() -> None:
    usage = chat_usage(
        {
            "prompt_tokens": 10,
            "prompt_tokens_details": {
                "cached_tokens": 4,
                "cache_write_tokens": 2,
                "audio_tokens": 1,
            },
            "completion_tokens_details": {"reasoning_tokens": 3, "accepted_prediction_tokens": 5},
            "prompt_cache_hit_tokens": 4,
            "note": "text",
        }
    )
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (10, None, None)
    assert (usage.cached_input_tokens, usage.cache_write_input_tokens, usage.reasoning_tokens) == (
        4,
        2,
        3,
    )
    assert usage.extra == {
        "prompt_cache_hit_tokens": 4,
        "prompt_audio_tokens": 1,
        "completion_accepted_prediction_tokens": 5,
    }


@pytest.mark.parametrize(
    ("raw", "calls", "refusal", "expected"),
    [
        (None, False, False, "stop"),
        (None, True, False, "tool_calls"),
        ("stop", True, True, "content_filter"),
        ("length", True, False, "length"),
        ("content_filter", False, False, "content_filter"),
        ("abort", False, False, "other"),
    ],
)
def test_chat_finish_reasons(raw: str | None, calls: bool, refusal: bool, expected: str) -> None:
    assert finish_reason_for(raw, tool_calls=calls, refusal=refusal) == expected


def test_arguments_and_durations_edge_cases() -> None:
    assert parse_arguments("   ") == {}
    assert parse_arguments("[1]") == {}
    assert go_duration_ms("x5s") is None


# -- Responses -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "reason", "calls", "refusal", "finish", "raw"),
    [
        ("completed", None, False, False, "stop", "completed"),
        (None, None, True, False, "tool_calls", None),
        ("incomplete", "max_output_tokens", False, False, "length", "incomplete:max_output_tokens"),
        (
            "incomplete",
            "content_filter",
            False,
            False,
            "content_filter",
            "incomplete:content_filter",
        ),
        ("incomplete", "turn_limit", False, False, "other", "incomplete:turn_limit"),
        ("incomplete", None, False, False, "other", "incomplete"),
        ("failed", None, False, False, "error", "failed"),
        ("cancelled", None, False, False, "error", "cancelled"),
        ("in_progress", None, False, False, None, "in_progress"),
        ("paused", None, False, False, "other", "paused"),
    ],
)
def test_responses_finish_derivation(
    status: str | None,
    reason: str | None,
    calls: bool,
    refusal: bool,
    finish: str | None,
    raw: str | None,
) -> None:
    assert finish_of(status, reason, tool_calls=calls, refusal=refusal) == (finish, raw)


def test_whole_responses_bodies_with_refusals_odd_items_and_incomplete_reasons() -> None:
    body = {
        "id": "resp_1",
        "object": "response",
        "status": "incomplete",
        "incomplete_details": {"reason": "content_filter"},
        "model": "gpt-4.1",
        "output": [
            "junk",
            {"type": "web_search_call", "id": "ws_1", "status": "completed"},
            {
                "type": "message",
                "content": [
                    "junk",
                    {"type": "output_text", "text": "Part"},
                    {"type": "refusal", "refusal": "No more."},
                ],
            },
            {
                "type": "reasoning",
                "id": "rs_1",
                "summary": [],
                "content": [{"type": "reasoning_text", "text": "raw"}],
            },
        ],
        "usage": {
            "input_tokens": 5,
            "output_tokens": 2,
            "total_tokens": 7,
            "input_tokens_details": None,
        },
    }
    response = parse_body(body, "openai", call(), "req_1")
    assert (response.finish_reason, response.raw_finish_reason) == (
        "content_filter",
        "incomplete:content_filter",
    )
    assert response.text == "Part" and response.reasoning == "raw"
    assert response.metadata == {
        "provider_request_id": "req_1",
        "refusal": "No more.",
        "incomplete_reason": "content_filter",
        "reasoning_blocks": ({"text": "raw", "signature": None, "id": "rs_1"},),
    }
    assert response.usage.total_tokens == 7 and response.usage.cached_input_tokens is None


def test_a_cancelled_response_without_an_error_object_is_still_an_error() -> None:
    with pytest.raises(allm.AdapterError) as info:
        parse_body({"id": "r", "status": "cancelled", "error": None}, "openai", call(), None)
    assert info.value.metadata["openai_code"] == "cancelled"
    assert "cancelled" in info.value.message


def responses_decoder() -> ResponsesStreamDecoder:
    decoder = ResponsesStreamDecoder("openai", call())
    started(decoder, {"x-request-id": "req_s"})
    return decoder


def test_responses_decoder_skips_empty_deltas_and_tracks_items_by_index() -> None:
    decoder = responses_decoder()
    found = feed(
        decoder,
        {"type": "response.output_text.delta", "delta": ""},
        {"type": "response.reasoning_summary_text.delta", "delta": ""},
        {"type": "response.refusal.delta", "delta": ""},
        {"type": "response.output_item.added", "item": {"type": "function_call", "name": "f"}},
        {
            "type": "response.output_item.added",
            "output_index": 3,
            "item": {"type": "function_call", "id": "fc_3", "call_id": "call_3", "name": "g"},
        },
        {"type": "response.function_call_arguments.delta", "output_index": 3, "delta": '{"z":'},
        {"type": "response.function_call_arguments.delta", "item_id": "fc_3", "delta": "0}"},
        {"type": "response.function_call_arguments.delta", "item_id": "fc_3", "delta": ""},
        {"type": "response.output_item.done", "item": {"type": "message"}},
        {
            "type": "response.completed",
            "response": {"status": "completed", "output": [], "usage": None},
        },
    )
    assert not [e for e in found if isinstance(e, TextDelta | ReasoningDelta)]
    final = found[-1]
    assert [(c.id, c.name, c.arguments) for c in final.message.tool_calls] == [
        ("item_None", "f", {}),
        ("call_3", "g", {"z": 0}),
    ]
    assert final.metadata["provider_request_id"] == "req_s"


def test_responses_decoder_failures() -> None:
    decoder = responses_decoder()
    [error] = feed(decoder, "[1, 2]")
    assert error.error.reason == "malformed_response"
    decoder = responses_decoder()
    found = feed(
        decoder,
        {
            "type": "response.failed",
            "response": {
                "id": "r",
                "status": "failed",
                "error": None,
                "usage": {"input_tokens": 9, "output_tokens": 0},
            },
        },
    )
    assert isinstance(found[0], RawChunk) and found[0].data[1]["input_tokens"] == 9
    assert found[1].error.request_id == "req_s"
    assert found[1].error.metadata["response_id"] == "r"
    decoder = responses_decoder()
    [error] = feed(
        decoder, {"type": "error", "message": "flat", "code": "server_error"}, kind="error"
    )
    assert (error.error.reason, error.error.message) == ("provider_unavailable", "flat")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"not json", "malformed_response"),
        (b'"a string"', "malformed_response"),
        (b'{"error": {"message": "m", "code": "rate_limit_exceeded"}}', "rate_limited"),
        (
            b'{"object": "response", "status": "failed", "error": {"code": "server_error", "message": "x"}}',
            "provider_unavailable",
        ),
    ],
)
def test_responses_whole_bodies_on_a_stream(body: bytes, expected: str) -> None:
    decoder = ResponsesStreamDecoder("openai", call())
    assert isinstance(decoder.start(HttpResult(200, JSON, b"", 1))[0], MessageStarted)
    [*_, error] = decoder.finish_body(body)
    assert isinstance(error, ErrorEvent) and error.error.reason == expected


def test_responses_body_for_assistant_text_with_calls_and_odd_reasoning_blocks() -> None:
    blocks = ["junk", {"id": 5}, {"id": "rs_1", "text": "t", "signature": ""}]
    call_1 = allm.ToolCall("call_1", "f", {}, "{}", {"item_id": "not-an-fc"})
    turn = Message(
        "assistant",
        [TextPart("Checking.")],
        tool_calls=(call_1,),
        metadata={"reasoning_blocks": blocks},
    )
    request = allm.request([allm.user("q"), turn, allm.tool_result("call_1", "r")], model="gpt-5")
    body = build_body(request, call(), stream=False)
    assert body["input"][1:4] == [
        {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "t"}]},
        {"role": "assistant", "content": "Checking."},
        {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"},
    ]
    assert (
        reasoning_items(Message("assistant", "", metadata={"reasoning_blocks": "bad"}), stored=True)
        == []
    )


def test_a_name_and_plain_assistant_turns_on_chat() -> None:
    server = Server(
        (
            200,
            SSE,
            [
                b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'
            ],
        )
    )
    engine = allm.Engine(adapter=OpenAI(), model="gpt-4o", adapter_opts=server.opts(), retry=False)
    messages = [
        allm.system([TextPart("a"), TextPart("b")]),
        Message("user", "hi", name="ana"),
        Message("assistant", "hello"),
        allm.user("again"),
    ]
    request = allm.request(messages, response_format={"type": "text"})
    allm.generate(engine, request, api_key="k")
    body = server.body()
    assert body["messages"] == [
        {"role": "system", "content": "a\nb"},
        {"role": "user", "content": "hi", "name": "ana"},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "again"},
    ]
    assert "response_format" not in body


def test_a_nested_json_schema_format_passes_through_with_its_description() -> None:
    server = Server(
        (
            200,
            SSE,
            [
                b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'
            ],
        )
    )
    engine = allm.Engine(adapter=OpenAI(), model="gpt-4o", adapter_opts=server.opts(), retry=False)
    nested = {
        "type": "json_schema",
        "name": "n",
        "schema": {"type": "object"},
        "json_schema": {"name": "n", "schema": {"type": "object"}, "description": "d"},
    }
    allm.generate(engine, allm.request([allm.user("hi")], response_format=nested), api_key="k")
    assert server.body()["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "n", "schema": {"type": "object"}, "description": "d"},
    }


def test_compatible_organization_and_project_headers() -> None:
    server = Server(
        (200, SSE, [b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n'])
    )
    adapter = OpenAICompatible(base_url="http://x/v1", organization="o", project="p")
    engine = allm.Engine(adapter=adapter, model="m", adapter_opts=server.opts(), retry=False)
    assert allm.generate(engine, [allm.user("hi")]).finish_reason == "stop"
    headers = server.requests[0].headers
    assert (headers["openai-organization"], headers["openai-project"]) == ("o", "p")
    assert "authorization" not in headers


def test_plain_assistant_turns_on_responses() -> None:
    request = allm.request(
        [allm.user("q"), Message("assistant", "a"), allm.user("r")], model="gpt-5"
    )
    assert build_body(request, call(), stream=True)["input"][1] == {
        "role": "assistant",
        "content": "a",
    }


def test_max_line_bytes_as_a_call_keyword_is_read_and_never_sent() -> None:
    big = b'data: {"choices":[{"index":0,"delta":{"content":"' + b"x" * 3000 + b'"}}]}\n\n'
    server = Server((200, SSE, [big, b"data: [DONE]\n\n"]))
    engine = allm.Engine(adapter=OpenAI(), model="gpt-4o", adapter_opts=server.opts(), retry=False)
    response = allm.generate(engine, [allm.user("hi")], api_key="k", max_line_bytes=512)
    assert response.metadata["error"].reason == "malformed_response"
    assert "max_line_bytes" not in server.body()


def test_registered_names_and_provider_prefixed_models() -> None:
    server = Server(
        (
            200,
            SSE,
            [
                b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'
            ],
        )
    )
    engine = allm.Engine(adapter="openai", model="gpt-4o", adapter_opts=server.opts(), retry=False)
    assert allm.generate(engine, [allm.user("hi")], api_key="k").finish_reason == "stop"
    engine = allm.Engine(model="openai:gpt-4o-mini", adapter_opts=server.opts(), retry=False)
    assert allm.generate(engine, [allm.user("hi")], api_key="k").finish_reason == "stop"
    assert server.body()["model"] == "gpt-4o-mini"
    engine = allm.Engine(
        adapter="openai_compatible",
        model="llama3",
        adapter_opts={**server.opts(), "base_url": "http://localhost:11434/v1"},
        retry=False,
    )
    assert allm.generate(engine, [allm.user("hi")]).finish_reason == "stop"
    assert str(server.requests[-1].url) == "http://localhost:11434/v1/chat/completions"
    from allm.providers import OpenAI as Lazy
    from allm.providers import OpenAICompatible as LazyCompatible

    assert (Lazy, LazyCompatible) == (OpenAI, OpenAICompatible)


@pytest.mark.parametrize("content_type", ["text/plain", "application/octet-stream", ""])
def test_an_event_stream_under_another_content_type_is_still_parsed(content_type: str) -> None:
    body = b'data: {"choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'
    headers = {"content-type": content_type} if content_type else {}
    server = Server((200, headers, [body]))
    engine = allm.Engine(adapter=OpenAI(), model="gpt-4o", adapter_opts=server.opts(), retry=False)
    response = allm.generate(engine, [allm.user("hi")], api_key="k")
    assert (response.finish_reason, response.text) == ("stop", "ok")
