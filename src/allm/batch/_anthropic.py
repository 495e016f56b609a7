"""Anthropic's Message Batches: ``POST /messages/batches`` with every request's Messages body
as its ``params``, polled at ``/messages/batches/{id}``, cancelled at ``.../cancel``; results
read line by line from the batch's ``results_url``. Limits: 100,000 requests or 256 MB."""

from __future__ import annotations

from collections.abc import Generator, Mapping
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import quote

from .._json import dumps, loads_wire
from ..adapters import Call
from ..adapters.http import HttpRequest
from ..data.batch import BatchJob
from ..effects import Effect, relay
from ..providers.anthropic.settings import API_VERSION
from ._backend import Backend, mapping
from ._prepare import Line, joined
from ._wire import Wire

__all__ = ["AnthropicBatches", "STATUSES"]

# processing_status -> the contract's status (an ended batch is completed; its items say more)
STATUSES = {"in_progress": "in_progress", "canceling": "cancelling", "ended": "completed"}


def _seconds(stamp: Any) -> float | None:
    if not isinstance(stamp, str):
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class AnthropicBatches(Backend):
    provider: ClassVar[str] = "anthropic"
    max_requests: ClassVar[int] = 100_000
    max_bytes: ClassVar[int] = 256 * 1024 * 1024

    def line_bytes(self, custom_id: str, http: HttpRequest) -> bytes:
        assert http.body is not None
        head = dumps({"custom_id": custom_id})
        return head[:-1].encode("utf-8") + b',"params":' + http.body + b"}"

    def create(
        self, wire: Wire, first: Line, lines: list[Line], opts: Mapping[str, Any]
    ) -> Generator[Effect, Any, BatchJob]:
        body = (b'{"requests":[', *joined((line.encoded for line in lines), b","), b"]}")
        result = yield from wire.send(wire.request("POST", wire.base + "/messages/batches", body))
        document = loads_wire(result.body)
        if not isinstance(document, dict) or not isinstance(document.get("id"), str):
            raise wire.malformed(result, "the batch was created without an id")
        return self.job(document, first.model)

    def job(self, document: Mapping[str, Any], model: Any) -> BatchJob:
        """A Message Batch object as a ``BatchJob``; an ended batch whose every request
        expired is ``expired``, one whose every request was cancelled ``cancelled``."""
        raw = str(document.get("processing_status"))
        counts_in = document.get("request_counts") or {}
        counts = {
            key: int(counts_in.get(key) or 0)
            for key in ("processing", "succeeded", "errored", "canceled", "expired")
        }
        total = sum(counts.values())
        status = STATUSES.get(raw, "failed")
        if raw == "ended" and total and counts["expired"] == total:
            status = "expired"
        elif raw == "ended" and total and counts["canceled"] == total:
            status = "cancelled"
        metadata: dict[str, Any] = {"model": model, "raw_status": raw}
        for key in ("results_url", "expires_at", "ended_at", "cancel_initiated_at"):
            if document.get(key) is not None:
                metadata[key] = document[key]
        return BatchJob(
            id=str(document["id"]),
            provider=self.provider,
            status=status,  # type: ignore[arg-type]
            counts={
                "total": total,
                "succeeded": counts["succeeded"],
                "errored": counts["errored"],
                "cancelled": counts["canceled"],
                "expired": counts["expired"],
                "processing": counts["processing"],
            },
            created_at=_seconds(document.get("created_at")),
            metadata=metadata,
        )

    def control_headers(self, adapter: Any, call: Call) -> dict[str, str]:
        return {"x-api-key": adapter.api_key(call), "anthropic-version": API_VERSION}

    def get(self, wire: Wire, job: BatchJob) -> Generator[Effect, Any, BatchJob]:
        url = f"{wire.base}/messages/batches/{quote(job.id, safe='')}"
        document = yield from wire.json("GET", url)
        return self.job(document, job.metadata.get("model"))

    def cancel(self, wire: Wire, job: BatchJob) -> Generator[Effect, Any, BatchJob]:
        url = f"{wire.base}/messages/batches/{quote(job.id, safe='')}/cancel"
        document = yield from wire.json("POST", url, {})
        return self.job(document, job.metadata.get("model"))

    def results(self, wire: Wire, job: BatchJob) -> Generator[Any, Any, None]:
        url = job.metadata.get("results_url")
        if not isinstance(url, str):
            url = f"{wire.base}/messages/batches/{quote(job.id, safe='')}/results"
        yield from relay(wire.lines(url), lambda raw: (self.result_line(wire, job, raw),))

    def result_line(self, wire: Wire, job: BatchJob, raw: bytes) -> Any:
        """One line of the results file as a ``BatchItem``."""
        line = self.read_line(wire, raw)
        custom_id = str(line.get("custom_id"))
        result = mapping(line.get("result"))
        kind = result.get("type")
        if kind == "succeeded":
            return self.item(wire, job, custom_id, 200, {}, result.get("message"))
        if kind == "errored":
            envelope = mapping(result.get("error"))
            status = _STATUS_OF.get(str(mapping(envelope.get("error")).get("type")), 400)
            return self.item(wire, job, custom_id, status, {}, envelope)
        if kind == "expired":
            return self.failed_item(custom_id, "timeout", "the batch expired first", code=kind)
        return self.failed_item(custom_id, "unknown", "the request was cancelled", code=str(kind))


# An errored result carries Anthropic's error envelope without its HTTP status; the status the
# same error type has on the Messages API lets the adapter's own mapping classify it.
_STATUS_OF = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}
