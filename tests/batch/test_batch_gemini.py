"""Gemini's batch mode beyond inline chat requests: a job whose requests go up as an input file
through the Files API (resumable upload in chunks, results from the responses file), and
embeddings batches (``:asyncBatchEmbedContent``), each through its whole recorded life. The
uploaded lines are the bodies the non-batch path sends; each result is what it returns."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import anyio
import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

import allm
import allm.batch as batch
from allm.batch import _gemini
from allm.batch._gemini import chunked
from allm.errors import ConfigurationError
from allm.testing.loopback import Answer, LoopbackServer, ReceivedRequest

from .servers import GeminiEmbeddingServer, GeminiFileServer, jsonl, life, transcript
from .test_batch_providers import KEY, requests

MODEL = "gemini-2.0-flash"
EMBEDDING_MODEL = "gemini-embedding-001"
FILE = transcript("gemini_file")
EMBEDDINGS = transcript("gemini_embeddings")


def chat_engine(server: GeminiFileServer) -> allm.Engine:
    return allm.Engine(adapter="gemini", model=MODEL, adapter_opts=server.clients())


def uploaded_lines(server: GeminiFileServer) -> dict[str, Any]:
    """custom_id -> the request the uploaded file carried."""
    lines = [json.loads(line) for line in bytes(server.uploaded).splitlines()]
    assert all(set(line) == {"key", "request"} for line in lines)
    return {line["key"]: line["request"] for line in lines}


def direct(answer_body: Any, status: int = 200) -> tuple[list[httpx.Request], dict[str, Any]]:
    """A client for the non-batch path answering ``answer_body``; the requests it saw."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        request.read()
        seen.append(request)
        return httpx.Response(status, json=answer_body)

    return seen, {"http_client": httpx.Client(transport=httpx.MockTransport(answer))}


def file_life(mode: str, final: str | None = None) -> tuple[GeminiFileServer, Any, Any, list[Any]]:
    server = GeminiFileServer(final)
    opts = {"api_key": KEY, "input_file": True, "display_name": "nightly"}
    job, seen, done, items = life(chat_engine(server), requests(), mode, **opts)
    return server, (job, seen), done, items


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_the_life_of_a_file_input_job(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_gemini, "UPLOAD_CHUNK", 128)  # several chunks, lines cut across them
    server, (job, seen), done, items = file_life(mode)
    start = server.announced
    assert start["x-goog-upload-protocol"] == "resumable"
    assert start["x-goog-upload-header-content-type"] == "application/jsonl"
    assert int(start["x-goog-upload-header-content-length"]) == len(server.uploaded)
    assert start["x-goog-api-key"] == KEY
    commands = server.commands
    assert commands[0] == ("start", None) and commands[-1][0] == "upload, finalize"
    assert {command for command, _ in commands[1:-1]} == {"upload"} and len(commands) > 3
    offsets = [int(offset or 0) for _, offset in commands[1:]]
    assert offsets == [128 * index for index in range(len(offsets))]
    create = next(r for r in server.sent if r.url.path.endswith(":batchGenerateContent"))
    assert json.loads(create.content) == {
        "batch": {"display_name": "nightly", "input_config": {"file_name": "files/batch-input-789"}}
    }
    assert all(KEY not in r.content.decode() for r in server.sent)

    assert job.provider == "gemini" and job.status == "validating"
    assert job.metadata["input_file"] == "files/batch-input-789"
    assert seen == ["validating", "in_progress", "in_progress", "completed"]
    assert done.metadata["responses_file"] == "files/batch-output-321"
    assert done.counts == {"total": 3, "succeeded": 1, "errored": 2}
    by_id = {item.custom_id: item for item in items}
    assert by_id["a"].response.text == "Hello." and by_id["a"].response.request_id == "a"
    assert by_id["b"].error.reason == "invalid_request" and by_id["b"].response is None
    assert by_id["c"].error.reason == "rate_limited"
    assert all(KEY not in allm.to_json(item) for item in items)


def test_file_lines_and_results_are_the_non_streaming_path() -> None:
    server, _, _, items = file_life("sync")
    sent = uploaded_lines(server)
    by_id = {item.custom_id: item for item in items}
    recorded = {line["key"]: line for line in FILE["response_lines"]}
    for custom_id, request in requests():
        body = recorded[custom_id].get("response", {})
        seen, client = direct(body)
        eng = allm.Engine(adapter="gemini", model=MODEL, adapter_opts=client, retry=None)
        response = allm.generate(eng, request, streaming=False, api_key=KEY, request_id=custom_id)
        assert json.loads(seen[0].content) == sent[custom_id]
        if "response" in recorded[custom_id]:
            assert by_id[custom_id].response == response


