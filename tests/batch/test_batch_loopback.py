"""OpenAI's batch wire over real sockets (the loopback server): results arrive line by line,
the first item reaching the caller while the rest of the file is still held back, lines split
across chunks; and the values' round trips as properties."""

from __future__ import annotations

import json
import pickle
import threading

import anyio
from hypothesis import given
from hypothesis import strategies as st

import allm
import allm.batch as batch
from allm.data.batch import BATCH_STATUSES
from allm.testing.loopback import Answer, LoopbackServer

from .servers import jsonl, transcript
from .test_batch_providers import KEY, requests

DATA = transcript("openai")


def serve(server: LoopbackServer, gate: threading.Event | None) -> None:
    done = dict(
        DATA["batch"], status="completed", output_file_id="file-out", error_file_id="file-err"
    )
    server.add("POST", "/v1/files", body=json.dumps(DATA["file"]).encode())
    server.add(
        "POST", "/v1/batches", body=json.dumps(dict(DATA["batch"], status="validating")).encode()
    )
    server.add("GET", "/v1/batches/batch_abc123", body=json.dumps(done).encode())
    output = jsonl(DATA["output_lines"] * 3)
    first = output.index(b"\n") + 1
    # The first line whole, then the rest in pieces that cut lines in two.
    server.add(
        "GET",
        "/v1/files/file-out/content",
        Answer(body=output, chunks=[first, first + 7, first + 150], gate=gate, gate_timeout=60),
    )
    server.add(
        "GET", "/v1/files/file-err/content", body=jsonl(DATA["error_lines"]), chunks=[11, 50]
    )


def test_results_stream_line_by_line_over_a_socket() -> None:
    gate = threading.Event()
    with LoopbackServer() as server:
        serve(server, gate)
        engine = allm.Engine(
            adapter="openai", model="gpt-4o-mini", adapter_opts={"base_url": server.url + "/v1"}
        )
        job = batch.wait(
            engine, batch.submit(engine, requests(), api_key=KEY), poll_interval=0, api_key=KEY
        )
        items = batch.results(engine, job, api_key=KEY)
        first = next(items)  # the rest of the output file is not sent yet
        assert first.custom_id == "a" and first.response.text == "Hello."
        assert not any(path == "/v1/files/file-out/content" for path, _ in server.finished)
        gate.set()
        rest = list(items)
    assert [i.custom_id for i in rest] == ["a", "a", "b", "c"]
    upload = next(r for r in server.requests if r.path == "/v1/files")
    assert KEY not in upload.body.decode() and upload.headers["authorization"] == f"Bearer {KEY}"


def test_async_results_over_a_socket() -> None:
    with LoopbackServer() as server:
        serve(server, None)
        engine = allm.Engine(
            adapter="openai", model="gpt-4o-mini", adapter_opts={"base_url": server.url + "/v1"}
        )

        async def run() -> list[allm.BatchItem]:
            job = await batch.asubmit(engine, requests(), api_key=KEY)
            job = await batch.await_(engine, job, poll_interval=0, api_key=KEY)
            return [item async for item in batch.aresults(engine, job, api_key=KEY)]

        items = anyio.run(run)
    assert [i.custom_id for i in items] == ["a", "a", "a", "b", "c"]


statuses = st.sampled_from(BATCH_STATUSES)
jobs = st.builds(
    allm.BatchJob,
    id=st.text(min_size=1, max_size=20),
    provider=st.sampled_from(["openai", "anthropic", "gemini", "fake"]),
    status=statuses,
    counts=st.dictionaries(
        st.sampled_from(["total", "succeeded", "errored"]), st.integers(0, 10**6)
    ),
    created_at=st.none() | st.floats(0, 2e9),
    metadata=st.dictionaries(st.text(max_size=8), st.none() | st.text(max_size=8) | st.integers()),
)


@given(jobs)
def test_jobs_round_trip(job: allm.BatchJob) -> None:
    assert allm.from_json(allm.to_json(job)) == job
    assert pickle.loads(pickle.dumps(job)) == job


@given(jobs, st.lists(jobs, min_size=1, max_size=3))
def test_split_jobs_round_trip(first: allm.BatchJob, parts: list[allm.BatchJob]) -> None:
    from allm.batch._jobs import combine

    job = combine([first, *parts])
    assert allm.from_json(allm.to_json(job)) == job
    assert job.counts == {
        key: sum(p.counts.get(key, 0) for p in [first, *parts]) for key in job.counts
    }
