"""``include_raw_chunks=True`` on every wire: each provider event the decoder reads reaches the
consumer as ``RawChunk(("wire", name, payload))`` just before the events decoded from it (never
before ``MessageStarted``), the rest of the stream and its fold are unchanged, and a call that did
not ask gets none."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import pytest
from tests.conftest import Driver
from tests.providers.bedrock.support import adapter as bedrock_adapter
from tests.providers.bedrock.support import engine_for as bedrock_engine
from tests.providers.conformance import engine_serving
from tests.providers.vertex.support import PROJECT, credentials
from tests.providers.wire import Case, load

import allm
from allm.adapters.plan import started_first, wire_chunk
from allm.adapters.sse import SSEEvent
from allm.events import ErrorEvent, MessageStarted, RawChunk, TextDelta
from allm.providers.anthropic import Anthropic
from allm.providers.azure import AzureOpenAI
from allm.providers.gemini import Gemini
from allm.providers.mistral import Mistral
from allm.providers.ollama import Ollama
from allm.providers.openai import OpenAI, OpenAICompatible
from allm.providers.vertex import Vertex

VERTEX = {"credentials": credentials(), "project": PROJECT}

# directory, case, adapter factory, model, adapter options
WIRES: list[tuple[str, str, Callable[[], Any], str, dict[str, Any]]] = [
    ("openai-chat", "text_stream", OpenAI, "gpt-4o-mini", {"endpoint": "chat_completions"}),
    ("openai-chat", "logprobs_stream", OpenAI, "gpt-4.1-mini", {"endpoint": "chat_completions"}),
    (
        "openai-chat",
        "compat_reasoning_content_stream",
        lambda: OpenAICompatible(base_url="http://127.0.0.1:9/v1"),
        "qwen3",
        {},
    ),
    ("openai-responses", "text_stream", OpenAI, "gpt-4.1", {"endpoint": "responses"}),
    ("openai-responses", "logprobs_stream", OpenAI, "gpt-4.1-mini", {"endpoint": "responses"}),
    ("anthropic", "text_stream", Anthropic, "claude-sonnet-4-5", {}),
    ("anthropic", "thinking_stream", Anthropic, "claude-sonnet-4-5", {}),
    ("gemini", "text_stream", Gemini, "gemini-2.5-flash", {}),
    ("gemini", "logprobs_stream", Gemini, "gemini-2.5-flash", {}),
    ("ollama", "text_stream", Ollama, "llama3.2", {}),
    ("ollama", "logprobs_stream", Ollama, "llama3.2", {}),
    ("mistral", "text_stream", Mistral, "mistral-small-latest", {}),
    ("azure", "text_stream", AzureOpenAI, "gpt-4o-prod", {"resource": "contoso"}),
    ("bedrock", "text_stream", bedrock_adapter, "", {}),
    ("vertex", "text_stream", Vertex, "gemini-2.5-flash", {**VERTEX, "location": "us-central1"}),
    ("vertex-anthropic", "text_stream", Vertex, "claude-sonnet-4-5@20250929", VERTEX),
]
IDS = [f"{directory}/{name}" for directory, name, *_ in WIRES]
SYNC = Driver("sync")


def engine(wire: tuple[Any, ...], how: Any = "whole") -> tuple[Case, Any, allm.Engine]:
    directory, name, factory, model, opts = wire
    case = load(directory, name)
    adapter = factory()
    if directory == "bedrock":
        return case, adapter, bedrock_engine(case, how)
    built = engine_serving(case, adapter, model, how, {"closed": 0}, [], **opts)
    return case, adapter, built


def events(driver: Driver, engine: allm.Engine, **opts: Any) -> list[Any]:
    return driver.events(engine, [allm.user("hi")], api_key="k", **opts)


def is_wire(event: Any) -> bool:
    return isinstance(event, RawChunk) and event.data[0] == "wire"


def frames(case: Case, adapter: Any) -> list[Any]:
    """The provider events in the body, framed as the adapter frames them."""
    framing = adapter.frame_decoder(len(case.body) + 1)
    return [*framing.feed(case.body), *framing.finish()]


@pytest.mark.parametrize("how", ["whole", "bytewise"])
@pytest.mark.parametrize("wire", WIRES, ids=IDS)
def test_every_provider_event_reaches_the_consumer_as_a_raw_chunk(
    wire: tuple[Any, ...], how: str, driver: Driver
) -> None:
    case, adapter, on = engine(wire, how)
    with_chunks = events(driver, on, include_raw_chunks=True)
    without = events(driver, engine(wire, how)[2])
    chunks = [event for event in with_chunks if is_wire(event)]
    assert [chunk.data for chunk in chunks] == [wire_chunk(f).data for f in frames(case, adapter)]
    assert type(with_chunks[0]) is MessageStarted
    assert [event for event in with_chunks if not is_wire(event)] == without
    assert not any(is_wire(event) for event in without)
    folded = allm.StreamCollector().apply_all(with_chunks).to_response()
    assert folded == allm.StreamCollector().apply_all(without).to_response()
    assert folded.output_text == case.expect["output_text"]


@pytest.mark.parametrize("wire", WIRES, ids=IDS)
def test_chunks_carry_the_provider_event_names(wire: tuple[Any, ...]) -> None:
    _, _, on = engine(wire)
    chunks = [event.data for event in events(SYNC, on, include_raw_chunks=True) if is_wire(event)]
    names = [name for _, name, _ in chunks]
    directory = wire[0]
    if directory == "openai-responses":
        assert names[0] == "response.created" and names[-1] == "response.completed"
    elif directory in ("anthropic", "vertex-anthropic"):
        assert names[0] == "message_start" and names[-1] == "message_stop"
    elif directory == "bedrock":
        assert names[0] == "messageStart" and names[-1] == "metadata"
    elif directory == "openai-chat" and wire[1] != "compat_reasoning_content_stream":
        assert chunks[-1] == ("wire", None, "[DONE]")
        assert all(isinstance(payload, dict) for _, _, payload in chunks[:-1])
    else:  # every payload is a JSON object, but an OpenAI-style ``[DONE]``
        assert all(isinstance(payload, dict) or payload == "[DONE]" for _, _, payload in chunks)


def test_a_text_delta_follows_the_chunk_of_the_event_it_came_from() -> None:
    _, _, on = engine(WIRES[0])
    stream = events(SYNC, on, include_raw_chunks=True)
    for index, event in enumerate(stream):
        if isinstance(event, TextDelta):
            chunk = stream[index - 1]
            assert is_wire(chunk)
            delta = chunk.data[2]["choices"][0]["delta"]
            assert delta["content"] == event.delta


@pytest.mark.parametrize(
    ("directory", "name", "factory", "model"),
    [
        ("azure", "json_to_stream", AzureOpenAI, "gpt-4o-prod"),
        ("ollama", "json_to_stream", Ollama, "llama3.2"),
    ],
)
def test_a_whole_body_served_to_a_stream_is_one_chunk(
    directory: str, name: str, factory: Any, model: str
) -> None:
    case = load(directory, name)
    opts = {"resource": "contoso"} if directory == "azure" else {}
    served = engine_serving(case, factory(), model, "whole", {"closed": 0}, [], **opts)
    stream = events(SYNC, served, include_raw_chunks=True)
    chunks = [event for event in stream if is_wire(event)]
    assert len(chunks) == 1 and isinstance(chunks[0].data[2], dict)
    assert type(stream[0]) is MessageStarted and is_wire(stream[1])


def test_a_failed_stream_keeps_its_chunks_and_ends_with_the_error() -> None:
    case = load("anthropic", "stream_overloaded_error")
    served = engine_serving(case, Anthropic(), "claude-sonnet-4-5", "whole", {"closed": 0}, [])
    stream = events(SYNC, served, include_raw_chunks=True)
    assert type(stream[0]) is MessageStarted and isinstance(stream[-1], ErrorEvent)
    assert any(is_wire(event) and event.data[1] == "error" for event in stream)


def test_a_frame_that_is_not_json_comes_as_its_text_or_bytes() -> None:
    assert wire_chunk(SSEEvent("[DONE]")).data == ("wire", None, "[DONE]")
    assert wire_chunk(SSEEvent('{"type": "ping"}', "ping")).data == (
        "wire",
        "ping",
        {"type": "ping"},
    )
    assert wire_chunk(SSEEvent('{"type": "x"}')).data == ("wire", "x", {"type": "x"})
    assert wire_chunk(b"\xff<html>").data == ("wire", None, b"\xff<html>")
    assert wire_chunk(b"").data == ("wire", None, b"")


def _plan(items: list[Any], replies: list[Any]) -> Generator[Any, Any, None]:
    for item in items:
        replies.append((yield item))


def test_started_first_moves_early_chunks_after_the_message_start_and_passes_replies() -> None:
    early = wire_chunk(SSEEvent('{"type": "message_start"}'))
    started = MessageStarted(allm.assistant(""))
    replies: list[Any] = []
    plan = started_first(_plan(["effect", early, started, TextDelta("a")], replies))
    out = [next(plan)]
    out.append(plan.send("answer"))  # the effect's reply reaches the inner plan
    out += list(plan)
    assert out == ["effect", started, early, TextDelta("a")]
    assert replies[0] == "answer" and replies[1] is None  # the held chunk got no stale reply


def test_started_first_keeps_chunks_of_a_plan_that_never_opened_a_message() -> None:
    early = wire_chunk(SSEEvent("{}"))
    assert list(started_first(_plan([early, "effect"], []))) == ["effect", early]


def test_a_raw_chunk_round_trips_through_json_and_pickle() -> None:
    import pickle

    chunk = wire_chunk(SSEEvent('{"type": "message_start", "n": [1, 2]}', "message_start"))
    assert allm.from_json(allm.to_json(chunk)) == chunk
    assert pickle.loads(pickle.dumps(chunk)) == chunk
