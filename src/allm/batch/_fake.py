"""The Fake's batches: each request answered, in order, by the engine's next Fake script
through the Fake's own non-streaming path (an ``error(reason)`` entry makes that item fail).
Jobs live in this process; a job is ``in_progress`` when submitted and ``completed`` at the
first ``get``, so ``wait`` sees a poll."""

from __future__ import annotations

import threading
from collections.abc import Generator, Mapping
from dataclasses import replace
from typing import Any, ClassVar

from ..adapters import Call
from ..data.batch import BatchItem, BatchJob
from ..data.embeddings import EmbeddingRequest
from ..data.request import Request
from ..effects import Effect
from ..engine import new_id
from ..errors import AdapterError
from ..execution.runner import with_costs
from ._backend import Backend, now
from ._prepare import Line, Prepared
from ._wire import Wire

__all__ = ["FakeBatches"]

_jobs: dict[str, list[BatchItem]] = {}
_lock = threading.Lock()


class FakeBatches(Backend):
    provider: ClassVar[str] = "fake"
    max_requests: ClassVar[int] = 1 << 62
    max_bytes: ClassVar[int] = 1 << 62

    def build(
        self,
        adapter: Any,
        request: Request | EmbeddingRequest,
        call: Call,
        custom_id: str,
        first: bool,
    ) -> Line:
        return Line(custom_id, request.model, b"", request, call)

    def submit(
        self, prepared: Prepared, opts: Mapping[str, Any]
    ) -> Generator[Effect, Any, list[BatchJob]]:
        items: list[BatchItem] = []
        model = prepared.lines[0].model
        # Each line is let go once answered: a long batch holds its requests or its answers,
        # not both.
        lines = prepared.lines
        lines.reverse()
        while lines:
            line = lines.pop()
            try:
                assert line.request is not None and line.call is not None
                plan = prepared.adapter.generate(line.request, line.call)
                response = yield from plan
            except AdapterError as exc:
                items.append(BatchItem(line.custom_id, None, exc))
                continue
            response = with_costs(replace(response, request_id=line.custom_id), None)
            items.append(BatchItem(line.custom_id, response, None))
        job_id = "fakebatch_" + new_id()
        with _lock:
            _jobs[job_id] = items
        errored = sum(1 for item in items if item.error is not None)
        counts = {"total": len(items), "succeeded": len(items) - errored, "errored": errored}
        metadata: dict[str, Any] = {"model": model}
        if opts.get("metadata"):
            metadata["user"] = dict(opts["metadata"])
        return [BatchJob(job_id, "fake", "in_progress", counts, now(), metadata)]

    def wire(self, adapter: Any, call: Call) -> Wire:
        return Wire(adapter, call, {})

    def _items(self, wire: Wire, job: BatchJob) -> list[BatchItem]:
        with _lock:
            items = _jobs.get(job.id)
        if items is None:
            raise AdapterError(
                "invalid_request",
                f"no Fake batch {job.id!r} in this process",
                provider="fake",
                request_id=wire.call.request_id,
            )
        return items

    def get(self, wire: Wire, job: BatchJob) -> Generator[Effect, Any, BatchJob]:
        self._items(wire, job)
        status = "completed" if job.status in ("in_progress", "completed") else job.status
        return replace(job, status=status)
        yield  # a plan with no effects

    def cancel(self, wire: Wire, job: BatchJob) -> Generator[Effect, Any, BatchJob]:
        self._items(wire, job)
        if job.done:
            return job
        return replace(job, status="cancelled")
        yield  # a plan with no effects

    def results(self, wire: Wire, job: BatchJob) -> Generator[Any, Any, None]:
        yield from self._items(wire, job)
