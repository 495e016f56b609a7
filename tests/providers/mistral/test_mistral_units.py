"""Mistral's spellings in the request (tool_choice any, random_seed, nine-character call ids, no
stream_options) and its answer shapes (content chunks, finish reasons, error bodies)."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

import allm
from allm.adapters import Call
from allm.data.messages import Message, Role
from allm.providers.mistral import Mistral, content_chunks, mistral_tool_call_id

WEATHER = allm.Tool("weather", "", {"type": "object", "properties": {}})


def body(request: allm.Request, stream: bool = True, **params: Any) -> dict[str, Any]:
    c = Call(request_id="r", engine=allm.Engine(), params=params, api_key="mistral-key-01")
    built = Mistral().build_request(request, c, stream=stream)
    assert built.url == "https://api.mistral.ai/v1/chat/completions"
    assert dict(built.headers)["authorization"] == "Bearer mistral-key-01"
    return dict(json.loads(built.body))


def test_the_body_speaks_mistral() -> None:
    request = allm.request(
        [allm.user("hi")], model="mistral-small-latest", tools=[WEATHER], tool_choice="required"
    )
    sent = body(allm.request([allm.user("hi")], model="m", seed=3), safe_prompt=True)
    assert sent["random_seed"] == 3 and "seed" not in sent and sent["safe_prompt"] is True
    assert "stream_options" not in sent and sent["stream"] is True
    assert body(request)["tool_choice"] == "any"
    forced = allm.request([allm.user("hi")], model="m", tools=[WEATHER], tool_choice="weather")
    assert body(forced)["tool_choice"] == {"type": "function", "function": {"name": "weather"}}


def test_call_ids_from_other_providers_are_replayed_as_nine_characters() -> None:
    call = allm.ToolCall("call_abc123XYZ-long", "weather", {"city": "Oslo"})
    short = allm.ToolCall("D681PevKs", "weather", {})
    messages = [
        allm.user("hi"),
        Message(Role.ASSISTANT, "", tool_calls=(call, short)),
        allm.tool_result("call_abc123XYZ-long", "sunny"),
        allm.tool_result("D681PevKs", "rain"),
    ]
    sent = body(allm.request(messages, model="m"), stream=False)
    ids = [c["id"] for c in sent["messages"][1]["tool_calls"]]
    assert ids[1] == "D681PevKs" and re.fullmatch(r"[A-Za-z0-9]{9}", ids[0])
    assert [m["tool_call_id"] for m in sent["messages"][2:]] == ids
    assert sent["messages"][1]["content"] == ""


@given(st.text(min_size=0, max_size=40))
def test_a_mapped_id_is_always_nine_letters_or_digits_and_stable(call_id: str) -> None:
    mapped = mistral_tool_call_id(call_id)
    assert re.fullmatch(r"[A-Za-z0-9]{9}", mapped) and mistral_tool_call_id(call_id) == mapped


def test_content_chunks() -> None:
    chunks = [
        {"type": "thinking", "thinking": [{"type": "text", "text": "a"}]},
        {"type": "thinking", "thinking": "b"},
        {"type": "text", "text": "c"},
        {"type": "image_url"},
        "stray",
    ]
    assert content_chunks(chunks) == ("c", "ab")
    assert content_chunks("plain") == ("plain", "")
    assert content_chunks(None) == ("", "")


def serve(status: int, payload: Any, content_type: str = "application/json") -> allm.Engine:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers={"content-type": content_type}, content=raw)

    return allm.Engine(
        adapter=Mistral(),
        model="mistral-small-latest",
        retry=False,
        adapter_opts={"http_client": httpx.Client(transport=httpx.MockTransport(answer))},
    )


def test_a_whole_answer_that_ends_in_error_is_an_error() -> None:
    answer = {
        "id": "x",
        "model": "m",
        "choices": [{"index": 0, "message": {"content": "Hel"}, "finish_reason": "error"}],
    }
    response = allm.generate(serve(200, answer), [allm.user("hi")], streaming=False, api_key="k")
    assert response.finish_reason == "error"
    assert response.metadata["error"].reason == "provider_unavailable"


def test_a_422_lists_each_problem_with_its_path() -> None:
    payload = {
        "object": "error",
        "message": {"detail": [{"loc": ["body", "model"], "msg": "Field required"}, {"msg": "x"}]},
        "type": "invalid_request_message_error",
    }
    error = allm.generate(serve(422, payload), [allm.user("hi")], api_key="k").metadata["error"]
    assert error.reason == "invalid_request"
    assert error.message == "body.model: Field required; x"


def test_a_context_overflow_is_named() -> None:
    payload = {
        "object": "error",
        "message": "too large for model with 32768 maximum context length",
    }
    error = allm.generate(serve(400, payload), [allm.user("hi")], api_key="k").metadata["error"]
    assert error.reason == "context_length_exceeded"


def test_the_key_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MISTRAL_API_KEY", raising=False)
    with pytest.raises(allm.errors.AllmError) as info:
        allm.generate(serve(200, {}), [allm.user("hi")])
    assert "MISTRAL_API_KEY" in str(info.value)
