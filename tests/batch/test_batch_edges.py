"""The edges of the batch wire: unreadable answers, broken downloads, results files, the
split rule, pre-flight across providers."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

import allm
import allm.batch as batch
from allm.batch._jobs import backend_for, combine
from allm.batch._prepare import split
from allm.errors import ConfigurationError

from .servers import AnthropicServer, GeminiServer, OpenAIServer, jsonl
from .test_batch_providers import KEY, MODELS, engine, requests


def answering(provider: str, answer: Any) -> allm.Engine:
    return allm.Engine(
        adapter=provider,
        model=MODELS[provider],
        adapter_opts={"http_client": httpx.Client(transport=httpx.MockTransport(answer))},
        retry=None,
    )


@pytest.mark.parametrize("provider", ["openai", "anthropic", "gemini"])
def test_a_create_answer_without_an_id_is_malformed(provider: str) -> None:
    eng = answering(provider, lambda request: httpx.Response(200, json={"object": "nothing"}))
    with pytest.raises(allm.AdapterError) as caught:
        batch.submit(eng, requests(), api_key=KEY)
    assert caught.value.reason == "malformed_response"


def test_a_status_answer_that_is_not_json_is_malformed() -> None:
    eng = answering("openai", lambda request: httpx.Response(200, content=b"<html>"))
    job = allm.BatchJob("batch_1", "openai", "in_progress")
    with pytest.raises(allm.AdapterError) as caught:
        batch.get(eng, job, api_key=KEY)
    assert caught.value.reason == "malformed_response"


def test_a_download_cut_off_is_a_network_error() -> None:
    class Broken(httpx.SyncByteStream):
        def __iter__(self):  # type: ignore[no-untyped-def]
            yield b'{"custom_id": "a", "response": null, "error": {"code": "batch_expired"}}\n'
            raise httpx.ReadError("connection reset")

    eng = answering("openai", lambda request: httpx.Response(200, stream=Broken()))
    job = allm.BatchJob("batch_1", "openai", "completed", metadata={"output_file_id": "f"})
    items = batch.results(eng, job, api_key=KEY)
    first = next(items)
    assert first.custom_id == "a" and first.error.reason == "timeout"
    with pytest.raises(allm.AdapterError) as caught:
        next(items)
    assert caught.value.reason == "network_error"


def test_an_unreadable_results_line_is_malformed() -> None:
    eng = answering("openai", lambda request: httpx.Response(200, content=b"[1, 2]\nnot json"))
    job = allm.BatchJob("batch_1", "openai", "completed", metadata={"output_file_id": "f"})
    with pytest.raises(allm.AdapterError) as caught:
        list(batch.results(eng, job, api_key=KEY))
    assert caught.value.reason == "malformed_response"


def test_a_results_file_without_a_final_newline_and_blank_lines() -> None:
    lines = [
        {"custom_id": "x", "response": None, "error": {"code": "batch_cancelled", "message": "no"}},
        {"custom_id": "y", "response": None, "error": None},
    ]
    body = jsonl(lines[:1]) + b"\n\n" + json.dumps(lines[1]).encode()
    eng = answering("openai", lambda request: httpx.Response(200, content=body))
    job = allm.BatchJob("b", "openai", "completed", metadata={"error_file_id": "e"})
    items = list(batch.results(eng, job, api_key=KEY))
    assert [(i.custom_id, i.error.reason) for i in items] == [("x", "unknown"), ("y", "unknown")]
    assert items[0].error.metadata["code"] == "batch_cancelled"


def test_anthropic_results_without_a_url_and_cancelled_items() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(
            200, content=jsonl([{"custom_id": "q", "result": {"type": "canceled"}}])
        )

    eng = answering("anthropic", answer)
    job = allm.BatchJob("msgbatch_1", "anthropic", "cancelled")
    items = list(batch.results(eng, job, api_key=KEY))
    assert seen == ["/v1/messages/batches/msgbatch_1/results"]
    assert items[0].error.reason == "unknown" and items[0].error.metadata["code"] == "canceled"
    assert (
        backend_for("anthropic").job({"id": "m", "created_at": "yesterday"}, None).created_at
        is None
    )


def test_gemini_results_from_a_responses_file() -> None:
    data = GeminiServer().data

    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/download/v1beta/files/batch-out:download"
        lines = [
            {"key": e["metadata"]["key"], **{k: v for k, v in e.items() if k != "metadata"}}
            for e in data["inlined"]
        ]
        return httpx.Response(200, content=jsonl(lines))

    eng = answering("gemini", answer)
    job = backend_for("gemini").job(
        {
            "name": "batches/1",
            "metadata": {
                "state": "JOB_STATE_SUCCEEDED",
                "output": {"responsesFile": "files/batch-out"},
            },
        },
        MODELS["gemini"],
    )
    assert job.status == "completed" and job.created_at is None
    items = list(batch.results(eng, job, api_key=KEY))
    assert items[0].response.text == "Hello." and items[1].error.reason == "invalid_request"
    assert (
        backend_for("gemini")
        .job({"name": "b", "metadata": {"createTime": "nope"}}, None)
        .created_at
        is None
    )


def test_the_split_rule() -> None:
    assert split([], [], 2, 100) == []
    assert split([1, 2, 3, 4, 5], [10] * 5, 2, 100) == [(0, 2), (2, 4), (4, 5)]
    assert split([1, 2, 3], [60, 50, 10], 10, 100) == [(0, 1), (1, 3)]
    assert split([1], [500], 10, 100) == [(0, 1)]  # one line over the limit still goes alone


def test_the_status_of_a_split_job() -> None:
    def job(status: str) -> allm.BatchJob:
        return allm.BatchJob("j-" + status, "openai", status, {"total": 1})  # type: ignore[arg-type]

    assert combine([job("finalizing"), job("in_progress")]).status == "in_progress"
    assert combine([job("completed"), job("failed")]).status == "completed"
    assert combine([job("expired"), job("failed")]).status == "expired"
    assert combine([job("expired"), job("failed")]).counts == {"total": 2}


def test_preflight_across_providers_and_engines() -> None:
    mixed = [
        allm.request([allm.user("a")], model="openai:gpt-4o-mini"),
        allm.request([allm.user("b")], model="anthropic:claude-3-5-haiku-20241022"),
    ]
    with pytest.raises(allm.ValidationError) as caught:
        batch.submit(allm.Engine(), mixed, api_key=KEY)
    assert caught.value.errors == (((1, "model"), "another_provider_than_the_first_request"),)
    with pytest.raises(ConfigurationError):
        batch.submit("not an engine", requests())
    with pytest.raises(ConfigurationError):
        batch.get("not an engine", allm.BatchJob("b", "openai", "completed"))  # type: ignore[arg-type]
    with pytest.raises(allm.ValidationError) as missing:
        batch.submit(allm.Engine(model="anthropic:claude-3-5-haiku-20241022"), requests())
    assert {path[0] for path, _ in missing.value.errors} == {0, 1, 2}  # no key, for each


def test_openai_compatible_servers_use_the_same_wire() -> None:
    server = OpenAIServer()
    eng = allm.Engine(
        adapter="openai_compatible",
        model="local-model",
        adapter_opts={"base_url": "http://127.0.0.1:9/v1", **server.clients()},
    )
    job = batch.submit(eng, requests()[:1])
    assert job.provider == "openai_compatible"
    assert "authorization" not in server.sent[0].headers


def test_an_unfinished_fake_job_is_cancelled() -> None:
    from allm.providers.fake import text

    eng = allm.Engine(adapter="fake", model="m", adapter_opts={"script": [text("x")]})
    job = batch.submit(eng, [allm.request([allm.user("a")])])
    assert batch.cancel(eng, job).status == "cancelled"


def test_anthropic_and_gemini_lines_carry_the_bodies() -> None:
    for server in (AnthropicServer(), GeminiServer()):
        provider = server.name
        batch.submit(engine(provider, server), requests(), api_key=KEY)
        assert KEY not in server.sent[0].content.decode()


def test_control_calls_are_retried_under_the_engine_policy() -> None:
    server = OpenAIServer()
    failures = [
        httpx.Response(
            429,
            json={"error": {"message": "slow down", "type": "rate_limit"}},
            headers={"retry-after-ms": "1"},
        )
    ]

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/batches" and failures:
            request.read()
            server.sent.append(request)
            return failures.pop()
        return server(request)

    eng = allm.Engine(
        adapter="openai",
        model=MODELS["openai"],
        adapter_opts={"http_client": httpx.Client(transport=httpx.MockTransport(answer))},
        retry={"max_attempts": 3, "base_delay_ms": 1, "max_delay_ms": 2},
    )
    seen: list[str] = []
    handler = allm.telemetry.attach(lambda name, m, meta: seen.append(name), ["allm.adapter.retry"])
    try:
        job = batch.submit(eng, requests(), api_key=KEY)
    finally:
        allm.telemetry.detach(handler)
    assert job.status == "validating" and seen == ["allm.adapter.retry"]
    assert [r.url.path for r in server.sent].count("/v1/batches") == 2
