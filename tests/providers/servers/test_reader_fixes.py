"""What real OpenAI-compatible servers and gateways send, read right: one test per finding, the
chunks written from the finding's description (a stream cut by the server, an error beside
``choices``, an empty legacy ``function_call``, ids kept on failure, ``content: ""`` for local
servers, repeated tool-call ids, repeated Anthropic tool-use ids, whole JSON bodies on streaming
requests, HTML 200s, Gemini finish reasons and tool-use prompt tokens)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.providers.openai.support import Server

import allm
from allm.events import ErrorEvent
from allm.providers.anthropic import Anthropic
from allm.providers.azure import AzureOpenAI
from allm.providers.gemini import Gemini
from allm.providers.mistral import Mistral
from allm.providers.openai import OpenAI, OpenAICompatible
from allm.providers.presets import PRESET_CLASSES
from allm.providers.vertex import Vertex

SSE = {"content-type": "text/event-stream"}
JSON = {"content-type": "application/json"}
HTML = {"content-type": "text/html; charset=utf-8"}
PAGE = b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>"


def sse(payload: Any) -> bytes:
    data = payload if isinstance(payload, str) else json.dumps(payload)
    return f"data: {data}\n\n".encode()


def chunk(delta: dict[str, Any] | None, finish: str | None = None, **extra: Any) -> bytes:
    payload: dict[str, Any] = {"id": "chatcmpl-9", "object": "chat.completion.chunk"}
    payload["model"] = "llama-3.1-8b"
    payload["choices"] = (
        [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    )
    payload.update(extra)
    return sse(payload)


DONE = sse("[DONE]")


def run(adapter: Any, server: Server, *, stream: bool = True, **fields: Any) -> allm.Response:
    engine = allm.Engine(
        adapter=adapter, model=fields.pop("model", "m"), adapter_opts=server.opts(), retry=False
    )
    if stream:
        return allm.stream_generate(engine, [allm.user("hi")], api_key="k", **fields).collect()
    return allm.generate(engine, [allm.user("hi")], api_key="k", **fields)


def compatible() -> OpenAICompatible:
    return OpenAICompatible(base_url="http://127.0.0.1:9/v1")


# -- the OpenAI-compatible reader -------------------------------------------------------------------


CHAT_READERS = {
    "openai": OpenAI,
    "compatible": compatible,
    "azure": lambda: AzureOpenAI(resource="contoso"),
    "mistral": Mistral,
}


@pytest.mark.parametrize("reader", sorted(CHAT_READERS))
def test_a_stream_cut_after_the_role_chunk_is_a_malformed_response_not_an_empty_stop(
    reader: str,
) -> None:
    server = Server((200, SSE, [chunk({"role": "assistant", "content": ""}), DONE]))
    response = run(CHAT_READERS[reader](), server)
    assert response.finish_reason == "error" and response.text == ""
    assert response.metadata["error"].reason == "malformed_response"


def test_a_stream_without_a_finish_reason_but_with_output_is_a_stop() -> None:
    server = Server((200, SSE, [chunk({"role": "assistant", "content": "Hello"}), DONE]))
    response = run(compatible(), server)
    assert response.finish_reason == "stop" and response.text == "Hello"
    assert "error" not in response.metadata


def test_an_error_in_a_chunk_that_also_has_choices_is_the_error() -> None:
    error = {"code": 502, "message": "Provider returned error", "metadata": {"provider_name": "X"}}
    server = Server(
        (
            200,
            SSE,
            [
                chunk({"role": "assistant", "content": "Par"}),
                chunk({"content": ""}, "error", error=error),
                DONE,
            ],
        )
    )
    response = run(compatible(), server)
    assert response.finish_reason == "error" and response.text == "Par"
    assert "Provider returned error" in response.metadata["error"].message


@pytest.mark.parametrize("stream", [True, False])
def test_an_empty_legacy_function_call_is_no_tool_call(stream: bool) -> None:
    empty = {"name": "", "arguments": ""}
    if stream:
        body = [
            chunk({"role": "assistant", "content": "Sunny.", "function_call": empty}),
            chunk({"function_call": empty}, "stop"),
            DONE,
        ]
        server = Server((200, SSE, body))
    else:
        completion = {
            "id": "chatcmpl-9",
            "object": "chat.completion",
            "model": "m",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "Sunny.", "function_call": empty},
                    "finish_reason": "stop",
                }
            ],
        }
        server = Server((200, JSON, [json.dumps(completion).encode()]))
    response = run(compatible(), server, stream=stream)
    assert response.tool_calls == () and response.finish_reason == "stop"
    assert response.text == "Sunny."


def test_a_legacy_function_call_with_a_name_is_one_call() -> None:
    body = [
        chunk({"role": "assistant", "function_call": {"name": "lookup", "arguments": '{"q":'}}),
        chunk({"function_call": {"arguments": '"x"}'}}, "function_call"),
        DONE,
    ]
    response = run(compatible(), Server((200, SSE, body)))
    assert [(c.name, c.arguments) for c in response.tool_calls] == [("lookup", {"q": "x"})]
    assert response.finish_reason == "tool_calls"


@pytest.mark.parametrize("adapter", [OpenAI, compatible])
def test_id_and_model_seen_before_a_failure_are_kept(adapter: Any) -> None:
    error = sse({"error": {"message": "upstream timed out", "type": "server_error"}})
    server = Server((200, SSE, [chunk({"role": "assistant", "content": "Hal"}), error]))
    response = run(adapter(), server)
    assert response.finish_reason == "error" and response.text == "Hal"
    assert response.id == "chatcmpl-9" and response.model == "llama-3.1-8b"


def test_id_and_model_are_kept_when_the_body_just_ends() -> None:
    server = Server((200, SSE, [chunk({"role": "assistant", "content": "Hal"})]))
    response = run(OpenAI(), server)
    assert response.metadata["error"].reason == "network_error"
    assert (response.id, response.model) == ("chatcmpl-9", "llama-3.1-8b")


def _second_turn_body(adapter: Any) -> dict[str, Any]:
    calls = [chunk({"tool_calls": [{"index": 0, "id": "c1", "function": {"name": "now"}}]})]
    calls += [chunk({"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]}, "tool_calls")]
    server = Server(
        (200, SSE, [*calls, DONE]),
        (200, SSE, [chunk({"content": "12:00"}, "stop"), DONE]),
    )
    tool = allm.Tool(
        "now", "The time", {"type": "object", "properties": {}}, handler=lambda arguments: "12:00"
    )
    engine = allm.Engine(adapter=adapter, model="m", adapter_opts=server.opts(), retry=False)
    result = allm.chat(engine, [allm.user("time?")], tools=[tool], api_key="k")
    assert result.final_response.text == "12:00"
    assistant = server.body(-1)["messages"][1]
    assert assistant["role"] == "assistant" and assistant["tool_calls"][0]["id"] == "c1"
    return dict(assistant)


@pytest.mark.parametrize("name", ["vllm", "llamacpp", "lmstudio"])
def test_local_servers_get_empty_content_beside_tool_calls(name: str) -> None:
    assert _second_turn_body(PRESET_CLASSES[name]())["content"] == ""


@pytest.mark.parametrize("adapter", [OpenAI, compatible, PRESET_CLASSES["openrouter"]])
def test_other_servers_get_null_content_beside_tool_calls(adapter: Any) -> None:
    assert _second_turn_body(adapter())["content"] is None


def test_repeated_tool_call_ids_and_names_in_every_chunk_are_one_call() -> None:
    def fragment(arguments: str, index: int = 0) -> dict[str, Any]:
        function = {"name": "search", "arguments": arguments}
        return {
            "tool_calls": [
                {"index": index, "id": "call_a", "type": "function", "function": function}
            ]
        }

    body = [
        chunk({"role": "assistant", **fragment('{"q"')}),
        chunk(fragment(': "ra')),
        chunk(fragment('in"}', index=1)),  # and an index that wanders
        chunk({}, "tool_calls"),
        DONE,
    ]
    response = run(compatible(), Server((200, SSE, body)))
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == [
        ("call_a", "search", {"q": "rain"})
    ]


# -- the Anthropic reader ----------------------------------------------------------------------------


def named(kind: str, data: dict[str, Any]) -> bytes:
    return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n".encode()


def test_anthropic_blocks_repeating_one_tool_use_id_are_one_call() -> None:
    start = {"message": {"id": "msg_1", "model": "claude", "usage": {"input_tokens": 3}}}
    use = {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {}}
    body = [
        named("message_start", start),
        named("content_block_start", {"index": 0, "content_block": use}),
        named(
            "content_block_delta",
            {"index": 0, "delta": {"type": "input_json_delta", "partial_json": '{"city": '}},
        ),
        named("content_block_stop", {"index": 0}),
        named("content_block_start", {"index": 1, "content_block": use}),
        named(
            "content_block_delta",
            {"index": 1, "delta": {"type": "input_json_delta", "partial_json": '"Paris"}'}},
        ),
        named("content_block_stop", {"index": 1}),
        named(
            "message_delta", {"delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 9}}
        ),
        named("message_stop", {}),
    ]
    response = run(Anthropic(), Server((200, SSE, body)))
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == [
        ("toolu_1", "weather", {"city": "Paris"})
    ]
    assert response.message is not None and len(response.message.tool_calls) == 1


def test_anthropic_whole_blocks_repeating_one_id_merge_their_inputs() -> None:
    message = {
        "id": "msg_1",
        "type": "message",
        "model": "claude",
        "content": [
            {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Paris"}},
            {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"unit": "C"}},
        ],
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 3, "output_tokens": 9},
    }
    response = run(Anthropic(), Server((200, JSON, [json.dumps(message).encode()])), stream=False)
    assert [c.arguments for c in response.tool_calls] == [{"city": "Paris", "unit": "C"}]


ANTHROPIC_MESSAGE = {
    "id": "msg_w",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5",
    "content": [
        {"type": "thinking", "thinking": "brief", "signature": "sig"},
        {"type": "text", "text": "Hello"},
        {"type": "tool_use", "id": "toolu_2", "name": "f", "input": {"a": 1}},
    ],
    "stop_reason": "tool_use",
    "usage": {"input_tokens": 4, "output_tokens": 6},
}
GEMINI_RESPONSE = {
    "candidates": [
        {"content": {"role": "model", "parts": [{"text": "Hello"}]}, "finishReason": "STOP"}
    ],
    "usageMetadata": {"promptTokenCount": 4, "candidatesTokenCount": 2, "totalTokenCount": 6},
    "responseId": "resp_w",
    "modelVersion": "gemini-2.5-flash",
}


@pytest.mark.parametrize("stream", [True, False])
def test_anthropic_reads_a_whole_json_body_served_to_a_streaming_request(stream: bool) -> None:
    server = Server((200, JSON, [json.dumps(ANTHROPIC_MESSAGE).encode()]))
    response = run(Anthropic(), server, stream=stream)
    assert response.text == "Hello" and response.finish_reason == "tool_calls"
    assert [(c.id, c.arguments) for c in response.tool_calls] == [("toolu_2", {"a": 1})]
    assert (response.id, response.model) == ("msg_w", "claude-sonnet-4-5")
    assert response.usage.input_tokens == 4 and response.reasoning == "brief"


def test_anthropic_error_envelope_served_to_a_streaming_request_is_that_error() -> None:
    envelope = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    response = run(Anthropic(), Server((200, JSON, [json.dumps(envelope).encode()])))
    assert response.metadata["error"].reason == "provider_unavailable"


@pytest.mark.parametrize("stream", [True, False])
def test_gemini_reads_a_whole_json_body_served_to_a_streaming_request(stream: bool) -> None:
    server = Server((200, JSON, [json.dumps(GEMINI_RESPONSE).encode()]))
    response = run(Gemini(), server, stream=stream, model="gemini-2.5-flash")
    assert response.text == "Hello" and response.finish_reason == "stop"
    assert (response.id, response.model, response.usage.total_tokens) == (
        "resp_w",
        "gemini-2.5-flash",
        6,
    )


def test_gemini_reads_the_json_array_of_a_stream_without_alt_sse() -> None:
    first = {"candidates": [{"content": {"parts": [{"text": "Hel"}]}}], "responseId": "r"}
    body = json.dumps([first, GEMINI_RESPONSE]).encode()
    response = run(Gemini(), Server((200, JSON, [body])), model="gemini-2.5-flash")
    assert response.text == "HelHello" and response.finish_reason == "stop"


@pytest.mark.parametrize(
    "adapter",
    [OpenAI, compatible, Anthropic, Gemini],
    ids=["openai", "compatible", "anthropic", "gemini"],
)
@pytest.mark.parametrize(
    "headers", [HTML, {"content-type": "text/plain"}, {}], ids=["html", "plain", "none"]
)
def test_an_html_200_is_a_malformed_response_on_every_reader(
    adapter: Any, headers: dict[str, str]
) -> None:
    response = run(adapter(), Server((200, headers, [PAGE[:30], PAGE[30:]])))
    error = response.metadata["error"]
    assert response.finish_reason == "error"
    assert error.reason == "malformed_response", error


@pytest.mark.parametrize("adapter", [Anthropic, Gemini])
def test_an_html_200_to_generate_is_a_malformed_response(adapter: Any) -> None:
    response = run(adapter(), Server((200, HTML, [PAGE])), stream=False)
    assert response.metadata["error"].reason == "malformed_response"


# -- Gemini finish reasons and usage -----------------------------------------------------------------


def gemini_answer(payload: dict[str, Any], stream: bool) -> Server:
    """One GenerateContentResponse: an SSE event, or the whole body of generateContent."""
    return Server(
        (200, SSE, [sse(payload)]) if stream else (200, JSON, [json.dumps(payload).encode()])
    )


GEMINI_READERS = {"gemini": Gemini, "vertex": Vertex}  # Vertex in express mode (api_key=)


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "whole"])
@pytest.mark.parametrize("reader", sorted(GEMINI_READERS))
@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("UNEXPECTED_TOOL_CALL", "error"),
        ("TOO_MANY_TOOL_CALLS", "error"),
        ("LANGUAGE", "content_filter"),
        ("IMAGE_SAFETY", "content_filter"),
        ("MODEL_ARMOR", "content_filter"),
        ("SPII", "content_filter"),
    ],
)
def test_gemini_screening_and_tool_stops(
    raw: str, normalized: str, reader: str, stream: bool
) -> None:
    payload = {
        "candidates": [{"content": {"parts": [{"text": "x"}]}, "finishReason": raw}],
        "responseId": "r",
    }
    server = gemini_answer(payload, stream)
    response = run(GEMINI_READERS[reader](), server, stream=stream, model="gemini-2.5-flash")
    assert response.finish_reason == normalized and response.raw_finish_reason == raw


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "whole"])
@pytest.mark.parametrize("reader", sorted(GEMINI_READERS))
def test_gemini_tool_use_prompt_tokens_are_input_tokens(reader: str, stream: bool) -> None:
    payload = dict(GEMINI_RESPONSE)
    payload["usageMetadata"] = {
        "promptTokenCount": 10,
        "toolUsePromptTokenCount": 30,
        "candidatesTokenCount": 5,
        "totalTokenCount": 45,
    }
    server = gemini_answer(payload, stream)
    response = run(GEMINI_READERS[reader](), server, stream=stream, model="gemini-2.5-flash")
    assert response.usage.input_tokens == 40 and response.usage.total_tokens == 45


def test_a_failed_stream_keeps_its_events_before_the_error() -> None:
    server = Server((200, SSE, [chunk({"role": "assistant", "content": ""}), DONE]))
    engine = allm.Engine(adapter=compatible(), model="m", adapter_opts=server.opts(), retry=False)
    found = list(allm.stream_generate(engine, [allm.user("hi")]))
    assert isinstance(found[-1], ErrorEvent)
