"""``allm.embed`` / ``aembed`` on the Fake: shapes, order, batching, retries, validation,
telemetry, round trips; and 10,000 inputs through the Fake and through a loopback server."""

from __future__ import annotations

import base64
import json
import math
import pickle
import struct
import threading
import time
from typing import Any

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

import allm
from allm import telemetry
from allm.data.embeddings import EmbeddingRequest
from allm.providers.fake_embeddings import FakeEmbeddings, error, fake_vector, ok, retry_until_call
from allm.providers.openai_embeddings import OpenAIEmbeddings
from allm.testing.loopback import Answer, LoopbackServer, ReceivedRequest

FAST_RETRY = {"max_attempts": 3, "base_delay_ms": 0, "jitter_ms": 0}


def fake(**opts: Any) -> allm.Engine:
    return allm.Engine(embedding_adapter="fake_embeddings", adapter_opts=opts, retry=FAST_RETRY)


def both(engine: allm.Engine, inputs: Any, **opts: Any) -> allm.EmbeddingResponse:
    """The sync answer, checked equal to the async one."""
    sync = allm.embed(engine, inputs, **opts)

    async def go() -> allm.EmbeddingResponse:
        return await allm.aembed(engine, inputs, **opts)

    assert anyio.run(go) == sync
    return sync


def test_a_string_gives_one_vector_and_vector_is_it() -> None:
    response = both(fake(), "hello")
    assert len(response.vectors) == 1 and response.vector == response.vectors[0]
    assert len(response.vector) == 8 and math.isclose(sum(x * x for x in response.vector), 1.0)
    assert response.dimensions == 8 and response.model == "fake-embedding"
    assert response.vector == fake_vector("hello", 8, "fake-embedding|None")


def test_a_list_gives_one_vector_per_input_in_order() -> None:
    texts = ["alpha", "beta", "gamma", "alpha"]
    response = both(fake(), texts, dimensions=5, batch_size=3)
    assert [len(v) for v in response.vectors] == [5] * 4
    assert response.vectors[0] == response.vectors[3] != response.vectors[1]
    assert response.metadata["batches"] == 2
    assert response.usage.input_tokens == 4 and response.usage.total_tokens == 4


def test_input_type_and_model_change_the_fake_vectors() -> None:
    query = both(fake(), "x", input_type="query").vector
    document = both(fake(), "x", input_type="document").vector
    other = both(fake(), "x", model="other").vector
    assert len({query, document, other}) == 3


@given(
    texts=st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=30),
    size=st.integers(min_value=1, max_value=31),
    limit=st.integers(min_value=1, max_value=4),
)
def test_batching_never_changes_the_answer(texts: list[str], size: int, limit: int) -> None:
    whole = allm.embed(fake(), texts)
    split = allm.embed(fake(), texts, batch_size=size, max_concurrency=limit)
    assert split.vectors == whole.vectors
    assert split.metadata["batches"] == math.ceil(len(texts) / size)


def test_empty_list_sends_nothing() -> None:
    seen: list[Any] = []
    response = both(fake(embedding_record=seen), [])
    assert response.vectors == () and response.metadata == {"batches": 0} and seen == []
    with pytest.raises(IndexError):
        _ = response.vector
    assert response.dimensions is None


def test_bad_inputs_and_options_are_listed_before_any_request() -> None:
    seen: list[Any] = []
    with pytest.raises(allm.ValidationError) as info:
        allm.embed(
            fake(embedding_record=seen),
            ["ok", "", 3],
            dimensions=0,
            input_type="passage",
            batch_size=5000,
            options=[],
            metadata="x",
        )
    assert set(info.value.errors) == {
        (("inputs", 1), "empty"),
        (("inputs", 2), "not_a_string"),
        (("dimensions",), "not_a_positive_int"),
        (("input_type",), "not_query_or_document"),
        (("batch_size",), "exceeds_provider_limit"),
        (("options",), "not_a_map"),
        (("metadata",), "not_a_map"),
    }
    with pytest.raises(allm.ValidationError) as info:
        allm.embed(fake(), b"bytes", batch_size=0)
    assert set(info.value.errors) == {
        (("inputs",), "not_a_string_or_list"),
        (("batch_size",), "not_a_positive_int"),
    }
    with pytest.raises(allm.ValidationError) as info:
        allm.embed(fake(), "")
    assert info.value.errors == ((("inputs",), "empty"),) or list(info.value.errors) == [
        (("inputs",), "empty")
    ]
    assert seen == []


def test_max_concurrency_comes_from_the_call_else_the_engine() -> None:
    with pytest.raises(allm.errors.ConfigurationError, match="max_concurrency"):
        allm.embed(
            allm.Engine(embedding_adapter="fake_embeddings", params={"max_concurrency": 0}), "x"
        )
    engine = allm.Engine(embedding_adapter="fake_embeddings", params={"max_concurrency": 0})
    assert allm.embed(engine, ["a", "b"], batch_size=1, max_concurrency=2).metadata["batches"] == 2


