"""Multi-turn tool conversations through the request builders: after an answer with tool calls
(and reasoning items), the next request carries the assistant's calls, their ids and the tool
results exactly as each wire requires."""

from __future__ import annotations

from typing import Any

import pytest
from tests.providers.openai.support import Server, engine_for, request_for, run
from tests.providers.wire import load

import allm
from allm.data.messages import Message
from allm.data.tools import Tool
from allm.providers.openai import OpenAI

SSE = {"content-type": "text/event-stream; charset=utf-8"}


def assistant_turn(response: allm.Response) -> Message:
    """The assistant message the chat loop appends (text, tool calls, reasoning blocks)."""
    metadata: dict[str, Any] = {}
    if response.metadata.get("reasoning_blocks"):
        metadata["reasoning_blocks"] = response.metadata["reasoning_blocks"]
    return Message(
        "assistant", response.output_text or "", tool_calls=response.tool_calls, metadata=metadata
    )


def second_request(
    first: Any, response: allm.Response, endpoint: str, model: str, **opts: Any
) -> Any:
    """Send the follow-up turn to a mock server; return the JSON body it received."""
    thread = [
        *first.messages,
        assistant_turn(response),
        *(allm.tool_result(call.id, {"temp_c": 31}) for call in response.tool_calls),
        allm.user("Thanks! And tomorrow?"),
    ]
    # The thread survives a JSON round trip (how sessions store it) with everything needed.
    thread = allm.from_json(allm.to_json(allm.Thread(tuple(thread)))).messages
    body = (
        load("openai-chat", "text_stream").body
        if endpoint == "chat_completions"
        else load("openai-responses", "text_stream").body
    )
    server = Server((200, SSE, [body]))
    engine = allm.Engine(
        adapter=OpenAI(),
        model=model,
        adapter_opts={**server.opts(), "endpoint": endpoint},
        retry=False,
    )
    request = allm.request(list(thread), tools=first.tools, options=dict(first.options))
    answer = allm.generate(engine, request, api_key="k", **opts)
    assert answer.finish_reason == "stop"
    return server.body()


@pytest.mark.parametrize("name", ["tool_call_stream_fragmented", "parallel_tool_calls_stream"])
def test_chat_completions_tool_round_trip(name: str) -> None:
    case = load("openai-chat", name)
    first, params = request_for(case)
    response = run("sync", engine_for(case), first, stream=True, **params, api_key="k")
    assert response.finish_reason == "tool_calls"
    body = second_request(first, response, "chat_completions", "gpt-4o-mini")
    messages = body["messages"]
    calls = case.expect["tool_calls"]
    assert messages[-len(calls) - 2] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": call["id"],
                "type": "function",
                "function": {"name": call["name"], "arguments": call["arguments_json"]},
            }
            for call in calls
        ],
    }
    for offset, call in enumerate(calls):
        assert messages[-len(calls) - 1 + offset] == {
            "role": "tool",
            "tool_call_id": call["id"],
            "content": '{"temp_c":31}',
        }
    assert messages[-1] == {"role": "user", "content": "Thanks! And tomorrow?"}


@pytest.mark.parametrize("name", ["tool_call_stream_fragmented", "parallel_tool_calls_stream"])
def test_responses_tool_round_trip_without_reasoning(name: str) -> None:
    case = load("openai-responses", name)
    first, params = request_for(case)
    response = run("sync", engine_for(case), first, stream=True, **params, api_key="k")
    body = second_request(first, response, "responses", "gpt-4.1")
    calls = case.expect["tool_calls"]
    items = body["input"][1:]
    assert items[: len(calls)] == [
        {
            "type": "function_call",
            "call_id": call["id"],
            "name": call["name"],
            "arguments": call["arguments_json"],
        }
        for call in calls
    ]
    assert items[len(calls) : 2 * len(calls)] == [
        {"type": "function_call_output", "call_id": call["id"], "output": '{"temp_c":31}'}
        for call in calls
    ]
    assert items[-1] == {"role": "user", "content": "Thanks! And tomorrow?"}


@pytest.mark.parametrize("streaming", [True, False])
def test_responses_reasoning_items_travel_back_before_the_function_call(streaming: bool) -> None:
    case = load("openai-responses", "reasoning_tool_call_stream")
    first, params = request_for(case)
    if streaming:
        response = run("sync", engine_for(case), first, stream=True, **params, api_key="k")
    else:
        # the same exchange as a whole body: the terminal response object of the stream
        import json

        last = case.body.decode().strip().split("\n")[-1][len("data: ") :]
        whole = json.dumps(json.loads(last)["response"]).encode()
        server = Server((200, {"content-type": "application/json"}, [whole]))
        engine = allm.Engine(
            adapter=OpenAI(), model="gpt-5-mini", adapter_opts=server.opts(), retry=False
        )
        response = allm.generate(engine, first, streaming=False, api_key="k", **params)
    assert response.finish_reason == "tool_calls"
    [reasoning] = case.expect["reasoning_items"]
    [fc_id] = case.expect["function_call_item_ids"]
    [call] = case.expect["tool_calls"]
    body = second_request(first, response, "responses", "gpt-5-mini")
    assert body["input"][1:4] == [
        {
            "type": "reasoning",
            "id": reasoning["id"],
            "summary": [{"type": "summary_text", "text": case.expect["reasoning_text"]}],
            "encrypted_content": reasoning["encrypted_content"],
        },
        {
            "type": "function_call",
            "call_id": call["id"],
            "name": "get_weather",
            "arguments": call["arguments_json"],
            "id": fc_id,
        },
        {"type": "function_call_output", "call_id": call["id"], "output": '{"temp_c":31}'},
    ]


