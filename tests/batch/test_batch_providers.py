"""Each provider's batch API through its recorded transcript: the whole life of a job (upload,
create, every status, results with successes and errors, cancel, expiry), the uploaded lines
equal to what generate(streaming=False) sends, each result equal to what it returns."""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx
import pytest

import allm
import allm.batch as batch

from .servers import AnthropicServer, GeminiServer, OpenAIServer, Server, life, transcript

KEY = "sk-batch-test-secret"
MODELS = {
    "openai": "gpt-4o-mini",
    "anthropic": "claude-3-5-haiku-20241022",
    "gemini": "gemini-2.0-flash",
}
SERVERS: dict[str, type[Server]] = {
    "openai": OpenAIServer,
    "anthropic": AnthropicServer,
    "gemini": GeminiServer,
}


def requests() -> list[tuple[str, allm.Request]]:
    return [
        ("a", allm.request([allm.system("Be brief."), allm.user("Say hello.")], max_tokens=64)),
        ("b", allm.request([allm.user("Bad temperature.")], max_tokens=64, temperature=1.5)),
        ("c", allm.request([allm.user("Too late.")], max_tokens=64)),
    ]


def engine(provider: str, server: Server) -> allm.Engine:
    return allm.Engine(adapter=provider, model=MODELS[provider], adapter_opts=server.clients())


def run_life(
    provider: str, mode: str, final: str | None = None
) -> tuple[Server, Any, Any, list[Any]]:
    server = SERVERS[provider](final)
    job, seen, done, items = life(engine(provider, server), requests(), mode, api_key=KEY)
    return server, (job, seen), done, items


EXPECTED_STATUSES = {
    "openai": ["in_progress", "finalizing", "completed"],
    "anthropic": ["in_progress", "in_progress", "completed"],
    "gemini": ["validating", "in_progress", "completed"],
}


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("provider", ["openai", "anthropic", "gemini"])
def test_the_life_of_a_job(provider: str, mode: str) -> None:
    server, (job, seen), done, items = run_life(provider, mode)
    assert job.provider == provider and not job.done
    assert seen[-len(EXPECTED_STATUSES[provider]) :] == EXPECTED_STATUSES[provider]
    assert done.status == "completed" and done.counts["succeeded"] == 1
    by_id = {item.custom_id: item for item in items}
    assert by_id["a"].response.text == "Hello." and by_id["a"].error is None
    assert by_id["b"].response is None and by_id["b"].error.reason == "invalid_request"
    if provider != "gemini":
        assert by_id["c"].error.reason == "timeout"  # expired before it ran
    for request in server.sent:
        assert KEY not in repr(request) or request.headers  # sent in headers only
    assert all(KEY not in allm.to_json(item) for item in items)
    assert KEY not in allm.to_json(done)


def test_sync_and_async_agree() -> None:
    for provider in ("openai", "anthropic", "gemini"):
        _, (_, seen_s), done_s, items_s = run_life(provider, "sync")
        _, (_, seen_a), done_a, items_a = run_life(provider, "async")
        assert seen_s == seen_a
        assert (done_s.status, done_s.counts) == (done_a.status, done_a.counts)
        assert [(i.custom_id, i.response, i.error and i.error.reason) for i in items_s] == [
            (i.custom_id, i.response, i.error and i.error.reason) for i in items_a
        ]


def uploaded_bodies(provider: str, server: Server) -> dict[str, Any]:
    """custom_id -> the request body the batch carried."""
    create = next(r for r in server.sent if r.method == "POST")
    if provider == "openai":
        raw = create.content
        start = raw.index(b"\r\n\r\n", raw.index(b'filename="batch.jsonl"')) + 4
        lines = raw[start : raw.rindex(b"\r\n--")].splitlines()
        return {json.loads(x)["custom_id"]: json.loads(x)["body"] for x in lines if x}
    body = json.loads(create.content)
    if provider == "anthropic":
        return {r["custom_id"]: r["params"] for r in body["requests"]}
    inline = body["batch"]["input_config"]["requests"]["requests"]
    return {r["metadata"]["key"]: r["request"] for r in inline}


def recorded_body(provider: str, custom_id: str) -> tuple[int, dict[str, str], Any]:
    data = transcript(provider)
    if provider == "openai":
        for line in data["output_lines"] + data["error_lines"]:
            if line["custom_id"] == custom_id and line["response"]:
                response = line["response"]
                return (
                    response["status_code"],
                    {"x-request-id": response["request_id"]},
                    response["body"],
                )
    elif provider == "anthropic":
        for line in data["result_lines"]:
            if line["custom_id"] == custom_id and line["result"]["type"] == "succeeded":
                return 200, {}, line["result"]["message"]
    else:
        for entry in data["inlined"]:
            if entry["metadata"]["key"] == custom_id and "response" in entry:
                return 200, {}, entry["response"]
    raise KeyError(custom_id)