def test_call_options_are_checked() -> None:
    with pytest.raises(allm.errors.ConfigurationError) as info:
        allm.embed(fake(), "x", max_concurrency=0, request_id="", adapter_opts=[])
    assert len(info.value.problems) == 3
    with pytest.raises(allm.errors.ConfigurationError):
        allm.embed("not an engine", "x")  # type: ignore[arg-type]


def test_no_adapter_is_an_engine_error_naming_the_slot() -> None:
    with pytest.raises(allm.EngineError) as info:
        allm.embed(allm.Engine(), "x")
    assert info.value.reason == "no_embedding_adapter" and "embedding_adapter" in str(info.value)
    with pytest.raises(allm.EngineError, match="no adapter serves 'acme'"):
        allm.embed(allm.Engine(embedding_model="acme:m1"), "x")
    with pytest.raises(allm.EngineError) as info:
        allm.embed(allm.Engine(embedding_adapter="fake_moderation"), "x")
    assert info.value.reason == "invalid_engine"


def test_a_provider_model_picks_the_adapter_and_the_call_model_wins() -> None:
    engine = allm.Engine(embedding_model="fake:first")
    assert allm.embed(engine, "x").model == "first"
    assert allm.embed(engine, "x", model="fake:second").model == "second"
    named = allm.Engine(embedding_adapter=FakeEmbeddings, embedding_model="fake_embeddings:m")
    assert allm.embed(named, "x").model == "m"
    kept = allm.Engine(embedding_adapter="fake_embeddings", embedding_model="llama3:8b")
    assert allm.embed(kept, "x").model == "llama3:8b"


def test_script_entries_retries_and_failures() -> None:
    engine = fake(embedding_script=[retry_until_call(2), ok([[1.0, 2.0]]), ("ok", [[3, 4]])])
    assert allm.embed(engine, "a").vectors == ((1.0, 2.0),)
    assert allm.embed(engine, "b").vectors == ((3.0, 4.0),)
    with pytest.raises(allm.AdapterError) as info:
        allm.embed(engine, "c")
    assert info.value.reason == "no_scripted_response"
    failing = fake(embedding_script=[error("rate_limited")] * 3)
    with pytest.raises(allm.AdapterError) as info:
        allm.embed(failing, "x")
    assert info.value.reason == "rate_limited"
    with pytest.raises(allm.AdapterError) as info:
        allm.embed(fake(embedding_script=[("error", "invalid_request")]), "x")
    assert info.value.reason == "invalid_request"


def test_the_first_failing_batch_cancels_the_rest() -> None:
    seen: list[Any] = []
    script = [ok([[1.0]]), error("authentication_failed")] + [ok([[2.0]])] * 50
    engine = fake(embedding_script=script, embedding_record=seen)
    with pytest.raises(allm.AdapterError) as info:
        allm.embed(engine, [str(i) for i in range(52)], batch_size=1, max_concurrency=1)
    assert info.value.reason == "authentication_failed"

    async def go() -> None:
        await allm.aembed(
            fake(embedding_script=[error("invalid_request")] * 5), ["a", "b", "c"], batch_size=1
        )

    with pytest.raises(allm.AdapterError):
        anyio.run(go)


def test_bad_scripts_are_configuration_errors() -> None:
    with pytest.raises(allm.errors.ConfigurationError):
        allm.embed(fake(embedding_script=[ok([[1.0]])]), ["a", "b"])
    with pytest.raises(allm.errors.ConfigurationError):
        allm.embed(fake(embedding_script=["nonsense", ("error", "no_such_reason")]), "a")
    with pytest.raises(allm.errors.ConfigurationError):
        allm.embed(fake(embedding_script="text"), "a")
    with pytest.raises(allm.errors.ConfigurationError):
        error("no_such_reason")
    with pytest.raises(allm.errors.ConfigurationError):
        error("timeout", bogus=1)
    with pytest.raises(allm.errors.ConfigurationError):
        retry_until_call(0)


def test_record_as_callable_and_a_shared_cursor() -> None:
    calls: list[Any] = []
    engine = fake(embedding_record=lambda request, call: calls.append(request))
    allm.embed(engine, ["a", "b", "c"], batch_size=2, max_concurrency=1)
    assert [r.inputs for r in calls] == [("a", "b"), ("c",)]
    adapter = FakeEmbeddings()
    adapter.reset()
    assert repr(adapter) == "FakeEmbeddings()"


def test_adapter_errors_as_an_embedding_response_are_malformed() -> None:
    class Broken(FakeEmbeddings):
        def default(self, request: EmbeddingRequest, call: Any) -> Any:
            return "not a response"

    with pytest.raises(allm.AdapterError) as info:
        allm.embed(allm.Engine(embedding_adapter=Broken()), "x")
    assert info.value.reason == "malformed_response"

    class Short(FakeEmbeddings):
        def default(self, request: EmbeddingRequest, call: Any) -> Any:
            return allm.EmbeddingResponse(())

    with pytest.raises(allm.AdapterError, match="0 vector"):
        allm.embed(allm.Engine(embedding_adapter=Short()), "x")


