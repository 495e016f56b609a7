"""Gemini's batch mode: ``POST models/{model}:batchGenerateContent`` with the requests inline
(each the same ``generateContent`` body the non-streaming path sends, keyed by its custom id),
polled as the ``batches/{id}`` operation, cancelled with ``:cancel``; results inline in the
finished operation, or line by line from its responses file. Inline limit: about 20 MB."""

from __future__ import annotations

from collections.abc import Generator, Mapping
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

from .._json import dumps
from ..adapters import Call
from ..adapters.http import HttpRequest
from ..data.batch import BatchJob
from ..effects import Effect, relay
from ._backend import Backend, mapping
from ._prepare import Line
from ._wire import Wire

__all__ = ["GeminiBatches", "STATUSES"]

STATUSES = {
    "BATCH_STATE_UNSPECIFIED": "validating",
    "BATCH_STATE_PENDING": "validating",
    "BATCH_STATE_RUNNING": "in_progress",
    "BATCH_STATE_SUCCEEDED": "completed",
    "BATCH_STATE_FAILED": "failed",
    "BATCH_STATE_CANCELLED": "cancelled",
    "BATCH_STATE_EXPIRED": "expired",
}


def _seconds(stamp: Any) -> float | None:
    if not isinstance(stamp, str):
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")[:26] + "+00:00").timestamp()
    except ValueError:
        return None


class GeminiBatches(Backend):
    provider: ClassVar[str] = "gemini"
    max_requests: ClassVar[int] = 1 << 62
    max_bytes: ClassVar[int] = 20 * 1000 * 1000
    one_model: ClassVar[bool] = True

    def line_bytes(self, custom_id: str, http: HttpRequest) -> bytes:
        assert http.body is not None
        tail = dumps({"metadata": {"key": custom_id}})
        return b'{"request":' + http.body + b"," + tail[1:].encode("utf-8")

    def create(
        self, wire: Wire, first: Line, lines: list[Line], opts: Mapping[str, Any]
    ) -> Generator[Effect, Any, BatchJob]:
        assert first.http is not None
        url = first.http.url.replace(":generateContent", ":batchGenerateContent")
        name = dumps(str(opts.get("display_name") or "allm-batch")).encode("utf-8")
        body = (
            b'{"batch":{"display_name":'
            + name
            + b',"input_config":{"requests":{"requests":['
            + b",".join(line.encoded for line in lines)
            + b"]}}}}"
        )
        result = yield from wire.send(wire.request("POST", url, body))
        document = _json(result.body)
        if not isinstance(document.get("name"), str):
            raise wire.malformed(result, "the batch was created without a name")
        return self.job(document, first.model)

    def job(self, document: Mapping[str, Any], model: Any) -> BatchJob:
        """A batch operation (or the batch itself) as a ``BatchJob``."""
        meta = mapping(document.get("metadata"))
        raw = str(meta.get("state") or document.get("state") or "BATCH_STATE_PENDING")
        raw = raw.replace("JOB_STATE_", "BATCH_STATE_")
        stats = meta.get("batchStats") or {}
        total = int(stats.get("requestCount") or 0)
        succeeded = int(stats.get("successfulRequestCount") or 0)
        errored = int(stats.get("failedRequestCount") or 0)
        metadata: dict[str, Any] = {"model": model, "raw_status": raw}
        response = mapping(document.get("response"))
        output = mapping(meta.get("output")) or response
        if isinstance(output.get("responsesFile"), str):
            metadata["responses_file"] = output["responsesFile"]
        return BatchJob(
            id=str(document.get("name")),
            provider=self.provider,
            status=STATUSES.get(raw, "failed"),  # type: ignore[arg-type]
            counts={"total": total, "succeeded": succeeded, "errored": errored},
            created_at=_seconds(meta.get("createTime")),
            metadata=metadata,
        )

    def control_headers(self, adapter: Any, call: Call) -> dict[str, str]:
        return {"x-goog-api-key": adapter.api_key(call)}

    def get(self, wire: Wire, job: BatchJob) -> Generator[Effect, Any, BatchJob]:
        document = yield from wire.json("GET", f"{wire.base}/{job.id}")
        return self.job(document, job.metadata.get("model"))

    def cancel(self, wire: Wire, job: BatchJob) -> Generator[Effect, Any, BatchJob]:
        yield from wire.json("POST", f"{wire.base}/{job.id}:cancel", {})
        document = yield from wire.json("GET", f"{wire.base}/{job.id}")
        updated = self.job(document, job.metadata.get("model"))
        if not updated.done and updated.status != "cancelling":
            updated = BatchJob(
                updated.id,
                updated.provider,
                "cancelling",
                updated.counts,
                updated.created_at,
                updated.metadata,
            )
        return updated

    def results(self, wire: Wire, job: BatchJob) -> Generator[Any, Any, None]:
        file_name = job.metadata.get("responses_file")
        if isinstance(file_name, str):
            parts = urlsplit(wire.base)
            version = parts.path.rstrip("/").rsplit("/", 1)[-1]
            url = (
                f"{parts.scheme}://{parts.netloc}/download/{version}/{file_name}:download?alt=media"
            )
            yield from relay(wire.lines(url), lambda raw: (self._line(wire, job, raw),))
            return
        document = yield from wire.json("GET", f"{wire.base}/{job.id}")
        response = mapping(document.get("response"))
        meta = mapping(document.get("metadata"))
        output = mapping(meta.get("output")) or response
        inlined = output.get("inlinedResponses") or {}
        entries = inlined.get("inlinedResponses") if isinstance(inlined, Mapping) else inlined
        for entry in entries or ():
            key = (entry.get("metadata") or {}).get("key")
            yield self._entry(wire, job, str(key), entry)

    def _line(self, wire: Wire, job: BatchJob, raw: bytes) -> Any:
        line = self.read_line(wire, raw)
        return self._entry(wire, job, str(line.get("key")), line)

    def _entry(self, wire: Wire, job: BatchJob, custom_id: str, entry: Mapping[str, Any]) -> Any:
        error = entry.get("error")
        if isinstance(error, Mapping):
            code = error.get("code")
            status = code if isinstance(code, int) else 500
            return self.item(wire, job, custom_id, status, {}, {"error": error})
        return self.item(wire, job, custom_id, 200, {}, entry.get("response"))


def _json(body: bytes) -> dict[str, Any]:
    from .._json import loads_wire

    try:
        document = loads_wire(body)
    except (ValueError, UnicodeDecodeError):
        return {}
    return document if isinstance(document, dict) else {}