def test_multi_part_summaries_go_back_as_one_item_with_every_part() -> None:
    case = load("openai-responses", "reasoning_summary_stream")
    first, params = request_for(case)
    response = run("sync", engine_for(case), first, stream=True, **params, api_key="k")
    blocks = response.metadata["reasoning_blocks"]
    assert len(blocks) == 2 and blocks[0]["id"] == blocks[1]["id"]
    call = allm.ToolCall("call_x", "lookup", {}, "{}", {"item_id": "fc_1"})
    turn = Message("assistant", "", tool_calls=(call,), metadata={"reasoning_blocks": blocks})
    request = allm.request(
        [allm.user("q"), turn, allm.tool_result("call_x", "ok")], options={"store": False}
    )
    server = Server((200, SSE, [load("openai-responses", "text_stream").body]))
    engine = allm.Engine(adapter=OpenAI(), model="o4-mini", adapter_opts=server.opts(), retry=False)
    allm.generate(engine, request, api_key="k")
    item = server.body()["input"][1]
    assert item["type"] == "reasoning" and item["id"] == blocks[0]["id"]
    assert [p["text"] for p in item["summary"]] == [b["text"] for b in blocks]
    assert item["encrypted_content"] == blocks[1]["signature"]
    assert server.body()["input"][2]["id"] == "fc_1"


def test_reasoning_without_encrypted_content_is_left_out_when_not_stored() -> None:
    blocks = ({"text": "", "signature": None, "id": "rs_1"},)
    call = allm.ToolCall("call_x", "lookup", {}, "{}", {"item_id": "fc_1"})
    turn = Message("assistant", "", tool_calls=(call,), metadata={"reasoning_blocks": blocks})
    thread = [allm.user("q"), turn, allm.tool_result("call_x", "ok")]
    for options, expected in (({}, True), ({"store": False}, False)):
        server = Server((200, SSE, [load("openai-responses", "text_stream").body]))
        engine = allm.Engine(
            adapter=OpenAI(), model="gpt-5", adapter_opts=server.opts(), retry=False
        )
        allm.generate(engine, allm.request(thread, options=options), api_key="k")
        kinds = [item.get("type") for item in server.body()["input"]]
        assert ("reasoning" in kinds) is expected
        function_call = next(i for i in server.body()["input"] if i.get("type") == "function_call")
        assert ("id" in function_call) is expected  # fc ids only travel with their reasoning


def test_foreign_reasoning_blocks_are_not_sent_to_openai() -> None:
    blocks = ({"text": "thinking", "signature": "EqMCCkYICxgCKkB", "id": None},)
    call = allm.ToolCall("toolu_1", "lookup", {}, "{}")
    turn = Message("assistant", "", tool_calls=(call,), metadata={"reasoning_blocks": blocks})
    server = Server((200, SSE, [load("openai-responses", "text_stream").body]))
    engine = allm.Engine(adapter=OpenAI(), model="gpt-5", adapter_opts=server.opts(), retry=False)
    allm.generate(engine, [allm.user("q"), turn, allm.tool_result("toolu_1", "ok")], api_key="k")
    assert [item.get("type") for item in server.body()["input"]] == [
        None,
        "function_call",
        "function_call_output",
    ]


@pytest.mark.parametrize("endpoint", ["chat_completions", "responses"])
def test_the_chat_loop_runs_a_tool_and_sends_its_result(endpoint: str) -> None:
    directory = "openai-chat" if endpoint == "chat_completions" else "openai-responses"
    tool_case = (
        "tool_call_stream_fragmented"
        if endpoint == "chat_completions"
        else "reasoning_tool_call_stream"
    )
    first = load(directory, tool_case)
    final = load(directory, "text_stream")
    server = Server((200, SSE, [first.body]), (200, SSE, [final.body]))
    seen: list[Any] = []

    def get_weather(arguments: dict[str, Any]) -> dict[str, Any]:
        seen.append(arguments)
        return {"temp_c": 24}

    tool = Tool(
        "get_weather",
        "Get the current weather for a city.",
        {
            "type": "object",
            "properties": {"location": {"type": "string"}, "unit": {"type": "string"}},
        },
        handler=get_weather,
    )
    engine = allm.Engine(
        adapter=OpenAI(),
        model="gpt-5-mini",
        tools=[tool],
        adapter_opts={**server.opts(), "endpoint": endpoint},
        retry=False,
    )
    result = allm.chat(engine, [allm.user("Weather?")], api_key="k")
    assert result.final_response.text == final.expect["output_text"]
    assert seen and seen[0]["unit"] == "celsius"
    [call] = first.expect["tool_calls"]
    body = server.body(1)
    if endpoint == "chat_completions":
        assert body["messages"][1]["tool_calls"][0]["id"] == call["id"]
        assert body["messages"][2] == {
            "role": "tool",
            "tool_call_id": call["id"],
            "content": '{"temp_c":24}',
        }
    else:
        [reasoning] = first.expect["reasoning_items"]
        kinds = [item.get("type") for item in body["input"]]
        assert kinds == [None, "reasoning", "function_call", "function_call_output"]
        assert body["input"][1]["encrypted_content"] == reasoning["encrypted_content"]
        assert body["input"][2]["call_id"] == call["id"]
        assert body["input"][3] == {
            "type": "function_call_output",
            "call_id": call["id"],
            "output": '{"temp_c":24}',
        }