def test_values_round_trip_through_json_and_pickle() -> None:
    response = allm.embed(fake(), ["a", "b"], metadata={"k": 1})
    assert allm.from_json(allm.to_json(response)) == response
    assert pickle.loads(pickle.dumps(response)) == response
    request = EmbeddingRequest(inputs=["a"], dimensions=3, input_type="query")
    assert allm.from_json(allm.to_json(request)) == request and request.inputs == ("a",)
    engine = allm.Engine(embedding_adapter="fake_embeddings", embedding_model="fake:m")
    assert allm.from_json(allm.to_json(engine)) == engine


def test_telemetry_span_and_costs_from_the_catalog() -> None:
    events: list[tuple[str, Any, Any]] = []
    handler = telemetry.attach(lambda *e: events.append(e), ["allm.embed.start", "allm.embed.stop"])
    try:
        allm.configure(catalog=allm.catalog.BundledCatalog())
        engine = allm.Engine(embedding_adapter="fake_embeddings")
        script = [ok([[0.5]])]
        response = allm.embed(
            engine,
            "one two three",
            model="openai:text-embedding-3-small",
            adapter_opts={"embedding_script": script},
        )
    finally:
        telemetry.detach(handler)
    assert [name for name, _, _ in events] == ["allm.embed.start", "allm.embed.stop"]
    stop = events[1][2]
    assert stop["response"] is response and stop["batches"] == 1 and stop["input_count"] == 1
    assert response.usage.input_cost == pytest.approx(3 * 0.02 / 1_000_000)
    assert response.usage.total_cost == response.usage.input_cost


def test_the_catalog_bounds_dimensions() -> None:
    allm.configure(catalog=allm.catalog.BundledCatalog())
    with pytest.raises(allm.ValidationError) as info:
        allm.embed(fake(), "x", model="openai:text-embedding-3-small", dimensions=4096)
    assert list(info.value.errors) == [(("dimensions",), "exceeds_model_limit")]
    chat_only = allm.ModelRef("openai", "gpt-4o", capabilities={"embeddings": False})
    with pytest.raises(allm.ValidationError) as info:
        allm.embed(fake(), "x", model=chat_only)
    assert list(info.value.errors) == [(("model",), "embeddings_disabled")]


def test_a_failure_is_reported_on_the_stop_event() -> None:
    events: list[Any] = []
    handler = telemetry.attach(lambda *e: events.append(e), ["allm.embed.stop"])
    try:
        with pytest.raises(allm.AdapterError):
            allm.embed(fake(embedding_script=[error("invalid_request")]), "x")
    finally:
        telemetry.detach(handler)
    assert events[0][2]["error"].reason == "invalid_request" and events[0][2]["response"] is None


# -- 10,000 inputs -----------------------------------------------------------------------------


def test_ten_thousand_inputs_through_the_fake() -> None:
    texts = [f"text {i}" for i in range(10_000)]
    seen: list[Any] = []
    response = allm.embed(fake(embedding_record=seen), texts, batch_size=256, max_concurrency=4)
    assert len(response.vectors) == 10_000 and len(seen) == math.ceil(10_000 / 256)
    assert response.vectors[1234] == fake_vector("text 1234", 8, "fake-embedding|None")
    assert response.vectors[9999] == fake_vector("text 9999", 8, "fake-embedding|None")


def _echo(received: ReceivedRequest) -> Answer:
    """Each input's vector is its number, so order is checkable; a short pause makes overlap."""
    body = received.json()
    time.sleep(0.002)
    data = [
        {
            "object": "embedding",
            "index": i,
            "embedding": base64.b64encode(struct.pack("<2f", float(text.split()[1]), 1.0)).decode(),
        }
        for i, text in enumerate(body["input"])
    ]
    payload = {"data": data, "model": body["model"], "usage": {"prompt_tokens": len(data)}}
    headers = {"content-type": "application/json"}
    return Answer(200, headers, json.dumps(payload).encode())


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_ten_thousand_inputs_through_a_loopback_server(mode: str) -> None:
    texts = [f"text {i}" for i in range(10_000)]
    with LoopbackServer() as server:
        server.route("POST", "/v1/embeddings", _echo)
        adapter = OpenAIEmbeddings(base_url=server.url + "/v1")
        engine = allm.Engine(embedding_adapter=adapter)
        opts = {"batch_size": 100, "max_concurrency": 3, "api_key": "sk-loop"}
        if mode == "sync":
            response = allm.embed(engine, texts, **opts)
        else:

            async def go() -> allm.EmbeddingResponse:
                return await allm.aembed(engine, texts, **opts)

            response = anyio.run(go)
        assert [v[0] for v in response.vectors] == [float(i) for i in range(10_000)]
        assert len(server.requests) == 100 == response.metadata["batches"]
        assert 1 <= server.max_in_flight <= 3
        assert response.usage.input_tokens == 10_000
        sent = sorted(int(r.json()["input"][0].split()[1]) for r in server.requests)
        assert sent == list(range(0, 10_000, 100))
        adapter.close()
    assert threading.active_count() < 50
