"""Batches on the Fake: each request answered by the engine's next script, in order; the
values round-trip; pre-flight lists every problem before anything runs; telemetry spans."""

from __future__ import annotations

import pickle

import anyio
import pytest

import allm
import allm.batch as batch
from allm import telemetry
from allm.errors import ConfigurationError
from allm.providers.fake import error, text


def fake(*answers: str) -> allm.Engine:
    scripts = [[error(a[1:])] if a.startswith("!") else [text(a)] for a in answers]
    return allm.Engine(adapter="fake", model="fake-model", adapter_opts={"scripts": scripts})


def reqs(n: int) -> list[allm.Request]:
    return [allm.request([allm.user(f"q{i}")]) for i in range(n)]


def test_each_request_gets_the_next_script_in_order() -> None:
    eng = fake("one", "!invalid_request", "three")
    job = batch.submit(eng, [reqs(1)[0], ("mine", reqs(1)[0]), reqs(1)[0]])
    assert job.status == "in_progress" and job.counts == {"total": 3, "succeeded": 2, "errored": 1}
    seen: list[allm.BatchJob] = []
    done = batch.wait(eng, job, poll_interval=0, on_progress=seen.append)
    assert done.status == "completed" and seen == [done]
    items = list(batch.results(eng, done))
    assert [i.custom_id for i in items] == ["request-0", "mine", "request-2"]
    assert items[0].response.text == "one" and items[2].response.text == "three"
    assert items[1].response is None and isinstance(items[1].error, allm.AdapterError)


def test_async_twins_agree_with_sync() -> None:
    sync_items = list(
        batch.results(fake("a", "!timeout"), batch.submit(fake("a", "!timeout"), reqs(2)))
    )

    async def run() -> list[allm.BatchItem]:
        eng = fake("a", "!timeout")
        job = await batch.asubmit(eng, reqs(2))
        job = await batch.await_(eng, job, poll_interval=0)
        assert (await batch.aget(eng, job)).status == "completed"
        assert (await batch.acancel(eng, job)).status == "completed"
        return [item async for item in batch.aresults(eng, job)]

    async_items = anyio.run(run)
    assert [
        (i.custom_id, i.response and i.response.text, i.error and i.error.reason)
        for i in sync_items
    ] == [
        (i.custom_id, i.response and i.response.text, i.error and i.error.reason)
        for i in async_items
    ]


def test_values_round_trip_through_json_and_pickle() -> None:
    eng = fake("x", "!invalid_request")
    job = batch.submit(eng, reqs(2), metadata={"run": 1})
    items = list(batch.results(eng, job))
    for value in (job, *items):
        assert allm.from_json(allm.to_json(value)) == value or isinstance(value, allm.BatchItem)
        assert pickle.loads(pickle.dumps(value)) == value or isinstance(value, allm.BatchItem)
    back = allm.from_json(allm.to_json(items[1]))
    assert back.custom_id == items[1].custom_id and back.error.reason == items[1].error.reason
    assert allm.from_json(allm.to_json(items[0])) == items[0]


def test_preflight_lists_every_problem_before_anything_runs() -> None:
    eng = fake("a", "b", "c")
    bad = allm.Request(model="fake-model", messages=(), temperature=9)  # type: ignore[arg-type]
    with pytest.raises(allm.ValidationError) as caught:
        batch.submit(eng, [("x", reqs(1)[0]), ("x", reqs(1)[0]), bad, ("", reqs(1)[0])])
    paths = [path for path, _ in caught.value.errors]
    assert (1, "custom_id") in paths and (3, "custom_id") in paths
    assert any(path[0] == 2 for path in paths)
    job = batch.submit(eng, reqs(1))  # nothing was consumed by the refused batch
    assert next(iter(batch.results(eng, job))).response.text == "a"
    with pytest.raises(allm.ValidationError):
        batch.submit(eng, [])
    with pytest.raises(ConfigurationError):
        batch.submit(eng, "not requests")
    with pytest.raises(ConfigurationError):
        batch.get(eng, "not a job")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        batch.wait(eng, job, poll_interval=-1, timeout="x", on_progress=3)  # type: ignore[arg-type]


def test_a_job_from_another_process_is_refused_on_the_fake() -> None:
    job = allm.BatchJob("fakebatch_gone", "fake", "in_progress")
    with pytest.raises(allm.AdapterError):
        batch.get(fake(), job)


def test_unsupported_provider() -> None:
    job = allm.BatchJob("x", "nobody", "in_progress")
    with pytest.raises(allm.AllmError):
        batch.get(fake(), job)


def test_spans() -> None:
    seen: list[tuple[str, dict]] = []
    handler = telemetry.attach(lambda name, m, meta: seen.append((name, dict(meta))))
    try:
        eng = fake("a")
        job = batch.submit(eng, reqs(1))
        list(batch.results(eng, job))
    finally:
        telemetry.detach(handler)
    names = [name for name, _ in seen if name.startswith("allm.batch")]
    assert names[:2] == ["allm.batch.start", "allm.batch.stop"]
    operations = [meta.get("operation") for name, meta in seen if name == "allm.batch.stop"]
    assert operations == ["submit", "results"]


def test_results_check_the_job_when_called() -> None:
    with pytest.raises(ConfigurationError):
        batch.results(fake(), "not a job")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        batch.aresults(fake(), "not a job")  # type: ignore[arg-type]
