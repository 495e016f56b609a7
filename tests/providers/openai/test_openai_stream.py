"""Stream and body decoding beyond the transcripts: the event grammar, early exit, oversized
lines, bodies that are not event streams, retries, error classification and the leniency of
OpenAI-compatible servers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import httpx
import pytest
from tests.providers.openai.support import Server, engine_for, events, request_for
from tests.providers.wire import load

import allm
from allm.adapters import Call
from allm.adapters.http import HttpResult
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
    ToolCallDelta,
    ToolCallStarted,
)
from allm.providers.openai import (
    OpenAI,
    OpenAICompatible,
    api_error,
    classify_http_error,
    error_reason,
    go_duration_ms,
)

SSE = {"content-type": "text/event-stream; charset=utf-8"}
JSON = {"content-type": "application/json"}
FAST_RETRY = {"base_delay_ms": 0, "jitter_ms": 0}


def chunk(delta: dict[str, Any] | None, finish: str | None = None, **extra: Any) -> bytes:
    payload: dict[str, Any] = {
        "id": "chatcmpl-t",
        "object": "chat.completion.chunk",
        "model": "m-1",
    }
    payload["choices"] = (
        [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    )
    payload.update(extra)
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


DONE = b"data: [DONE]\n\n"


def chat_engine(server: Server, adapter: Any = None, **fields: Any) -> allm.Engine:
    fields.setdefault("retry", False)
    return allm.Engine(
        adapter=adapter or OpenAI(), model="gpt-4o-mini", adapter_opts=server.opts(), **fields
    )


def collect(engine: allm.Engine, **opts: Any) -> allm.Response:
    opts.setdefault("api_key", "k")
    return allm.stream_generate(engine, [allm.user("hi")], **opts).collect()


# -- the event grammar --------------------------------------------------------------------------------


@pytest.mark.parametrize("api", ["sync", "async"])
@pytest.mark.parametrize("directory", ["openai-chat", "openai-responses"])
def test_event_grammar_of_a_text_stream(directory: str, api: str) -> None:
    case = load(directory, "text_stream")
    request, params = request_for(case)
    found = events(api, engine_for(case), request, api_key="k", **params)
    assert isinstance(found[0], MessageStarted)
    assert found[0].message.metadata == {"provider_request_id": case.expect["request_id"]}
    assert isinstance(found[-1], MessageCompleted)
    assert sum(isinstance(e, MessageCompleted | ErrorEvent) for e in found) == 1
    completed = [e for e in found if isinstance(e, TextCompleted)]
    assert completed == [TextCompleted(case.expect["output_text"])]
    deltas = "".join(e.delta for e in found if isinstance(e, TextDelta))
    assert deltas == case.expect["output_text"]
    usage = [e for e in found if isinstance(e, RawChunk)]
    assert (
        len(usage) == 1 and usage[0].data[1]["input_tokens"] == case.expect["usage"]["input_tokens"]
    )
    assert found.index(usage[0]) < found.index(completed[0]) < len(found) - 1
    final = found[-1]
    assert final.message.content == case.expect["output_text"]
    assert final.metadata == {
        "response_id": case.expect["response_id"],
        "model": case.expect["model"],
        "raw_finish_reason": case.expect["raw_finish_reason"],
        "provider_request_id": case.expect["request_id"],
    }


@pytest.mark.parametrize(
    ("directory", "name"),
    [
        ("openai-chat", "parallel_tool_calls_stream"),
        ("openai-responses", "parallel_tool_calls_stream"),
    ],
)
def test_tool_call_events_are_keyed_by_call_id(directory: str, name: str) -> None:
    case = load(directory, name)
    request, params = request_for(case)
    found = events("sync", engine_for(case, "bytewise"), request, api_key="k", **params)
    ids = [c["id"] for c in case.expect["tool_calls"]]
    assert [e.id for e in found if isinstance(e, ToolCallStarted)] == ids
    assert {e.id for e in found if isinstance(e, ToolCallDelta)} == set(ids)
    completed = [e for e in found if isinstance(e, ToolCallCompleted)]
    assert [e.id for e in completed] == ids
    for event, wanted in zip(completed, case.expect["tool_calls"], strict=True):
        fragments = "".join(
            e.arguments_delta for e in found if isinstance(e, ToolCallDelta) and e.id == event.id
        )
        assert fragments == event.raw_arguments == wanted["arguments_json"]
        assert event.arguments == wanted["arguments"]
    message = found[-1].message
    assert [c.id for c in message.tool_calls] == ids


def test_responses_reasoning_events_carry_item_id_and_signature() -> None:
    case = load("openai-responses", "reasoning_summary_stream")
    request, params = request_for(case)
    found = events("sync", engine_for(case), request, api_key="k", **params)
    completed = [e for e in found if isinstance(e, ReasoningCompleted)]
    assert len(completed) == 2
    assert {e.id for e in completed} == {e.id for e in found if isinstance(e, ReasoningDelta)}
    assert completed[0].signature == completed[1].signature
    assert completed[0].signature.startswith("gAAAAAB")
    assert found.index(completed[-1]) < next(
        i for i, e in enumerate(found) if isinstance(e, TextDelta)
    )


# -- early exit ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("api", ["sync", "async"])
@pytest.mark.parametrize("directory", ["openai-chat", "openai-responses"])
def test_leaving_a_stream_early_closes_the_response_exactly_once(directory: str, api: str) -> None:
    case = load(directory, "text_stream")
    server = Server((200, SSE, case.chunks([200, 400, 800, 1600])))
    endpoint = "chat_completions" if directory == "openai-chat" else "responses"
    engine = allm.Engine(
        adapter=OpenAI(), model="gpt-4.1", adapter_opts={**server.opts(), "endpoint": endpoint}
    )
    if api == "sync":
        stream = allm.stream_generate(engine, [allm.user("hi")], api_key="k")
        first = next(iter(stream))
        stream.close()
        stream.close()
    else:

        async def go() -> Any:
            stream = await allm.astream_generate(engine, [allm.user("hi")], api_key="k")
            async for event in stream:
                await stream.aclose()
                await stream.aclose()
                return event
            return None

        first = anyio.run(go)
    assert isinstance(first, MessageStarted)
    assert server.counter["closed"] == 1
    assert len(server.requests) == 1


def test_a_finished_stream_closes_its_response_once() -> None:
    case = load("openai-chat", "text_stream")
    server = Server((200, SSE, case.chunks("bytewise")))
    response = collect(chat_engine(server))
    assert response.finish_reason == "stop"
    assert server.counter["closed"] == 1


# -- bodies that are not what was asked for ------------------------------------------------------------------


@pytest.mark.parametrize("via", ["constructor", "adapter_opts"])
def test_an_oversized_sse_line_is_a_malformed_response_keeping_what_came(via: str) -> None:
    big = chunk({"content": "x" * 5000})
    server = Server(
        (
            200,
            SSE,
            [
                chunk({"role": "assistant", "content": "Hi"}),
                chunk({"content": " there"}),
                big,
                DONE,
            ],
        )
    )
    if via == "constructor":
        engine = chat_engine(server, OpenAI(max_line_bytes=1024))
    else:
        engine = allm.Engine(
            adapter=OpenAI(), model="gpt-4o", adapter_opts={**server.opts(), "max_line_bytes": 1024}
        )
    response = collect(engine)
    error = response.metadata["error"]
    assert response.finish_reason == "error"
    assert error.reason == "malformed_response" and error.provider == "openai"
    assert "1024" in error.message
    assert response.text == "Hi there"
    assert server.counter["closed"] == 1


def test_an_html_page_on_a_200_stream_is_a_malformed_response() -> None:
    page = b"<html><body><h1>Please sign in to the proxy</h1></body></html>"
    server = Server((200, {"content-type": "text/html; charset=utf-8"}, [page[:20], page[20:]]))
    response = collect(chat_engine(server))
    error = response.metadata["error"]
    assert error.reason == "malformed_response" and error.status == 200
    assert "text/html" in error.message and "Please sign in" in error.message


def test_a_json_completion_served_to_a_stream_request_is_still_understood() -> None:
    body = json.dumps(
        {
            "id": "chatcmpl-j",
            "object": "chat.completion",
            "model": "llama3",
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": None,
                        "reasoning_content": "think",
                        "tool_calls": [
                            {
                                "id": "c1",
                                "type": "function",
                                "function": {"name": "f", "arguments": '{"a":1}'},
                            }
                        ],
                    },
                    "finish_reason": "tool_calls",
                }
            ],
            "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7},
        }
    ).encode()
    server = Server((200, JSON, [body]))
    adapter = OpenAICompatible(base_url="http://localhost:1234/v1")
    response = collect(chat_engine(server, adapter))
    assert response.finish_reason == "tool_calls"
    assert response.id == "chatcmpl-j" and response.model == "llama3"
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == [("c1", "f", {"a": 1})]
    assert response.reasoning == "think"
    assert response.usage.total_tokens == 7


def test_a_json_error_document_served_to_a_stream_request_is_classified() -> None:
    body = b'{"error":{"message":"model not loaded","type":"invalid_request_error","code":"model_not_found"}}'
    server = Server((200, JSON, [body]))
    response = collect(chat_engine(server))
    assert response.metadata["error"].reason == "invalid_request"
    assert response.metadata["error"].message == "model not loaded"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"<html>maintenance</html>", "text/html"),
        (b"[1, 2]", "application/json"),
    ],
)
@pytest.mark.parametrize("endpoint", ["chat_completions", "responses"])
def test_an_unreadable_non_streaming_body_is_a_malformed_response(
    body: bytes, content_type: str, endpoint: str
) -> None:
    server = Server((200, {"content-type": content_type}, [body]))
    engine = allm.Engine(
        adapter=OpenAI(),
        model="gpt-4o",
        adapter_opts={**server.opts(), "endpoint": endpoint},
        retry=False,
    )
    response = allm.generate(engine, [allm.user("hi")], streaming=False, api_key="k")
    assert response.finish_reason == "error"
    error = response.metadata["error"]
    assert error.reason == "malformed_response" and error.status == 200
    assert body.decode()[:5] in error.message
    with pytest.raises(allm.AdapterError):
        allm.unwrap(response)


def test_a_chat_completion_without_choices_is_malformed() -> None:
    server = Server((200, JSON, [b'{"id":"x","object":"chat.completion","choices":[]}']))
    engine = chat_engine(server)
    response = allm.generate(engine, [allm.user("hi")], streaming=False, api_key="k")
    assert response.metadata["error"].reason == "malformed_response"


def test_a_failed_response_object_is_an_error_when_not_streaming() -> None:
    body = json.dumps(
        {
            "id": "resp_f",
            "object": "response",
            "status": "failed",
            "error": {"code": "server_error", "message": "boom"},
            "output": [],
        }
    ).encode()
    server = Server((200, {**JSON, "x-request-id": "req_f"}, [body]))
    engine = allm.Engine(adapter=OpenAI(), model="gpt-5", adapter_opts=server.opts(), retry=False)
    response = allm.generate(engine, [allm.user("hi")], streaming=False, api_key="k")
    error = response.metadata["error"]
    assert (error.reason, error.message, error.request_id) == (
        "provider_unavailable",
        "boom",
        "req_f",
    )


def test_a_transport_failure_mid_stream_keeps_the_text() -> None:
    class Broken(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            yield chunk({"role": "assistant", "content": "Half"})
            yield chunk({"content": " an"})
            raise httpx.ReadError("connection reset by peer")

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=SSE, stream=Broken())

    engine = allm.Engine(
        adapter=OpenAI(),
        model="gpt-4o",
        adapter_opts={"http_client": httpx.Client(transport=httpx.MockTransport(handler))},
    )
    response = collect(engine)
    assert response.finish_reason == "error"
    assert response.metadata["error"].reason == "network_error"
    assert response.text == "Half an"


def test_an_async_transport_failure_mid_stream_keeps_the_text() -> None:
    class Broken(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            yield chunk({"role": "assistant", "content": "Half"})
            raise httpx.ReadError("connection reset by peer")

    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=SSE, stream=Broken())

    engine = allm.Engine(
        adapter=OpenAI(),
        model="gpt-4o",
        adapter_opts={
            "async_http_client": httpx.AsyncClient(transport=httpx.MockTransport(handler))
        },
    )

    async def go() -> allm.Response:
        stream = await allm.astream_generate(engine, [allm.user("hi")], api_key="k")
        return await stream.collect()

    response = anyio.run(go)
    assert response.metadata["error"].reason == "network_error"
    assert response.text == "Half"


def test_usage_received_before_an_in_band_error_is_kept() -> None:
    usage = {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
    error = b'data: {"error":{"message":"boom","type":"server_error","param":null,"code":null}}\n\n'
    server = Server(
        (200, SSE, [chunk({"content": "ok"}), chunk({}, "stop"), chunk(None, usage=usage), error])
    )
    found = list(allm.stream_generate(chat_engine(server), [allm.user("hi")], api_key="k"))
    assert isinstance(found[-1], ErrorEvent) and isinstance(found[-2], RawChunk)
    response = allm.StreamCollector().apply_all(found).to_response()
    assert response.usage.total_tokens == 7 and response.text == "ok"
    assert response.metadata["error"].reason == "provider_unavailable"
    assert response.metadata["error"].status is None


def test_openai_needs_done_but_a_compatible_server_may_stop_after_finish() -> None:
    body = [chunk({"role": "assistant", "content": "Hi"}), chunk({}, "stop")]
    strict = collect(chat_engine(Server((200, SSE, body))))
    assert strict.finish_reason == "error" and strict.text == "Hi"
    assert strict.metadata["error"].message == "stream ended before its terminal event"
    lenient = collect(
        chat_engine(Server((200, SSE, body)), OpenAICompatible(base_url="http://x/v1"))
    )
    assert lenient.finish_reason == "stop" and lenient.text == "Hi"
    empty = collect(chat_engine(Server((200, SSE, [])), OpenAICompatible(base_url="http://x/v1")))
    assert empty.finish_reason == "error"


def test_compatible_tool_calls_without_index_or_id_and_late_names() -> None:
    body = [
        chunk({"role": "assistant", "tool_calls": [{"function": {"arguments": '{"q":'}}]}),
        chunk({"tool_calls": [{"function": {"name": "search", "arguments": '"x"}'}}]}),
        chunk(
            {"tool_calls": [{"id": "t2", "function": {"name": "fetch", "arguments": {"url": "u"}}}]}
        ),
        chunk(
            {
                "tool_calls": [
                    {"index": 0, "id": "t3", "function": {"name": "other", "arguments": "{}"}}
                ]
            }
        ),
        chunk({}, "stop"),
        DONE,
    ]
    response = collect(
        chat_engine(Server((200, SSE, body)), OpenAICompatible(base_url="http://x/v1"))
    )
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == [
        ("call_0", "search", {"q": "x"}),
        ("t2", "fetch", {"url": "u"}),
        ("t3", "other", {}),
    ]
    assert response.finish_reason == "tool_calls"  # stop with calls is promoted
    assert response.raw_finish_reason == "stop"


def test_arguments_that_are_not_json_parse_to_an_empty_object_with_the_raw_kept() -> None:
    first = {
        "index": 0,
        "id": "c1",
        "type": "function",
        "function": {"name": "f", "arguments": '{"a": '},
    }
    body = [chunk({"tool_calls": [first]}), chunk({}, "tool_calls"), DONE]
    response = collect(chat_engine(Server((200, SSE, body))))
    [call] = response.tool_calls
    assert (call.arguments, call.raw_arguments) == ({}, '{"a": ')


def test_other_choices_empty_events_and_unknown_fields_are_ignored() -> None:
    other = json.dumps(
        {
            "id": "c",
            "choices": [{"index": 1, "delta": {"content": "ignored"}, "finish_reason": None}],
        }
    ).encode()
    body = [
        b"data: " + other + b"\n\n",
        b"data: \n\n",
        chunk({"content": "kept", "audio": None}),
        chunk({}, "stop"),
        DONE,
    ]
    response = collect(chat_engine(Server((200, SSE, body))))
    assert response.text == "kept" and response.finish_reason == "stop"


@pytest.mark.parametrize(
    "payload",
    [
        b'{"choices": "nope"}',
        b"[1, 2, 3]",
        b'{"choices": [{"index": 0, "delta": {"tool_calls": "x"}}]}',
    ],
)
def test_unexpected_event_shapes_never_raise(payload: bytes) -> None:
    body = [chunk({"content": "a"}), b"data: " + payload + b"\n\n", DONE]
    response = collect(chat_engine(Server((200, SSE, body))))
    assert response.text == "a"
    assert response.finish_reason in ("error", "stop")
    if response.finish_reason == "error":
        assert response.metadata["error"].reason == "malformed_response"


def test_responses_unknown_items_and_late_function_calls() -> None:
    def event(kind: str, **fields: Any) -> bytes:
        return f"event: {kind}\ndata: {json.dumps({'type': kind, **fields})}\n\n".encode()

    output = [
        {
            "id": "fc_9",
            "type": "function_call",
            "call_id": "call_9",
            "name": "f",
            "arguments": '{"k":2}',
        },
    ]
    body = [
        event("response.function_call_arguments.delta", item_id="fc_unknown", delta="{}"),
        event("response.reasoning_text.delta", item_id="rs_1", delta="raw thought"),
        event("response.output_text.delta", item_id="msg_1", delta="Hello"),
        event("response.some_future_event", anything=True),
        event(
            "response.completed",
            response={
                "id": "resp_9",
                "status": "completed",
                "model": "m",
                "output": output,
                "usage": None,
            },
        ),
    ]
    server = Server((200, SSE, body))
    engine = allm.Engine(adapter=OpenAI(), model="gpt-5", adapter_opts=server.opts())
    found = list(allm.stream_generate(engine, [allm.user("hi")], api_key="k"))
    response = allm.StreamCollector().apply_all(found).to_response()
    assert response.text == "Hello"  # no message item in output: the deltas stand
    assert response.reasoning == "raw thought"
    assert [(c.id, c.arguments, c.metadata) for c in response.tool_calls] == [
        ("call_9", {"k": 2}, {"item_id": "fc_9"})
    ]
    assert [e.id for e in found if isinstance(e, ToolCallStarted)] == ["call_9"]
    assert response.finish_reason == "tool_calls" and response.usage == allm.Usage()


def test_responses_stream_served_as_a_whole_json_object() -> None:
    body = json.dumps(
        {
            "id": "resp_w",
            "object": "response",
            "status": "incomplete",
            "incomplete_details": {"reason": "max_output_tokens"},
            "model": "gpt-5",
            "output": [
                {
                    "id": "rs_1",
                    "type": "reasoning",
                    "summary": [{"type": "summary_text", "text": "S"}],
                },
                {
                    "id": "msg_1",
                    "type": "message",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": "Partial"}],
                },
            ],
            "usage": {"input_tokens": 3, "output_tokens": 16},
        }
    ).encode()
    server = Server((200, JSON, [body]))
    engine = allm.Engine(adapter=OpenAI(), model="gpt-5", adapter_opts=server.opts())
    response = collect(engine)
    assert (response.finish_reason, response.raw_finish_reason) == (
        "length",
        "incomplete:max_output_tokens",
    )
    assert response.text == "Partial" and response.reasoning == "S"
    assert response.usage.total_tokens == 19  # input + output when no total is sent
    assert response.metadata["incomplete_reason"] == "max_output_tokens"


# -- retries -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("streaming", [True, False])
def test_a_429_with_retry_after_is_retried_then_succeeds(streaming: bool) -> None:
    case = load("openai-chat", "text_stream" if streaming else "text_nonstream")
    limited = load("openai-chat", "error_429_rate_limit")
    server = Server(
        (429, {**limited.headers, "retry-after": "0"}, [limited.body]),
        (200, case.headers, [case.body]),
    )
    engine = chat_engine(server, retry=FAST_RETRY)
    response = allm.generate(engine, [allm.user("hi")], streaming=streaming, api_key="k")
    assert response.finish_reason == "stop"
    assert response.text == case.expect["output_text"]
    assert len(server.requests) == 2


@pytest.mark.parametrize(
    "name",
    [
        "error_429_insufficient_quota",
        "error_400_context_length_exceeded",
        "error_401_invalid_api_key",
    ],
)
def test_billing_auth_and_bad_requests_are_never_retried(name: str) -> None:
    case = load("openai-chat", name)
    server = Server(
        (case.status, case.headers, [case.body]),
        (200, SSE, [load("openai-chat", "text_stream").body]),
    )
    response = collect(chat_engine(server, retry=FAST_RETRY))
    assert response.finish_reason == "error"
    assert len(server.requests) == 1


def test_a_502_html_page_is_retried_by_status() -> None:
    page = load("openai-chat", "error_502_html_proxy")
    ok = load("openai-chat", "text_stream")
    server = Server((502, page.headers, [page.body]), (200, ok.headers, [ok.body]))
    response = collect(chat_engine(server, retry=FAST_RETRY))
    assert response.finish_reason == "stop" and len(server.requests) == 2


def test_rate_limit_reset_headers_stand_in_for_a_missing_retry_after() -> None:
    body = b'{"error":{"message":"slow down","type":"tokens","param":null,"code":"rate_limit_exceeded"}}'
    headers = {**JSON, "x-ratelimit-reset-tokens": "1.846s", "x-ratelimit-reset-requests": "6m0s"}
    response = collect(chat_engine(Server((429, headers, [body]))))
    assert response.metadata["error"].retry_after_ms == 1846
    body = body.replace(b'"tokens"', b'"requests"')
    response = collect(chat_engine(Server((429, headers, [body]))))
    assert response.metadata["error"].retry_after_ms == 360_000
    headers["retry-after-ms"] = "250"
    response = collect(chat_engine(Server((429, headers, [body]))))
    assert response.metadata["error"].retry_after_ms == 250


# -- classification units ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("375ms", 375),
        ("1.846s", 1846),
        ("6m0s", 360_000),
        ("0s", 0),
        ("1h2m3s", 3_723_000),
        ("500us", 0),
        ("12", None),
        ("", None),
        ("5x", None),
        (None, None),
    ],
)
def test_go_durations(text: str | None, ms: int | None) -> None:
    assert go_duration_ms(text) == ms


@pytest.mark.parametrize(
    ("status", "etype", "code", "reason"),
    [
        (400, "invalid_request_error", "unsupported_value", "invalid_request"),
        (400, "invalid_request_error", "context_length_exceeded", "context_length_exceeded"),
        (400, "invalid_request_error", "content_policy_violation", "content_filter"),
        (401, "invalid_request_error", "invalid_api_key", "authentication_failed"),
        (
            403,
            "invalid_request_error",
            "unsupported_country_region_territory",
            "authentication_failed",
        ),
        (402, None, None, "quota_exhausted"),
        (404, "invalid_request_error", "model_not_found", "invalid_request"),
        (408, None, None, "timeout"),
        (413, None, None, "invalid_request"),
        (422, None, None, "invalid_request"),
        (429, "tokens", "rate_limit_exceeded", "rate_limited"),
        (429, "insufficient_quota", "insufficient_quota", "quota_exhausted"),
        (500, "server_error", None, "provider_unavailable"),
        (503, None, None, "provider_unavailable"),
        (418, None, None, "unknown"),
        (None, None, "server_error", "provider_unavailable"),
        (None, None, "rate_limit_exceeded", "rate_limited"),
        (None, None, "invalid_prompt", "invalid_request"),
        (None, None, "invalid_image_format", "invalid_request"),
        (None, None, "bio_policy", "content_filter"),
        (None, None, "vector_store_timeout", "provider_unavailable"),
        (None, None, "something_new", "unknown"),
    ],
)
def test_error_reasons(
    status: int | None, etype: str | None, code: str | None, reason: str
) -> None:
    assert error_reason(status, etype, code) == reason


def call() -> Call:
    return Call("req-local", allm.Engine(adapter=OpenAI()))


def test_error_bodies_from_compatible_servers() -> None:
    result = HttpResult(400, {"content-type": "application/json"}, b'{"detail":"Field required"}')
    error = classify_http_error("openai_compatible", result, call())
    assert (error.reason, error.message, error.request_id) == (
        "invalid_request",
        "Field required",
        "req-local",
    )
    result = HttpResult(500, {}, b'[{"error": {"message": "wrapped", "code": 500}}]')
    error = classify_http_error("openai_compatible", result, call())
    assert (error.reason, error.message, error.metadata["openai_code"]) == (
        "provider_unavailable",
        "wrapped",
        "500",
    )
    result = HttpResult(401, {"content-type": "text/html"}, b"<html>Unauthorized</html>")
    error = classify_http_error("openai_compatible", result, call())
    assert error.reason == "authentication_failed" and "Unauthorized" in error.message
    error = api_error("openai_compatible", call(), "plain text error")
    assert (error.reason, error.message, error.status) == ("unknown", "plain text error", None)