@pytest.mark.parametrize("provider", ["openai", "anthropic", "gemini"])
def test_one_codec_with_the_non_streaming_path(provider: str) -> None:
    server, _, _, items = run_life(provider, "sync")
    sent = uploaded_bodies(provider, server)
    by_id = {item.custom_id: item for item in items}
    for custom_id, request in requests():
        seen: list[httpx.Request] = []
        try:
            status, headers, body = recorded_body(provider, custom_id)
        except KeyError:
            status, headers, body = 500, {}, {}

        def answer(
            req: httpx.Request,
            seen: list[httpx.Request] = seen,
            reply: Any = (status, body, headers),
        ) -> httpx.Response:
            req.read()
            seen.append(req)
            return httpx.Response(reply[0], json=reply[1], headers=reply[2])

        eng = allm.Engine(
            adapter=provider,
            model=MODELS[provider],
            adapter_opts={"http_client": httpx.Client(transport=httpx.MockTransport(answer))},
            retry=None,
        )
        response = allm.generate(eng, request, streaming=False, api_key=KEY, request_id=custom_id)
        assert json.loads(seen[0].content) == sent[custom_id]
        if status == 200:
            assert by_id[custom_id].response == response


@pytest.mark.parametrize("provider", ["openai", "anthropic", "gemini"])
def test_cancel(provider: str) -> None:
    server = SERVERS[provider]()
    eng = engine(provider, server)
    job = batch.submit(eng, requests(), api_key=KEY)
    cancelled = batch.cancel(eng, job, api_key=KEY)
    assert cancelled.status == ("cancelled" if provider == "gemini" else "cancelling")
    assert anyio.run(lambda: batch.acancel(eng, job, api_key=KEY)).status in (
        "cancelling",
        "cancelled",
    )


def test_cancelled_and_expired_jobs() -> None:
    server = OpenAIServer("expired")
    eng = engine("openai", server)
    job = batch.wait(eng, batch.submit(eng, requests(), api_key=KEY), poll_interval=0, api_key=KEY)
    assert job.status == "expired"
    for final, status in (("expired", "expired"), ("canceled", "cancelled")):
        server = AnthropicServer(final)
        eng = engine("anthropic", server)
        submitted = batch.submit(eng, requests(), api_key=KEY)
        server.polls = 2
        done = batch.get(eng, submitted, api_key=KEY)
        assert done.status == status and done.counts[status] == 3
    server = GeminiServer()
    eng = engine("gemini", server)
    job = batch.submit(eng, requests(), api_key=KEY)
    assert batch.cancel(eng, job, api_key=KEY).status == "cancelled"


def test_over_the_limit_is_split_into_parts() -> None:
    server = OpenAIServer()
    eng = engine("openai", server)
    job = batch.submit(eng, requests(), api_key=KEY, max_requests=2)
    parts = job.metadata["parts"]
    assert len(parts) == 2 and job.id == parts[0].id
    assert sum(1 for r in server.sent if r.url.path == "/v1/files") == 2
    restored = allm.from_json(allm.to_json(job))
    assert restored == job
    done = batch.wait(eng, restored, poll_interval=0, api_key=KEY)
    assert done.status == "completed" and len(done.metadata["parts"]) == 2
    assert batch.cancel(eng, done, api_key=KEY).status == "completed"  # finished parts stay


def test_openai_needs_one_model_per_batch() -> None:
    server = OpenAIServer()
    eng = engine("openai", server)
    mixed = [allm.request([allm.user("x")]), allm.request([allm.user("y")], model="gpt-4.1")]
    with pytest.raises(allm.ValidationError) as caught:
        batch.submit(eng, mixed, api_key=KEY)
    assert caught.value.errors == (((1, "model"), "one_model_per_batch"),)
    assert server.sent == []


def test_wait_times_out_with_the_last_job() -> None:
    server = OpenAIServer("in_progress")
    eng = engine("openai", server)
    job = batch.submit(eng, requests(), api_key=KEY)
    with pytest.raises(allm.AdapterError) as caught:
        batch.wait(eng, job, poll_interval=0, timeout=0, api_key=KEY)
    assert caught.value.reason == "timeout" and isinstance(caught.value, TimeoutError)
    with pytest.raises(allm.AdapterError):
        anyio.run(lambda: batch.await_(eng, job, poll_interval=0, timeout=0, api_key=KEY))


def test_a_control_error_is_classified_by_the_adapter() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            401, json={"error": {"message": "bad key", "type": "invalid_request_error"}}
        )

    eng = allm.Engine(
        adapter="openai",
        model="gpt-4o-mini",
        adapter_opts={"http_client": httpx.Client(transport=httpx.MockTransport(answer))},
    )
    with pytest.raises(allm.AdapterError) as caught:
        batch.submit(eng, requests(), api_key=KEY)
    assert caught.value.reason == "authentication_failed"
    assert KEY not in str(caught.value)
