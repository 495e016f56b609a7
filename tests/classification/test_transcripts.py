"""``allm.classify`` over recorded wire transcripts (tests/fixtures/wire-classify, replayed through
httpx.MockTransport): OpenAI Chat Completions in native mode sends the rewritten strict schema
with the label enum; Anthropic in tool mode forces the answer tool with the same schema."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from tests.providers.openapi import CHAT_REQUEST, assert_valid
from tests.providers.wire import Case, check_response, is_subset, load

import allm
from allm.providers import Anthropic, OpenAI

WIRE = Path(__file__).resolve().parents[1] / "fixtures" / "wire-classify"
LABELS = ["positive", "negative", "neutral"]
REVIEW = "The battery died after two days."


def case(directory: str, name: str) -> Case:
    return load(directory, name, WIRE)


# (directory, case, adapter, adapter options, model)
WIRES = [
    ("openai-chat", "classify_stream", OpenAI, {"endpoint": "chat_completions"}, "gpt-4o-mini"),
    ("anthropic", "classify_tool_stream", Anthropic, {}, "claude-haiku-4-5"),
]


def run(wire: tuple[Any, ...], how: str | list[int], is_async: bool = False) -> tuple[Case, Any]:
    directory, name, adapter, opts, model = wire
    recorded = case(directory, name)
    client = recorded.async_client(how) if is_async else recorded.client(how)
    key = "async_http_client" if is_async else "http_client"
    engine = allm.Engine(adapter=adapter(), adapter_opts={key: client, **opts}, retry=False)
    kwargs = {"labels": LABELS, "model": model, "api_key": "k", "temperature": 0, "max_tokens": 120}
    if is_async:
        result = asyncio.run(allm.aclassify(engine, REVIEW, **kwargs))
    else:
        result = allm.classify(engine, REVIEW, **kwargs)
    return recorded, result


@pytest.mark.parametrize("wire", WIRES, ids=[w[0] for w in WIRES])
@pytest.mark.parametrize("how", ["whole", "bytewise"])
def test_a_recorded_classification(wire: tuple[Any, ...], how: str) -> None:
    recorded, result = run(wire, how)
    assert result.label == "negative"
    assert result.scores == pytest.approx({"positive": 0.02, "negative": 0.95, "neutral": 0.03})
    assert sum(result.scores.values()) == pytest.approx(1.0)
    assert check_response(result.response, recorded.expect) == []
    assert result.response.tool_calls == ()
    sent = recorded.sent_body()
    assert is_subset(recorded.request["body"], sent) == []
    assert len(recorded.seen) == 1


def test_openai_chat_sends_the_strict_schema_with_the_label_enum() -> None:
    recorded, _ = run(WIRES[0], "whole")
    fmt = recorded.sent_body()["response_format"]
    assert_valid(fmt, "ResponseFormatJsonSchema")
    assert_valid(recorded.sent_body(), CHAT_REQUEST)
    assert fmt["json_schema"]["strict"] is True
    schema = fmt["json_schema"]["schema"]
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["label", "scores"]
    assert schema["properties"]["label"]["enum"] == LABELS
    scores = schema["properties"]["scores"]
    assert scores["required"] == LABELS and scores["additionalProperties"] is False


def test_anthropic_forces_the_answer_tool() -> None:
    recorded, result = run(WIRES[1], "whole")
    body = recorded.sent_body()
    (tool,) = body["tools"]
    assert tool["name"] == "respond_with_json_classification"
    assert tool["input_schema"]["properties"]["label"]["enum"] == LABELS
    assert body["tool_choice"] == {"type": "tool", "name": "respond_with_json_classification"}
    assert result.response.raw_finish_reason == "tool_use"


@pytest.mark.parametrize("wire", WIRES, ids=[w[0] for w in WIRES])
def test_the_async_twin_reads_the_same_transcript(wire: tuple[Any, ...]) -> None:
    _, sync = run(wire, "whole")
    recorded, other = run(wire, [7, 64, 300], is_async=True)
    assert (other.label, other.scores) == (sync.label, sync.scores)
    assert is_subset(recorded.request["body"], recorded.sent_body()) == []
