"""What every provider's batch backend shares: building each line with the adapter's own
non-streaming request builder, parsing each result with the adapter's own parser, splitting a
batch over the provider's limits, and the job value."""

from __future__ import annotations

import time
from collections.abc import Generator, Mapping
from dataclasses import replace
from typing import Any, ClassVar

from .._json import dumps, loads_wire
from ..adapters import Call
from ..adapters.http import HttpRequest, HttpResult
from ..catalog import resolve_model_ref
from ..data.batch import BatchItem, BatchJob
from ..data.embeddings import EmbeddingRequest
from ..data.request import Request
from ..effects import Effect
from ..errors import AdapterError, ValidationError
from ..execution.runner import with_costs
from ._prepare import Line, Prepared, split
from ._wire import Wire

__all__ = ["Backend", "mapping", "now"]


class Backend:
    """One provider's batch API. Subclasses supply the wire: ``create`` (one part), ``get``,
    ``cancel``, ``results`` and ``control_headers``."""

    provider: ClassVar[str]
    max_requests: ClassVar[int]
    max_bytes: ClassVar[int]
    one_model: ClassVar[bool] = False  # every request of a job names the same model

    def build(
        self,
        adapter: Any,
        request: Request | EmbeddingRequest,
        call: Call,
        custom_id: str,
        first: bool,
    ) -> Line:
        """The request's batch line around the HTTP request ``generate(streaming=False)`` would
        send (the adapter's checks and key resolution included)."""
        adapter.check(request, call)
        built: HttpRequest = adapter.build_request(request, call, stream=False)
        assert built.body is not None
        encoded = self.line_bytes(custom_id, built)
        if first:
            return Line(custom_id, request.model, encoded, request, call, built)
        return Line(custom_id, request.model, encoded)

    def line_bytes(self, custom_id: str, http: HttpRequest) -> bytes:  # pragma: no cover
        """One request as the provider's batch line (JSON, no newline)."""
        raise NotImplementedError

    def submit(
        self, prepared: Prepared, opts: Mapping[str, Any]
    ) -> Generator[Effect, Any, list[BatchJob]]:
        """Every part of the batch created (split over the provider's limits, in order)."""
        first = prepared.lines[0]
        assert first.http is not None and first.call is not None
        if self.one_model:
            wrong = [
                ((index, "model"), "one_model_per_batch")
                for index, line in enumerate(prepared.lines)
                if line.model != first.model
            ]
            if wrong:
                raise ValidationError("invalid_request", errors=wrong)
        wire = Wire(prepared.adapter, first.call, dict(first.http.headers))
        lines = prepared.lines
        ranges, opts = self.parts(lines, opts)
        jobs: list[BatchJob] = []
        for start, stop in ranges:
            job = yield from self.create(wire, first, lines[start:stop], opts)
            jobs.append(job)
        return jobs

    def max_count(self, opts: Mapping[str, Any]) -> int:
        """The most requests in one part: the provider's limit, or ``max_requests`` below it."""
        limit = opts.get("max_requests")
        if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
            return min(self.max_requests, limit)
        return self.max_requests

    def parts(
        self, lines: list[Line], opts: Mapping[str, Any]
    ) -> tuple[list[tuple[int, int]], Mapping[str, Any]]:
        """The ``(start, stop)`` ranges of the parts, within the provider's limits, and the
        options every part's ``create`` sees."""
        sizes = [len(line.encoded) + 1 for line in lines]
        return split(lines, sizes, self.max_count(opts), self.max_bytes), opts

    def create(
        self, wire: Wire, first: Line, lines: list[Line], opts: Mapping[str, Any]
    ) -> Generator[Effect, Any, BatchJob]:  # pragma: no cover - overridden
        """Upload and create one part."""
        raise NotImplementedError
        yield

    def control_headers(self, adapter: Any, call: Call) -> dict[str, str]:  # pragma: no cover
        """The headers of a control request (the key in them)."""
        raise NotImplementedError

    def wire(self, adapter: Any, call: Call) -> Wire:
        """The control wire of an existing job."""
        headers = self.control_headers(adapter, call)
        headers.update(adapter.extra_headers(call))
        return Wire(adapter, call, headers)

    def get(
        self, wire: Wire, job: BatchJob
    ) -> Generator[Effect, Any, BatchJob]:  # pragma: no cover
        """The job as the provider sees it now."""
        raise NotImplementedError
        yield

    def cancel(
        self, wire: Wire, job: BatchJob
    ) -> Generator[Effect, Any, BatchJob]:  # pragma: no cover
        """Ask the provider to cancel; the job as answered."""
        raise NotImplementedError
        yield

    def results(self, wire: Wire, job: BatchJob) -> Generator[Any, Any, None]:  # pragma: no cover
        """Each ``BatchItem`` of a finished job, yielded among the effects."""
        raise NotImplementedError
        yield

    # -- one codec: results through the chat adapter's own parser --------------------------------

    def parse_request(self, job: BatchJob) -> Request:
        """The request the parser sees: the job's model (the parsers read nothing else)."""
        return Request(model=job.metadata.get("model"), messages=())

    def item(
        self,
        wire: Wire,
        job: BatchJob,
        custom_id: str,
        status: int,
        headers: Mapping[str, str],
        body: Any,
    ) -> BatchItem:
        """One result: a success parsed by the adapter's ``parse_response``, an error status
        classified by its ``classify_error``, exactly as the non-streaming path does."""
        result = HttpResult(status, dict(headers), dumps(body).encode("utf-8"))
        call = replace(wire.call, request_id=custom_id)
        try:
            if status >= 400:
                raise wire.adapter.classify_error(result, call)
            response = self.parse(wire, job, result, call, body)
        except AdapterError as exc:
            return BatchItem(custom_id, None, exc)
        return BatchItem(custom_id, response, None)

    def parse(self, wire: Wire, job: BatchJob, result: HttpResult, call: Call, body: Any) -> Any:
        """A success through the chat adapter's ``parse_response``, priced as ``generate``
        prices it."""
        response = wire.adapter.parse_response(result, self.parse_request(job), call)
        response = replace(response, request_id=call.request_id)
        return with_costs(response, resolve_model_ref(job.metadata.get("model"), self.provider))

    def read_line(self, wire: Wire, raw: bytes) -> dict[str, Any]:
        """One results line as a JSON object (``malformed_response`` when it is not one)."""
        try:
            line = loads_wire(raw)
        except (ValueError, UnicodeDecodeError):
            line = None
        if not isinstance(line, dict):
            raise AdapterError(
                "malformed_response",
                f"a results line is not a JSON object: {raw[:80]!r}",
                provider=self.provider,
                request_id=wire.call.request_id,
            )
        return line

    def failed_item(self, custom_id: str, reason: str, message: str, **metadata: Any) -> BatchItem:
        """A result the provider reports as not run (expired, cancelled, errored)."""
        error = AdapterError(
            reason, message, provider=self.provider, request_id=custom_id, metadata=metadata
        )
        return BatchItem(custom_id, None, error)


def mapping(value: Any) -> Mapping[str, Any]:
    """``value`` when it is a JSON object, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def now() -> float:
    """Unix seconds."""
    return time.time()
