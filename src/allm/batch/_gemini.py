"""Gemini's batch mode: ``POST models/{model}:batchGenerateContent`` (``:asyncBatchEmbedContent``
for embeddings) with every request the same body the non-streaming path sends, keyed by its
custom id: inline when the batch fits the inline limit (20 MB), else uploaded as a JSONL input
file through the Files API (resumable upload, 8 MiB chunks, at most 2 GB per file). Polled as
the ``batches/{id}`` operation, cancelled with ``:cancel``; results inline in the finished
operation, or read line by line from its responses file."""

from __future__ import annotations

from collections.abc import Generator, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

from .._json import dumps, loads_wire
from ..adapters import Call
from ..adapters.http import HttpRequest
from ..data.batch import BatchJob
from ..effects import Effect, relay
from ..errors import ConfigurationError
from ._backend import Backend, mapping
from ._prepare import Line, joined, jsonl_parts, split
from ._wire import Wire

__all__ = ["FILE_BYTES", "INLINE_BYTES", "UPLOAD_CHUNK", "GeminiBatches", "STATUSES", "chunked"]

STATUSES = {
    "BATCH_STATE_UNSPECIFIED": "validating",
    "BATCH_STATE_PENDING": "validating",
    "BATCH_STATE_RUNNING": "in_progress",
    "BATCH_STATE_SUCCEEDED": "completed",
    "BATCH_STATE_FAILED": "failed",
    "BATCH_STATE_CANCELLED": "cancelled",
    "BATCH_STATE_EXPIRED": "expired",
}
INLINE_BYTES = 20 * 1000 * 1000  # "inline requests ... keep the total request size under 20MB"
FILE_BYTES = 2 * 1000 * 1000 * 1000  # the Files API's "per-file maximum size of 2 GB"
UPLOAD_CHUNK = 8 * 1024 * 1024  # a multiple of the resumable protocol's 256 KiB granularity
_KEY_HEAD = b'{"key":'
_INLINE_HEAD = b'{"metadata":{"key":'
_INLINE_EXTRA = len(_INLINE_HEAD) + 1 - len(_KEY_HEAD)  # and the metadata's closing brace


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
    max_bytes: ClassVar[int] = FILE_BYTES
    one_model: ClassVar[bool] = True
    method: ClassVar[str] = ":generateContent"  # the non-batch call the lines carry
    batch_method: ClassVar[str] = ":batchGenerateContent"

    def line_bytes(self, custom_id: str, http: HttpRequest) -> bytes:
        """The input file's line ``{"key", "request"}``; the body spliced in as sent."""
        assert http.body is not None
        return _KEY_HEAD + dumps(custom_id).encode("utf-8") + b',"request":' + http.body + b"}"

    def parts(
        self, lines: list[Line], opts: Mapping[str, Any]
    ) -> tuple[list[tuple[int, int]], Mapping[str, Any]]:
        """Inline parts when ``input_file`` is False, or when it is None (the default) and the
        whole batch fits the inline limit; else input files of at most 2 GB each."""
        mode = opts.get("input_file")
        if mode is not None and not isinstance(mode, bool):
            raise ConfigurationError(
                "invalid_option",
                problems=[f"input_file must be True, False or None, got {mode!r}"],
            )
        sizes = [len(line.encoded) + 1 for line in lines]
        envelope = sum(len(piece) for piece in _inline_envelope(opts))
        if mode is None:
            mode = sum(sizes) + _INLINE_EXTRA * len(sizes) + envelope > INLINE_BYTES
        if mode:
            limit = FILE_BYTES
        else:
            sizes = [size + _INLINE_EXTRA for size in sizes]
            limit = INLINE_BYTES - envelope
        return split(lines, sizes, self.max_count(opts), limit), {**opts, "input_file": mode}

    def create(
        self, wire: Wire, first: Line, lines: list[Line], opts: Mapping[str, Any]
    ) -> Generator[Effect, Any, BatchJob]:
        assert first.http is not None
        url = first.http.url.replace(self.method, self.batch_method)
        name = str(opts.get("display_name") or "allm-batch")
        if opts.get("input_file"):
            file_name = yield from self.upload(wire, lines, name)
            config = dumps({"file_name": file_name}).encode("utf-8")
            head, tail = _batch_envelope(name, config)
            body: tuple[bytes, ...] = (head, tail)
        else:
            head, tail = _inline_envelope(opts)
            body = (head, *joined(map(_inline, lines), b","), tail)
        result = yield from wire.send(wire.request("POST", url, body))
        document = _json(result.body)
        if not isinstance(document.get("name"), str):
            raise wire.malformed(result, "the batch was created without a name")
        return self.job(document, first.model)

    def upload(self, wire: Wire, lines: list[Line], name: str) -> Generator[Effect, Any, str]:
        """The lines as a JSONL file through the Files API's resumable upload: a start request
        (the size and type announced), then the bytes in ``UPLOAD_CHUNK`` pieces, each sent
        from the lines' own bytes; the uploaded file's name (``files/...``)."""
        size = sum(len(line.encoded) + 1 for line in lines)
        start = wire.request(
            "POST",
            _root(wire.base, "upload") + "/files",
            dumps({"file": {"displayName": name}}).encode("utf-8"),
            extra={
                "x-goog-upload-protocol": "resumable",
                "x-goog-upload-command": "start",
                "x-goog-upload-header-content-length": str(size),
                "x-goog-upload-header-content-type": "application/jsonl",
            },
        )
        started = yield from wire.send(start)
        found = started.headers.get("x-goog-upload-url")
        if not found:
            raise wire.malformed(started, "the upload was started without an upload URL")
        url = _same_origin(found, wire.base)
        offset = 0
        result = started
        for chunk in chunked(jsonl_parts(lines), UPLOAD_CHUNK):
            length = sum(len(part) for part in chunk)
            last = offset + length >= size
            command = {
                "x-goog-upload-command": "upload, finalize" if last else "upload",
                "x-goog-upload-offset": str(offset),
            }
            result = yield from wire.send(wire.request("POST", url, chunk, None, command))
            offset += length
            status = result.headers.get("x-goog-upload-status")
            if not last and status != "active":
                raise wire.malformed(result, f"the upload stopped at byte {offset} of {size}")
        uploaded = mapping(_json(result.body).get("file")).get("name")
        if result.headers.get("x-goog-upload-status") != "final" or not isinstance(uploaded, str):
            raise wire.malformed(result, "the upload was not finalized with a file name")
        return uploaded

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
        source = mapping(meta.get("inputConfig")).get("fileName")
        if isinstance(source, str):
            metadata["input_file"] = source
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
            url = f"{_root(wire.base, 'download')}/{file_name}:download?alt=media"
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
            if not isinstance(code, int):
                code = 2
            status = code if code >= 400 else _HTTP_OF.get(code, 500)
            return self.item(wire, job, custom_id, status, {}, {"error": error})
        return self.item(wire, job, custom_id, 200, {}, entry.get("response"))