def test_a_file_job_is_cancelled_and_one_expires() -> None:
    server = GeminiFileServer()
    eng = chat_engine(server)
    job = batch.submit(eng, requests(), api_key=KEY, input_file=True)
    cancelled = batch.cancel(eng, job, api_key=KEY)
    assert cancelled.status == "cancelled" and cancelled.metadata["raw_status"].endswith("LED")
    assert any(r.url.path == "/v1beta/batches/file-job-456:cancel" for r in server.sent)

    server = GeminiFileServer("BATCH_STATE_EXPIRED")
    eng = chat_engine(server)
    job = batch.submit(eng, requests(), api_key=KEY, input_file=True)
    done = batch.wait(eng, job, poll_interval=0, api_key=KEY)
    assert done.status == "expired" and "responses_file" not in done.metadata
    assert list(batch.results(eng, done, api_key=KEY)) == []  # an expired job answers nothing


def test_a_batch_over_the_inline_limit_goes_up_as_a_file(monkeypatch: pytest.MonkeyPatch) -> None:
    server = GeminiFileServer()
    eng = chat_engine(server)
    monkeypatch.setattr(_gemini, "INLINE_BYTES", 400)
    job = batch.submit(eng, requests(), api_key=KEY)
    assert job.metadata["input_file"] == "files/batch-input-789"
    assert sorted(uploaded_lines(server)) == ["a", "b", "c"]
    # input_file=False keeps them inline, in as many jobs as the limit needs.
    server = GeminiFileServer()
    eng = chat_engine(server)
    job = batch.submit(eng, requests(), api_key=KEY, input_file=False)
    creates = [r for r in server.sent if r.url.path.endswith(":batchGenerateContent")]
    assert len(creates) == len(job.metadata["parts"]) > 1 and server.commands == []
    for create in creates:
        assert len(create.content) <= 400
        inline = json.loads(create.content)["batch"]["input_config"]["requests"]["requests"]
        assert all(set(entry) == {"request", "metadata"} for entry in inline)


def test_a_small_batch_stays_inline_and_input_file_is_checked() -> None:
    server = GeminiFileServer()
    eng = chat_engine(server)
    batch.submit(eng, requests(), api_key=KEY)
    assert server.commands == []
    with pytest.raises(ConfigurationError) as caught:
        batch.submit(eng, requests(), api_key=KEY, input_file="yes")
    assert "input_file" in caught.value.problems[0]
    assert len(server.sent) == 1  # nothing more was sent


def answering(answer: Any) -> allm.Engine:
    client = httpx.Client(transport=httpx.MockTransport(answer))
    return allm.Engine(adapter="gemini", model=MODEL, adapter_opts={"http_client": client})


@pytest.mark.parametrize(
    ("start", "chunk", "message"),
    [
        ({}, None, "without an upload URL"),
        ({"x-goog-upload-url": "https://x/u?upload_id=1"}, {}, "stopped at byte"),
        ({"x-goog-upload-url": "https://x/u?upload_id=1"}, None, "not finalized"),
    ],
)
def test_a_broken_upload_is_malformed(
    start: dict[str, str], chunk: dict[str, str] | None, message: str, monkeypatch: Any
) -> None:
    monkeypatch.setattr(_gemini, "UPLOAD_CHUNK", 100)
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.headers.get("x-goog-upload-command") == "start":
            return httpx.Response(200, headers=start)
        if chunk is not None:
            return httpx.Response(200, headers=chunk)
        final = request.headers["x-goog-upload-command"] == "upload, finalize"
        status = "final" if final else "active"
        return httpx.Response(200, headers={"x-goog-upload-status": status}, json={"file": {}})

    with pytest.raises(allm.AdapterError) as caught:
        batch.submit(answering(answer), requests(), api_key=KEY, input_file=True)
    assert caught.value.reason == "malformed_response" and message in caught.value.message
    # The upload URL the server named is used on the API's own origin only.
    assert all(r.url.host == "generativelanguage.googleapis.com" for r in seen)
    if len(seen) > 1:
        assert seen[1].url.path == "/u" and seen[1].url.params["upload_id"] == "1"


@given(st.lists(st.binary(min_size=0, max_size=40), max_size=30), st.integers(1, 64))
def test_chunks_keep_the_bytes_and_cut_only_at_boundaries(parts: list[bytes], size: int) -> None:
    runs = list(chunked(parts, size))
    assert b"".join(b"".join(run) for run in runs) == b"".join(parts)
    assert all(sum(map(len, run)) == size for run in runs[:-1])
    assert all(run and sum(map(len, run)) <= size for run in runs)
    originals = {id(part) for part in parts}
    sliced = [piece for run in runs for piece in run if id(piece) not in originals]
    assert len(sliced) <= 2 * len(runs)  # only the parts cut at a boundary are copies


