"""Embedding batches on OpenAI's Batch API: the lines carry the body ``allm.embed`` sends, the
results the vectors its parser reads."""

from __future__ import annotations

import json

import anyio
import httpx

import allm
import allm.batch as batch

from .servers import OpenAIServer, jsonl

KEY = "sk-embed-batch-secret"
VECTOR_BODY = {
    "object": "list",
    "data": [{"object": "embedding", "index": 0, "embedding": [0.25, -0.5, 1.0]}],
    "model": "text-embedding-3-small",
    "usage": {"prompt_tokens": 3, "total_tokens": 3},
}


class EmbeddingServer(OpenAIServer):
    def answer(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/files/file-out/content":
            line = {
                "custom_id": "doc",
                "response": {"status_code": 200, "request_id": "r", "body": VECTOR_BODY},
            }
            return httpx.Response(200, content=jsonl([line]))
        if request.url.path == "/v1/files/file-err/content":
            error = {"error": {"message": "too long", "type": "invalid_request_error"}}
            line = {
                "custom_id": "long",
                "response": {"status_code": 400, "request_id": "r2", "body": error},
            }
            return httpx.Response(200, content=jsonl([line]))
        return super().answer(request)


def test_an_embeddings_batch_uses_the_embeddings_codec() -> None:
    server = EmbeddingServer()
    engine = allm.Engine(embedding_model="openai:text-embedding-3-small")
    client = server.clients()
    requests = [
        ("doc", allm.EmbeddingRequest(inputs=("a document",), dimensions=3)),
        ("long", allm.EmbeddingRequest(inputs=("x" * 50,))),
    ]
    job = batch.submit(engine, requests, api_key=KEY, **client)
    assert job.metadata["surface"] == "embeddings" and job.provider == "openai"
    upload = next(r for r in server.sent if r.url.path == "/v1/files").content
    lines = [
        json.loads(x) for x in upload.split(b"\r\n\r\n", 2)[2].split(b"\r\n--")[0].splitlines() if x
    ]
    assert [line["url"] for line in lines] == ["/v1/embeddings", "/v1/embeddings"]

    sent: list[httpx.Request] = []

    def embed_answer(request: httpx.Request) -> httpx.Response:
        request.read()
        sent.append(request)
        return httpx.Response(200, json=VECTOR_BODY, headers={"x-request-id": "r"})

    direct = allm.embed(
        engine,
        "a document",
        dimensions=3,
        api_key=KEY,
        http_client=httpx.Client(transport=httpx.MockTransport(embed_answer)),
    )
    assert json.loads(sent[0].content) == lines[0]["body"]

    job = allm.from_json(allm.to_json(job))
    done = batch.wait(engine, job, poll_interval=0, api_key=KEY, **client)
    items = {item.custom_id: item for item in batch.results(engine, done, api_key=KEY, **client)}
    assert items["doc"].response.vectors == direct.vectors
    assert items["doc"].response.usage.input_tokens == 3
    assert items["long"].response is None and items["long"].error.reason == "invalid_request"
    assert allm.from_json(allm.to_json(items["doc"])) == items["doc"]

    async def again() -> list[allm.BatchItem]:
        return [item async for item in batch.aresults(engine, done, api_key=KEY, **client)]

    assert [i.custom_id for i in anyio.run(again)] == ["doc", "long"]


def test_embeddings_batch_preflight() -> None:
    engine = allm.Engine(embedding_model="openai:text-embedding-ada-002")
    mixed = [
        allm.EmbeddingRequest(inputs=("a",), dimensions=3),  # ada has fixed dimensions
        allm.request([allm.user("not an embedding")]),
        ("x", allm.EmbeddingRequest(inputs=("b",))),
        ("x", allm.EmbeddingRequest(inputs=("c",))),
    ]
    try:
        batch.submit(engine, mixed, api_key=KEY)
    except allm.ValidationError as exc:
        paths = [path for path, _ in exc.errors]
    assert (0, "dimensions") in paths and (1,) in paths and (3, "custom_id") in paths
    fake = allm.Engine(embedding_adapter="fake_embeddings")
    try:
        batch.submit(fake, [allm.EmbeddingRequest(inputs=("a",))])
    except allm.ValidationError as exc:
        assert "no embeddings batch" in exc.errors[0][1]
