"""OpenAI's Batch API: the lines uploaded as one JSONL file (``POST /files``, purpose
``batch``), the job created (``POST /batches``), polled, cancelled; results read line by line
from the output and error files. Limits per file: 50,000 requests, 200 MB."""

from __future__ import annotations

import os
from collections.abc import Generator, Mapping
from dataclasses import replace
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

from .._json import dumps, loads_wire
from ..adapters import Call
from ..adapters.http import HttpRequest
from ..adapters.multipart import Upload, encode_multipart
from ..data.batch import BatchJob
from ..effects import Effect, relay
from ._backend import Backend, mapping
from ._prepare import Line, jsonl_parts
from ._wire import Wire

__all__ = ["OpenAIBatches", "STATUSES"]

# OpenAI's batch statuses are the contract's vocabulary, spelled the same.
STATUSES = {
    "validating": "validating",
    "in_progress": "in_progress",
    "finalizing": "finalizing",
    "completed": "completed",
    "failed": "failed",
    "expired": "expired",
    "cancelling": "cancelling",
    "cancelled": "cancelled",
}
WIRES = {"/v1/chat/completions": "chat_completions", "/v1/responses": "responses"}


class OpenAIBatches(Backend):
    provider: ClassVar[str] = "openai"
    max_requests: ClassVar[int] = 50_000
    max_bytes: ClassVar[int] = 200 * 1024 * 1024
    one_model: ClassVar[bool] = True

    def line_bytes(self, custom_id: str, http: HttpRequest) -> bytes:
        assert http.body is not None
        path = urlsplit(http.url).path
        # The body is spliced in as sent: the exact bytes generate(streaming=False) posts.
        head = dumps({"custom_id": custom_id, "method": "POST", "url": path})
        return head[:-1].encode("utf-8") + b',"body":' + http.body + b"}"

    def create(
        self, wire: Wire, first: Line, lines: list[Line], opts: Mapping[str, Any]
    ) -> Generator[Effect, Any, BatchJob]:
        assert first.http is not None
        endpoint = urlsplit(first.http.url).path
        content_type, parts = _upload(lines)
        uploaded = yield from wire.send(
            wire.request("POST", wire.base + "/files", parts, content_type)
        )
        del parts
        document = loads_wire(uploaded.body)
        file_id = document.get("id") if isinstance(document, dict) else None
        if not isinstance(file_id, str):
            raise wire.malformed(uploaded, "the file upload answered without an id")
        payload: dict[str, Any] = {
            "input_file_id": file_id,
            "endpoint": endpoint,
            "completion_window": opts.get("completion_window", "24h"),
        }
        if opts.get("metadata"):
            payload["metadata"] = dict(opts["metadata"])
        created = yield from wire.json("POST", wire.base + "/batches", payload)
        model = first.model
        return self.job(created, {"model": model})

    def job(self, document: Mapping[str, Any], extra: Mapping[str, Any]) -> BatchJob:
        """A batch object as a ``BatchJob``."""
        counts = document.get("request_counts") or {}
        endpoint = document.get("endpoint") or extra.get("endpoint")
        metadata: dict[str, Any] = {
            **extra,
            "endpoint": endpoint,
            "wire": WIRES.get(str(endpoint), "chat_completions"),
            "raw_status": document.get("status"),
        }
        for key in ("input_file_id", "output_file_id", "error_file_id", "expires_at"):
            if document.get(key) is not None:
                metadata[key] = document[key]
        if document.get("errors"):
            metadata["errors"] = document["errors"]
        total = int(counts.get("total") or 0)
        failed = int(counts.get("failed") or 0)
        completed = int(counts.get("completed") or 0)
        return BatchJob(
            id=str(document.get("id")),
            provider=self.provider,
            status=STATUSES.get(str(document.get("status")), "failed"),  # type: ignore[arg-type]
            counts={"total": total, "succeeded": completed, "errored": failed},
            created_at=float(document["created_at"]) if document.get("created_at") else None,
            metadata=metadata,
        )

    def control_headers(self, adapter: Any, call: Call) -> dict[str, str]:
        return dict(adapter.auth_headers(call))

    def _kept(self, job: BatchJob) -> dict[str, Any]:
        return {"model": job.metadata.get("model")}

    def get(self, wire: Wire, job: BatchJob) -> Generator[Effect, Any, BatchJob]:
        document = yield from wire.json("GET", f"{wire.base}/batches/{quote(job.id, safe='')}")
        return self.job(document, self._kept(job))

    def cancel(self, wire: Wire, job: BatchJob) -> Generator[Effect, Any, BatchJob]:
        url = f"{wire.base}/batches/{quote(job.id, safe='')}/cancel"
        document = yield from wire.json("POST", url, {})
        return self.job(document, self._kept(job))

    def results(self, wire: Wire, job: BatchJob) -> Generator[Any, Any, None]:
        opts = {**wire.call.adapter_opts, "endpoint": job.metadata.get("wire", "chat_completions")}
        wire = replace(wire, call=replace(wire.call, adapter_opts=opts))
        for key in ("output_file_id", "error_file_id"):
            file_id = job.metadata.get(key)
            if not isinstance(file_id, str):
                continue
            url = f"{wire.base}/files/{quote(file_id, safe='')}/content"
            yield from relay(wire.lines(url), lambda raw: (self.result_line(wire, job, raw),))

    def result_line(self, wire: Wire, job: BatchJob, raw: bytes) -> Any:
        """One line of an output or error file as a ``BatchItem``."""
        line = self.read_line(wire, raw)
        custom_id = str(line.get("custom_id"))
        response = line.get("response")
        if isinstance(response, Mapping) and isinstance(response.get("status_code"), int):
            headers = {"x-request-id": str(response.get("request_id") or "")}
            return self.item(
                wire, job, custom_id, response["status_code"], headers, response.get("body")
            )
        error = mapping(line.get("error"))
        code = str(error.get("code") or "")
        reason = "timeout" if code == "batch_expired" else "unknown"
        return self.failed_item(
            custom_id, reason, str(error.get("message") or code or "no result"), code=code
        )


def _upload(lines: list[Line]) -> tuple[str, tuple[bytes, ...]]:
    """The multipart body of the JSONL file as parts: the form's head, each line's own bytes
    and a newline, the tail. Sent part by part, so no copy of the file is made."""
    boundary = "allm-" + os.urandom(12).hex()
    empty = encode_multipart(
        [("purpose", "batch")], [Upload("file", "batch.jsonl", "application/jsonl", b"")], boundary
    )
    tail = f"\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", (
        empty[: -len(tail)],
        *jsonl_parts(lines),
        tail,
    )


class OpenAICompatibleBatches(OpenAIBatches):
    """The same wire on a compatible server that offers it (vLLM, for one)."""

    provider: ClassVar[str] = "openai_compatible"