def embedding_engine(server: GeminiEmbeddingServer | GeminiFileServer) -> allm.Engine:
    return allm.Engine(embedding_model=f"gemini:{EMBEDDING_MODEL}", adapter_opts=server.clients())


def embedding_requests() -> list[tuple[str, allm.EmbeddingRequest]]:
    return [
        ("doc", allm.EmbeddingRequest(inputs=("a document",), dimensions=3, input_type="document")),
        ("long", allm.EmbeddingRequest(inputs=("x" * 50,))),
    ]


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_the_life_of_an_embeddings_job(mode: str) -> None:
    server = GeminiEmbeddingServer()
    eng = embedding_engine(server)
    job, seen, done, items = life(eng, embedding_requests(), mode, resume=True, api_key=KEY)
    create = server.sent[0]
    assert create.url.path == f"/v1beta/models/{EMBEDDING_MODEL}:asyncBatchEmbedContent"
    assert create.headers["x-goog-api-key"] == KEY and KEY not in create.content.decode()
    assert job.metadata["surface"] == "embeddings" and job.provider == "gemini"
    assert job.status == "validating" and seen == ["validating", "in_progress", "completed"]
    assert done.metadata["surface"] == "embeddings" and done.counts["errored"] == 1
    by_id = {item.custom_id: item for item in items}
    assert by_id["doc"].response.vectors == ((0.25, -0.5, 1.0),)
    assert by_id["doc"].response.model == EMBEDDING_MODEL
    assert by_id["long"].response is None and by_id["long"].error.reason == "invalid_request"
    assert allm.from_json(allm.to_json(by_id["doc"])) == by_id["doc"]
    server.final = "BATCH_STATE_CANCELLED"
    assert batch.cancel(eng, job, api_key=KEY).status == "cancelled"


def test_embedding_lines_and_results_are_what_embed_sends_and_returns() -> None:
    server = GeminiEmbeddingServer()
    eng = embedding_engine(server)
    job = batch.wait(
        eng, batch.submit(eng, embedding_requests(), api_key=KEY), poll_interval=0, api_key=KEY
    )
    items = {item.custom_id: item for item in batch.results(eng, job, api_key=KEY)}
    inline = json.loads(server.sent[0].content)["batch"]["input_config"]["requests"]["requests"]
    sent = {entry["metadata"]["key"]: entry["request"] for entry in inline}
    recorded = {entry["metadata"]["key"]: entry for entry in EMBEDDINGS["inlined"]}
    for custom_id, request in embedding_requests():
        entry = recorded[custom_id]
        failed = {"error": {"code": 400, "message": "too long", "status": "INVALID_ARGUMENT"}}
        seen, client = direct(entry.get("response", failed), 200 if "response" in entry else 400)
        opts = {"dimensions": request.dimensions, "input_type": request.input_type}
        try:
            answer = allm.embed(
                eng,
                request.inputs[0],
                **{k: v for k, v in opts.items() if v},
                api_key=KEY,
                retry=None,
                **client,
            )
        except allm.AdapterError as exc:
            assert exc.reason == items[custom_id].error.reason
        else:
            assert items[custom_id].response == replace(answer, metadata={})
        assert json.loads(seen[0].content) == sent[custom_id]


def test_an_embeddings_job_through_an_input_file() -> None:
    lines = [
        {"key": "doc", "response": {"embedding": {"values": [1, 2.5]}}},
        {"key": "long", "error": {"code": 13, "message": "Internal error."}},
    ]
    server = GeminiFileServer(lines=lines)
    eng = embedding_engine(server)
    job = batch.submit(eng, embedding_requests(), api_key=KEY, input_file=True)
    assert sorted(uploaded_lines(server)) == ["doc", "long"]
    create = next(r for r in server.sent if r.url.path.endswith(":asyncBatchEmbedContent"))
    assert json.loads(create.content)["batch"]["input_config"] == {
        "file_name": "files/batch-input-789"
    }
    done = batch.wait(eng, job, poll_interval=0, api_key=KEY)
    items = list(batch.results(eng, done, api_key=KEY))
    assert items[0].response.vectors == ((1.0, 2.5),)
    assert items[1].error.reason == "provider_unavailable"


