"""On Responses, ``generate``'s message keeps the reasoning items (W1), so a next turn built from
``response.message`` sends them back: recorded streaming and non-streaming transcripts, both APIs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.providers.openai.support import Server, engine_for, request_for, run
from tests.providers.wire import load

import allm
from allm.providers.openai import OpenAI

SSE = {"content-type": "text/event-stream; charset=utf-8"}
CASES = [
    ("reasoning_tool_call_stream", True),
    ("reasoning_summary_stream", True),
    ("cached_reasoning_nonstream", False),
]


@pytest.mark.parametrize("api", ["sync", "async"])
@pytest.mark.parametrize(("name", "stream"), CASES)
def test_the_message_carries_the_reasoning_items(api: str, name: str, stream: bool) -> None:
    case = load("openai-responses", name)
    first, params = request_for(case)
    response = run(api, engine_for(case), first, stream=stream, **params, api_key="k")
    blocks = response.metadata["reasoning_blocks"]
    assert blocks
    assert response.message is not None
    assert response.message.metadata["reasoning_blocks"] == blocks


def next_turn_reasoning(first: allm.Request, response: allm.Response) -> list[dict[str, Any]]:
    """The reasoning items a next turn built from ``response.message`` sends."""
    assert response.message is not None
    thread = [
        *first.messages,
        response.message,
        *(allm.tool_result(call.id, "ok") for call in response.tool_calls),
        allm.user("and then?"),
    ]
    server = Server((200, SSE, [load("openai-responses", "text_stream").body]))
    engine = allm.Engine(adapter=OpenAI(), model="o4-mini", adapter_opts=server.opts(), retry=False)
    allm.generate(engine, allm.request(thread), api_key="k")
    return [item for item in server.body()["input"] if item.get("type") == "reasoning"]


@pytest.mark.parametrize("api", ["sync", "async"])
def test_a_next_turn_after_a_streamed_tool_call_sends_them_back(api: str) -> None:
    case = load("openai-responses", "reasoning_tool_call_stream")
    first, params = request_for(case)
    response = run(api, engine_for(case), first, stream=True, **params, api_key="k")
    assert response.tool_calls
    ids = {block["id"] for block in response.metadata["reasoning_blocks"]}
    assert {item["id"] for item in next_turn_reasoning(first, response)} == ids


# The documented non-streaming shape: a reasoning item (summary, encrypted content), then a call.
WHOLE = {
    "id": "resp_1",
    "status": "completed",
    "model": "o4-mini",
    "output": [
        {
            "type": "reasoning",
            "id": "rs_1",
            "summary": [{"type": "summary_text", "text": "Need the weather."}],
            "encrypted_content": "gAAAA-opaque",
        },
        {
            "type": "function_call",
            "id": "fc_1",
            "call_id": "call_1",
            "name": "get_weather",
            "arguments": '{"city":"Oslo"}',
            "status": "completed",
        },
    ],
    "usage": {"input_tokens": 5, "output_tokens": 7, "total_tokens": 12},
}


@pytest.mark.parametrize("api", ["sync", "async"])
def test_a_next_turn_after_a_whole_answer_sends_them_back(api: str) -> None:
    server = Server((200, {"content-type": "application/json"}, [json.dumps(WHOLE).encode()]))
    engine = allm.Engine(adapter=OpenAI(), model="o4-mini", adapter_opts=server.opts(), retry=False)
    first = allm.request([allm.user("weather?")], options={"store": False})
    response = run(api, engine, first, stream=False, api_key="k")
    assert response.message is not None
    assert response.message.metadata["reasoning_blocks"] == (
        {"text": "Need the weather.", "signature": "gAAAA-opaque", "id": "rs_1"},
    )
    sent = next_turn_reasoning(first, response)
    assert sent == [
        {
            "type": "reasoning",
            "id": "rs_1",
            "summary": [{"type": "summary_text", "text": "Need the weather."}],
            "encrypted_content": "gAAAA-opaque",
        }
    ]


def test_generate_equals_the_fold_of_its_stream_for_the_message() -> None:
    case = load("openai-responses", "reasoning_tool_call_stream")
    first, params = request_for(case)
    folded = run("sync", engine_for(case), first, stream=True, **params, api_key="k")
    generated = allm.generate(engine_for(case), first, **params, api_key="k")
    assert generated.message == folded.message