# A failed request's error is a google.rpc.Status, whose code is the gRPC one; the HTTP status
# the same code has on the API lets the adapter's own mapping classify it.
_HTTP_OF = {1: 499, 2: 500, 3: 400, 4: 504, 5: 404, 6: 409, 7: 403, 8: 429, 9: 400, 10: 409}
_HTTP_OF |= {11: 400, 12: 501, 13: 500, 14: 503, 15: 500, 16: 401}


def _inline(line: Line) -> bytes:
    """An input file's line as an inline request: the key moved into ``metadata``."""
    key = dumps(line.custom_id).encode("utf-8")
    return _INLINE_HEAD + key + b"}," + line.encoded[len(_KEY_HEAD) + len(key) + 1 :]


def _batch_envelope(name: str, config: bytes) -> tuple[bytes, bytes]:
    """The create body around its ``input_config`` (split where the inline requests go)."""
    head = b'{"batch":{"display_name":' + dumps(name).encode("utf-8") + b',"input_config":'
    return head + config, b"}}"


def _inline_envelope(opts: Mapping[str, Any]) -> tuple[bytes, bytes]:
    name = str(opts.get("display_name") or "allm-batch")
    head, tail = _batch_envelope(name, b'{"requests":{"requests":[')
    return head, b"]}}" + tail


def chunked(parts: Iterable[bytes], size: int) -> Iterator[tuple[bytes, ...]]:
    """``parts`` regrouped into runs of exactly ``size`` bytes (the last one shorter): a part
    cut at a boundary is sliced, every other part passed on as it is (not copied)."""
    run: list[bytes] = []
    filled = 0
    for part in parts:
        while part:
            room = size - filled
            piece, part = (part, b"") if len(part) <= room else (part[:room], part[room:])
            run.append(piece)
            filled += len(piece)
            if filled == size:
                yield tuple(run)
                run, filled = [], 0
    if run:
        yield tuple(run)


def _root(base: str, kind: str) -> str:
    """The upload or download root beside the API's base (``.../upload/v1beta``)."""
    parts = urlsplit(base)
    version = parts.path.rstrip("/").rsplit("/", 1)[-1]
    return f"{parts.scheme}://{parts.netloc}/{kind}/{version}"


def _same_origin(url: str, base: str) -> str:
    """The upload URL the server answered, on the API's own scheme and host: the key goes with
    every chunk, so it is never sent to another origin."""
    found, ours = urlsplit(url), urlsplit(base)
    return urlunsplit((ours.scheme, ours.netloc, found.path, found.query, ""))


def _json(body: bytes) -> dict[str, Any]:
    try:
        document = loads_wire(body)
    except (ValueError, UnicodeDecodeError):
        return {}
    return document if isinstance(document, dict) else {}