def test_embeddings_batch_preflight_on_gemini() -> None:
    server = GeminiEmbeddingServer()
    eng = embedding_engine(server)
    mixed = [
        allm.EmbeddingRequest(inputs=("a", "b")),  # batchEmbedContents has no batch line
        allm.EmbeddingRequest(inputs=("c",), model="bad/model"),
        allm.EmbeddingRequest(inputs=("d",)),
    ]
    with pytest.raises(allm.ValidationError) as caught:
        batch.submit(eng, mixed, api_key=KEY)
    assert caught.value.errors == (
        ((0, "inputs"), "one_input_per_request_on_gemini"),
        ((1, "model"), "invalid_model_id"),
    )
    other = [mixed[2], allm.EmbeddingRequest(inputs=("e",), model="text-embedding-004")]
    with pytest.raises(allm.ValidationError) as caught:
        batch.submit(eng, other, api_key=KEY)
    assert caught.value.errors == (((1, "model"), "one_model_per_batch"),)
    with pytest.raises(allm.ValidationError) as caught:
        batch.submit(eng, mixed[2:])  # no key: refused before anything is sent
    assert caught.value.errors[0][0] == (0,) and "missing_key" in caught.value.errors[0][1]
    assert server.sent == []


def serve_file_job(server: LoopbackServer, uploaded: bytearray) -> None:
    """A Gemini file job on a real socket; the upload URL it answers names another host."""

    def upload(received: ReceivedRequest) -> Answer:
        headers = {key.lower(): value for key, value in received.headers.items()}
        command = headers["x-goog-upload-command"]
        if command == "start":
            url = "https://elsewhere.example/upload/v1beta/files?upload_id=AUpPtest123"
            return Answer(headers={"x-goog-upload-url": url}, body=b"{}")
        assert "upload_id=AUpPtest123" in received.path
        assert int(headers["x-goog-upload-offset"]) == len(uploaded)
        uploaded.extend(received.body)
        if command == "upload":
            return Answer(headers={"x-goog-upload-status": "active"})
        return Answer(
            headers={"x-goog-upload-status": "final"}, body=json.dumps(FILE["file"]).encode()
        )

    operation = GeminiFileServer().operation
    server.route("POST", "/upload/v1beta/files", upload)
    server.add(
        "POST",
        f"/v1beta/models/{MODEL}:batchGenerateContent",
        body=operation("BATCH_STATE_PENDING").content,
    )
    server.add(
        "GET", "/v1beta/batches/file-job-456", body=operation("BATCH_STATE_SUCCEEDED").content
    )
    server.add(
        "GET",
        "/download/v1beta/files/batch-output-321:download",
        body=jsonl(FILE["response_lines"]),
        chunks=[40, 300],
    )


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_file_job_over_a_socket(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_gemini, "UPLOAD_CHUNK", 100)
    uploaded = bytearray()
    with LoopbackServer() as server:
        serve_file_job(server, uploaded)
        eng = allm.Engine(
            adapter="gemini", model=MODEL, adapter_opts={"base_url": server.url + "/v1beta"}
        )

        async def run() -> list[allm.BatchItem]:
            job = await batch.asubmit(eng, requests(), api_key=KEY, input_file=True)
            job = await batch.await_(eng, job, poll_interval=0, api_key=KEY)
            return [item async for item in batch.aresults(eng, job, api_key=KEY)]

        if mode == "sync":
            job = batch.submit(eng, requests(), api_key=KEY, input_file=True)
            job = batch.wait(eng, job, poll_interval=0, api_key=KEY)
            items = list(batch.results(eng, job, api_key=KEY))
        else:
            items = anyio.run(run)
        chunks = [r for r in server.requests if "upload_id" in r.path]
    assert len(chunks) == -(-len(uploaded) // 100) > 2
    assert all(len(r.body) == int(r.headers["content-length"]) for r in chunks)
    keys = [json.loads(line)["key"] for line in bytes(uploaded).splitlines()]
    assert keys == ["a", "b", "c"]
    assert [item.custom_id for item in items] == ["a", "b", "c"]
    assert items[0].response.text == "Hello."


def test_a_cancel_the_provider_has_not_acted_on_yet_is_cancelling() -> None:
    running = {"name": "batches/r", "metadata": {"state": "BATCH_STATE_RUNNING"}}

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(":batchGenerateContent"):
            return httpx.Response(200, content=b"<html>busy</html>")
        return httpx.Response(200, json={} if request.method == "POST" else running)

    eng = answering(answer)
    job = allm.BatchJob("batches/r", "gemini", "in_progress", metadata={"model": MODEL})
    cancelled = batch.cancel(eng, job, api_key=KEY)
    assert cancelled.status == "cancelling" and cancelled.metadata["raw_status"].endswith("NING")
    with pytest.raises(allm.AdapterError) as caught:
        batch.submit(eng, requests(), api_key=KEY)
    assert caught.value.reason == "malformed_response"
