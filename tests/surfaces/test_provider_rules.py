"""The embedding and moderation adapters' own rules and decoders, case by case."""

from __future__ import annotations

import base64
import struct
from typing import Any

import httpx
import pytest

import allm
import allm.testing
from allm.adapters import Call
from allm.adapters.http import HttpResult
from allm.data.embeddings import EmbeddingRequest
from allm.data.moderation import ModerationRequest
from allm.providers.gemini_embeddings import GeminiEmbeddings
from allm.providers.openai_embeddings import (
    OpenAICompatibleEmbeddings,
    OpenAIEmbeddings,
    decode_vector,
)
from allm.providers.openai_embeddings.decode import parse_embeddings
from allm.providers.openai_moderation import OpenAIModeration
from allm.providers.openai_moderation.decode import parse_moderation

RESULT = HttpResult(200, {})


def call(**opts: Any) -> Call:
    return Call(request_id="r", engine=allm.Engine(), adapter_opts=opts, api_key="sk-rule")


def fail(message: str) -> allm.AdapterError:
    return allm.AdapterError("malformed_response", message)


def test_decode_vector_reads_base64_and_numbers_and_refuses_the_rest() -> None:
    packed = base64.b64encode(struct.pack("<2f", 0.5, -1.0)).decode()
    assert decode_vector(packed) == (0.5, -1.0)
    assert decode_vector([1, 2.5]) == (1.0, 2.5)
    assert decode_vector("abc") is None  # not base64 of whole floats
    assert decode_vector(base64.b64encode(b"123").decode()) is None
    assert decode_vector([True]) is None and decode_vector(None) is None


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({}, "no data list"),
        ({"data": []}, "0 embedding"),
        ({"data": [{"index": 5, "embedding": [1.0]}]}, r"data\[0\]"),
        ({"data": ["nope"]}, r"data\[0\]"),
    ],
)
def test_parse_embeddings_refuses_unreadable_answers(document: Any, problem: str) -> None:
    with pytest.raises(allm.AdapterError, match=problem):
        parse_embeddings(document, RESULT, EmbeddingRequest(inputs=["a"]), fail)
    twice = {"data": [{"index": 0, "embedding": [1.0]}, {"index": 0, "embedding": [2.0]}]}
    with pytest.raises(allm.AdapterError, match=r"data\[1\]"):
        parse_embeddings(twice, RESULT, EmbeddingRequest(inputs=["a", "b"]), fail)
    plain = parse_embeddings(
        {"data": [{"embedding": [1.0]}], "usage": "?"}, RESULT, EmbeddingRequest(inputs=["a"]), fail
    )
    assert plain.vectors == ((1.0,),) and plain.usage.input_tokens is None


def test_openai_embedding_rules_before_any_key() -> None:
    adapter = OpenAIEmbeddings()
    too_many = EmbeddingRequest(inputs=["x"] * 2049, model="text-embedding-3-small")
    with pytest.raises(allm.ValidationError) as info:
        adapter.embed(too_many, call())
    assert list(info.value.errors) == [(("inputs",), "too_many_inputs")]
    fixed = EmbeddingRequest(inputs=["x"], model="text-embedding-ada-002", dimensions=8)
    with pytest.raises(allm.ValidationError) as info:
        adapter.embed(fixed, call())
    assert list(info.value.errors) == [(("dimensions",), "unsupported_option")]
    compatible = OpenAICompatibleEmbeddings()
    with pytest.raises(allm.errors.ConfigurationError, match="base_url"):
        compatible.embed(EmbeddingRequest(inputs=["x"], model="m"), call())
    with pytest.raises(allm.ValidationError) as info:
        compatible.embed(EmbeddingRequest(inputs=["x"]), call(base_url="http://127.0.0.1:1/v1"))
    assert list(info.value.errors) == [(("model",), "missing")]


