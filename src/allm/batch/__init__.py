"""Provider batch APIs: many requests sent as one job, answered later at a lower price.

``submit`` checks every request (the same plan and body builder as ``generate(streaming=False)``)
before anything is uploaded; ``get`` refreshes a job, ``wait`` polls until it is finished,
``results`` yields one ``BatchItem`` per request (parsed by the same parser as the non-streaming
path), ``cancel`` asks the provider to stop. A ``BatchJob`` is plain data: save it, and resume in
another process with the same engine. See ``docs/design/batch.md``.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import telemetry
from ..data.batch import BatchItem, BatchJob
from ..data.embeddings import EmbeddingRequest
from ..errors import AdapterError, ConfigurationError
from ..execution import _async, _sync
from ..execution.options import TRANSPORT_OPTION_KEYS, check_options
from ..execution.runner import EventFilter
from ._jobs import backend_for, combine, each_part, each_result
from ._prepare import BATCH_OPTION_KEYS, BatchOptions, control_call, pairs, prepare

if TYPE_CHECKING:
    from ..execution.options import TransportOptions, Unpack

__all__ = [
    "BatchItem",
    "BatchJob",
    "BatchOptions",
    "acancel",
    "aget",
    "aresults",
    "asubmit",
    "await_",
    "cancel",
    "get",
    "results",
    "submit",
    "wait",
]

_ITEMS = EventFilter(drop=frozenset())
DEFAULT_POLL_INTERVAL = 30.0


def _submit_plan(engine: Any, requests: Any, opts: Mapping[str, Any]) -> tuple[Any, Any, int]:
    entries = pairs(requests)
    if any(isinstance(request, EmbeddingRequest) for _, request in entries):
        from ._embeddings import EMBEDDING_BATCH_KEYS, prepare_embeddings

        check_options(opts, EMBEDDING_BATCH_KEYS)
        found, embeddings = prepare_embeddings(engine, entries, opts)
        return embeddings.submit(found, opts), embeddings, len(found.lines)
    check_options(opts, BATCH_OPTION_KEYS)
    prepared = prepare(
        engine,
        entries,
        opts,
        lambda adapter, request, call, custom_id, first: backend_for(adapter.name).build(
            adapter, request, call, custom_id, first
        ),
    )
    backend = backend_for(prepared.adapter.name)
    return backend.submit(prepared, opts), backend, len(prepared.lines)


def _span(action: str, engine: Any, **metadata: Any) -> telemetry.Span:
    return telemetry.span("batch", {"operation": action, "engine": engine, **metadata})


def _check_job(job: Any) -> BatchJob:
    if not isinstance(job, BatchJob):
        raise ConfigurationError(
            "invalid_option", problems=[f"job must be a BatchJob, got {job!r}"]
        )
    return job


def submit(engine: Any, requests: Any, **opts: Unpack[BatchOptions]) -> BatchJob:
    """Send ``requests`` (``Request`` values or ``(custom_id, Request)`` pairs) as one batch.

    Every request is planned and its body built before anything is sent; one
    ``ValidationError`` lists every problem (paths start with the request's index). A bare
    ``Request`` gets the custom id ``request-<index>``; a duplicate id is a problem. A batch over
    the provider's limits is sent as several jobs: the job returned stands for all of them
    (``metadata["parts"]``), and ``get``, ``results``, ``cancel`` and ``wait`` act on every part.

    Keyword Args:
        metadata (dict): Sent with the job where the provider keeps it (OpenAI).
        completion_window (str): OpenAI's window, default ``"24h"``.
        display_name (str): Gemini's job name.
        input_file (bool | None): Gemini only: True uploads the requests as an input file,
            False sends them inline (in parts of at most 20 MB); None (the default) inlines a
            batch that fits in 20 MB and uploads a larger one.
        max_requests (int): At most this many requests per job (below the provider's limit).
        **opts: Every call option of ``generate`` (model, temperature, api_key, ...).
    """
    with _span("submit", engine) as span:
        plan, backend, count = _submit_plan(engine, requests, opts)
        job = combine(_sync.run(plan))
        span.stop_metadata.update(job=job, provider=backend.provider, input_count=count)
    return job


async def asubmit(engine: Any, requests: Any, **opts: Unpack[BatchOptions]) -> BatchJob:
    """The async twin of ``submit``."""
    with _span("submit", engine) as span:
        plan, backend, count = _submit_plan(engine, requests, opts)
        job = combine(await _async.run(plan))
        span.stop_metadata.update(job=job, provider=backend.provider, input_count=count)
    return job


def _control(engine: Any, job: Any, opts: Mapping[str, Any]) -> tuple[Any, Any, BatchJob]:
    check_options(opts, TRANSPORT_OPTION_KEYS)
    job = _check_job(job)
    surface = job.metadata.get("surface")
    backend = backend_for(job.provider, surface)
    name = job.provider if surface is None else f"{job.provider}_{surface}"
    adapter, call = control_call(engine, name, opts)
    return backend, backend.wire(adapter, call), job


def _act(engine: Any, job: Any, opts: Mapping[str, Any], action: str) -> BatchJob:
    with _span(action, engine, job_id=getattr(job, "id", None)) as span:
        backend, wire, found = _control(engine, job, opts)
        updated: BatchJob = _sync.run(each_part(backend, wire, found, action))
        span.stop_metadata.update(job=updated)
    return updated


async def _aact(engine: Any, job: Any, opts: Mapping[str, Any], action: str) -> BatchJob:
    with _span(action, engine, job_id=getattr(job, "id", None)) as span:
        backend, wire, found = _control(engine, job, opts)
        updated: BatchJob = await _async.run(each_part(backend, wire, found, action))
        span.stop_metadata.update(job=updated)
    return updated


def get(engine: Any, job: BatchJob, **opts: Unpack[TransportOptions]) -> BatchJob:
    """The job as the provider sees it now."""
    return _act(engine, job, opts, "get")


async def aget(engine: Any, job: BatchJob, **opts: Unpack[TransportOptions]) -> BatchJob:
    """The async twin of ``get``."""
    return await _aact(engine, job, opts, "get")


def cancel(engine: Any, job: BatchJob, **opts: Unpack[TransportOptions]) -> BatchJob:
    """Ask the provider to cancel the job; returns the job as answered (``cancelling`` until
    the provider stopped; results of requests already done stay readable)."""
    return _act(engine, job, opts, "cancel")


async def acancel(engine: Any, job: BatchJob, **opts: Unpack[TransportOptions]) -> BatchJob:
    """The async twin of ``cancel``."""
    return await _aact(engine, job, opts, "cancel")


def results(engine: Any, job: BatchJob, **opts: Unpack[TransportOptions]) -> Iterator[BatchItem]:
    """One ``BatchItem`` per request of a finished job, read from the provider as it streams
    (the output file is never held whole). A failed request is an item with ``error`` set.
    A bad job or engine, or a missing key, raises here; the download starts at the first item."""
    backend, wire, found = _control(engine, job, opts)
    return _items(engine, found, _sync.drive(each_result(backend, wire, found), _ITEMS))


def _items(engine: Any, job: BatchJob, items: Iterator[Any]) -> Iterator[BatchItem]:
    count = 0
    with _span("results", engine, job_id=job.id, provider=job.provider) as span:
        for item in items:
            count += 1
            yield item
        span.stop_metadata.update(output_count=count)


def aresults(
    engine: Any, job: BatchJob, **opts: Unpack[TransportOptions]
) -> AsyncIterator[BatchItem]:
    """The async twin of ``results``: ``async for item in allm.batch.aresults(...)``."""
    backend, wire, found = _control(engine, job, opts)
    return _aitems(engine, found, _async.drive(each_result(backend, wire, found), _ITEMS))


async def _aitems(
    engine: Any, job: BatchJob, items: AsyncIterator[Any]
) -> AsyncIterator[BatchItem]:
    count = 0
    with _span("results", engine, job_id=job.id, provider=job.provider) as span:
        async for item in items:
            count += 1
            yield item
        span.stop_metadata.update(output_count=count)


def _wait_args(poll_interval: Any, timeout: Any, on_progress: Any) -> None:
    problems = []
    if isinstance(poll_interval, bool) or not isinstance(poll_interval, int | float):
        problems.append(f"poll_interval must be a number of seconds, got {poll_interval!r}")
    elif poll_interval < 0:
        problems.append(f"poll_interval must not be negative, got {poll_interval!r}")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout < 0
    ):
        problems.append(f"timeout must be None or seconds >= 0, got {timeout!r}")
    if on_progress is not None and not callable(on_progress):
        problems.append(f"on_progress must be callable, got {on_progress!r}")
    if problems:
        raise ConfigurationError("invalid_option", problems=problems)


@dataclass
class _Poll:
    """One ``wait``: the refreshed job seen, then how long to sleep (None: it is finished)."""

    poll_interval: float
    timeout: float | None
    on_progress: Callable[[BatchJob], Any] | None
    started: float = field(default_factory=time.monotonic)

    def seen(self, job: BatchJob) -> float | None:
        if self.on_progress is not None:
            self.on_progress(job)
        if job.done:
            return None
        if self.timeout is None:
            return self.poll_interval
        left = self.timeout - (time.monotonic() - self.started)
        if left <= 0:
            raise AdapterError(
                "timeout",
                f"batch {job.id} still {job.status} after {self.timeout} s",
                provider=job.provider,
                metadata={"job": job},
            )
        return min(self.poll_interval, left)


def wait(
    engine: Any,
    job: BatchJob,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    timeout: float | None = None,
    on_progress: Callable[[BatchJob], Any] | None = None,
    **opts: Any,  # TransportOptions but timeout, which is the wait's own (get checks them)
) -> BatchJob:
    """Poll ``get`` every ``poll_interval`` seconds until the job is finished (completed,
    failed, expired or cancelled) and return it; ``on_progress`` gets every refreshed job.
    ``AdapterError`` reason ``"timeout"`` (also a ``TimeoutError``) after ``timeout`` seconds."""
    _wait_args(poll_interval, timeout, on_progress)
    _check_job(job)
    poll = _Poll(poll_interval, timeout, on_progress)
    while True:
        job = get(engine, job, **opts)
        pause = poll.seen(job)
        if pause is None:
            return job
        time.sleep(pause)


async def await_(
    engine: Any,
    job: BatchJob,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    timeout: float | None = None,
    on_progress: Callable[[BatchJob], Any] | None = None,
    **opts: Any,  # TransportOptions but timeout, which is the wait's own (get checks them)
) -> BatchJob:
    """The async twin of ``wait``."""
    import anyio

    _wait_args(poll_interval, timeout, on_progress)
    _check_job(job)
    poll = _Poll(poll_interval, timeout, on_progress)
    while True:
        job = await aget(engine, job, **opts)
        pause = poll.seen(job)
        if pause is None:
            return job
        await anyio.sleep(pause)