def test_openai_headers_and_a_keyless_compatible_server() -> None:
    adapter = OpenAIEmbeddings(organization="org-1", project="proj-1", headers={"x-extra": "1"})
    plan = adapter.embed(EmbeddingRequest(inputs=["x"], model="text-embedding-3-small"), call())
    sent = plan.send(None).request  # the HttpSend effect
    assert sent.header("openai-organization") == "org-1"
    assert sent.header("openai-project") == "proj-1" and sent.header("x-extra") == "1"
    plan.close()
    compatible = OpenAICompatibleEmbeddings()
    keyless = Call(request_id="r", engine=allm.Engine(), adapter_opts={"base_url": "http://h/v1"})
    plan = compatible.embed(EmbeddingRequest(inputs=["x"], model="m"), keyless)
    assert plan.send(None).request.header("authorization") is None
    plan.close()
    keyed = compatible.embed(
        EmbeddingRequest(inputs=["x"], model="m"),
        Call(
            request_id="r",
            engine=allm.Engine(),
            adapter_opts={"base_url": "http://h/v1"},
            api_key="k",
        ),
    )
    assert keyed.send(None).request.header("authorization") == "Bearer k"
    keyed.close()


def test_a_transport_failure_is_an_adapter_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    opts = {"http_client": httpx.Client(transport=httpx.MockTransport(refuse))}
    for slot, adapter in (
        ("embedding_adapter", "openai_embeddings"),
        ("embedding_adapter", "gemini_embeddings"),
    ):
        engine = allm.Engine(**{slot: adapter}, adapter_opts=opts, retry=False)
        with pytest.raises(allm.AdapterError) as info:
            allm.embed(engine, "x", api_key="k")
        assert info.value.reason == "network_error"


def test_gemini_rules_before_any_key() -> None:
    adapter = GeminiEmbeddings()
    with pytest.raises(allm.ValidationError) as info:
        adapter.embed(EmbeddingRequest(inputs=["x"] * 101, model="../etc"), call())
    assert set(info.value.errors) == {
        (("model",), "invalid_model_id"),
        (("inputs",), "too_many_inputs"),
    }
    request = EmbeddingRequest(
        inputs=["x"], model="models/gemini-embedding-001", options={"task_type": "CLUSTERING"}
    )
    built = adapter.build_request(request, call())
    assert built.url.endswith("/models/gemini-embedding-001:embedContent")
    assert b'"taskType":"CLUSTERING"' in (built.body or b"")


def test_parse_moderation_refuses_unreadable_answers() -> None:
    request = ModerationRequest(inputs=[[allm.TextPart("a")]])
    with pytest.raises(allm.AdapterError):
        parse_moderation({"results": {}}, RESULT, request, fail)
    bad_scores = {"results": [{"flagged": False, "categories": {}, "category_scores": {"a": "x"}}]}
    with pytest.raises(allm.AdapterError):
        parse_moderation(bad_scores, RESULT, request, fail)
    bare = {"results": [{"flagged": False, "categories": {"a": False}, "category_scores": {}}]}
    response = parse_moderation(bare, RESULT, request, fail)
    assert response.metadata == {} and response.results[0].metadata == {}
    bad_flags = {"results": [{"flagged": False, "categories": {"a": 1}, "category_scores": {}}]}
    with pytest.raises(allm.AdapterError):
        parse_moderation(bad_flags, RESULT, request, fail)


def test_moderation_body_with_an_image_url_and_options() -> None:
    adapter = OpenAIModeration()
    request = ModerationRequest(
        inputs=[[allm.ImagePart.from_url("https://example.com/a.png")]], options={"user": "u"}
    )
    plan = adapter.moderate(request, call())
    body = plan.send(None).request.body
    assert b'"url":"https://example.com/a.png"' in body and b'"user":"u"' in body
    plan.close()


def test_override_with_an_image_adapter_and_a_non_engine() -> None:
    with allm.testing.override("fake_images"):
        with pytest.raises(allm.errors.ConfigurationError):
            allm.embed("not an engine", "x")  # type: ignore[arg-type]
        engine = allm.Engine(image_adapter="openai_images")
        from allm._hooks import apply_override

        assert apply_override(engine).image_adapter is not engine.image_adapter
        assert apply_override("text") == "text"
