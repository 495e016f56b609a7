"""Providers' batch APIs replayed from the transcripts in tests/fixtures/batch: each server
walks its job through the recorded statuses, one per poll, and records what it was sent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

FIXTURES = Path(__file__).parent.parent / "fixtures" / "batch"


def transcript(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())  # type: ignore[no-any-return]


def life(
    engine: Any, entries: list[Any], mode: str, *, resume: bool = False, **opts: Any
) -> tuple[Any, list[str], Any, list[Any]]:
    """A job's whole life, sync or async: submitted, (saved and restored,) waited for, read;
    ``(job, every status seen while waiting, finished job, items)``. ``opts`` go to every call."""
    import allm.batch as batch
    from allm import from_json, to_json
    from allm.batch._prepare import BATCH_KEYS

    # the job's own keywords belong to submit; wait and results take only the call's transport
    control = {key: value for key, value in opts.items() if key not in BATCH_KEYS}
    seen: list[str] = []

    def progress(job: Any) -> None:
        seen.append(job.status)

    if mode == "sync":
        job = batch.submit(engine, entries, **opts)
        started = from_json(to_json(job)) if resume else job
        done = batch.wait(engine, started, poll_interval=0, on_progress=progress, **control)
        return job, seen, done, list(batch.results(engine, done, **control))

    async def run() -> tuple[Any, Any, list[Any]]:
        job = await batch.asubmit(engine, entries, **opts)
        started = from_json(to_json(job)) if resume else job
        done = await batch.await_(engine, started, poll_interval=0, on_progress=progress, **control)
        return job, done, [item async for item in batch.aresults(engine, done, **control)]

    import anyio

    job, done, items = anyio.run(run)
    return job, seen, done, items


def jsonl(lines: list[Any]) -> bytes:
    return b"".join(json.dumps(line).encode() + b"\n" for line in lines)


class Server:
    """A MockTransport handler; ``sent`` keeps every request."""

    name = ""

    def __init__(self, final: str | None = None) -> None:
        self.data = transcript(self.name)
        self.sent: list[httpx.Request] = []
        self.polls = 0
        self.final = final

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.sent.append(request)
        return self.answer(request)

    def answer(self, request: httpx.Request) -> httpx.Response:  # pragma: no cover
        raise NotImplementedError

    def status(self) -> str:
        statuses = self.data["statuses"]
        found = statuses[min(self.polls, len(statuses) - 1)]
        if self.final is not None and self.polls >= len(statuses) - 1:
            found = self.final
        self.polls += 1
        return str(found)

    def clients(self) -> dict[str, Any]:
        return {
            "http_client": httpx.Client(transport=httpx.MockTransport(self)),
            "async_http_client": httpx.AsyncClient(transport=httpx.MockTransport(self)),
        }


class OpenAIServer(Server):
    name = "openai"

    def batch(self, status: str) -> httpx.Response:
        body = dict(self.data["batch"], status=status)
        if status == "completed":
            body.update(output_file_id="file-out", error_file_id="file-err")
        return httpx.Response(200, json=body)

    def answer(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/v1/files" and request.method == "POST":
            return httpx.Response(200, json=self.data["file"])
        if path == "/v1/batches":
            return self.batch("validating")
        if path.endswith("/cancel"):
            return self.batch("cancelling")
        if path == "/v1/files/file-out/content":
            return httpx.Response(200, content=jsonl(self.data["output_lines"]))
        if path == "/v1/files/file-err/content":
            return httpx.Response(200, content=jsonl(self.data["error_lines"]))
        if path.startswith("/v1/batches/"):
            return self.batch(self.status())
        return httpx.Response(404, json={"error": {"message": "no route", "type": "x"}})


class AnthropicServer(Server):
    name = "anthropic"
    base = "https://api.anthropic.com/v1/messages/batches"

    def batch(self, status: str) -> httpx.Response:
        counts = dict(self.data["counts"])
        body = dict(self.data["batch"], processing_status=status, request_counts=counts)
        if status == "ended":
            body["results_url"] = self.base + "/" + body["id"] + "/results"
            if self.final is not None:
                counts = dict.fromkeys(counts, 0) | {self.final: 3}
                body["request_counts"] = counts
        else:
            counts.update(processing=3, succeeded=0, errored=0, expired=0)
        return httpx.Response(200, json=body)

    def status(self) -> str:
        statuses = self.data["statuses"]
        self.polls += 1
        return str(statuses[min(self.polls - 1, len(statuses) - 1)])

    def answer(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/v1/messages/batches":
            return self.batch("in_progress")
        if path.endswith("/cancel"):
            return self.batch("canceling")
        if path.endswith("/results"):
            return httpx.Response(200, content=jsonl(self.data["result_lines"]))
        return self.batch(self.status())


class GeminiServer(Server):
    name = "gemini"
    kind = "GenerateContentBatch"

    def output(self) -> dict[str, Any]:
        return {"inlinedResponses": {"inlinedResponses": self.data["inlined"]}}

    def meta(self, state: str) -> dict[str, Any]:
        return {
            "@type": f"type.googleapis.com/google.ai.generativelanguage.v1main.{self.kind}",
            "name": self.data["name"],
            "state": state,
            "createTime": "2025-07-07T10:00:00.123456Z",
            "batchStats": self.data["stats"],
        }

    def operation(self, state: str) -> httpx.Response:
        meta = self.meta(state)
        body: dict[str, Any] = {"name": self.data["name"], "metadata": meta}
        if state in ("BATCH_STATE_SUCCEEDED", "BATCH_STATE_EXPIRED", "BATCH_STATE_CANCELLED"):
            body["done"] = True
        if state == "BATCH_STATE_SUCCEEDED":
            output_type = self.kind.replace("Batch", "BatchOutput")
            body["response"] = {
                "@type": f"type.googleapis.com/google.ai.generativelanguage.v1main.{output_type}",
                **self.output(),
            }
        return httpx.Response(200, json=body)

    def answer(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith((":batchGenerateContent", ":asyncBatchEmbedContent")):
            return self.operation("BATCH_STATE_PENDING")
        if path.endswith(":cancel"):
            self.final, self.polls = "BATCH_STATE_CANCELLED", len(self.data["statuses"])
            return httpx.Response(200, json={})
        return self.operation(self.status())


class GeminiEmbeddingServer(GeminiServer):
    name = "gemini_embeddings"
    kind = "EmbedContentBatch"


class GeminiFileServer(GeminiServer):
    """Gemini's Files API and batch mode with an input file: the resumable upload (a start, then
    the bytes in chunks at their offsets) and a job answered in a responses file; ``uploaded``
    holds the file as received, ``commands`` every upload command and offset."""

    name = "gemini_file"

    def __init__(self, final: str | None = None, lines: list[Any] | None = None) -> None:
        super().__init__(final)
        self.uploaded = bytearray()
        self.commands: list[tuple[str, str | None]] = []
        self.announced: dict[str, str] = {}
        self.lines = self.data["response_lines"] if lines is None else lines

    def output(self) -> dict[str, Any]:
        return {"responsesFile": self.data["responses_file"]}

    def meta(self, state: str) -> dict[str, Any]:
        meta = super().meta(state)
        meta["inputConfig"] = {"fileName": self.data["file"]["file"]["name"]}
        if state == "BATCH_STATE_SUCCEEDED":
            meta["output"] = self.output()
        return meta

    def answer(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/upload/v1beta/files":
            return self.upload(request)
        if path == "/download/v1beta/" + self.data["responses_file"] + ":download":
            return httpx.Response(200, content=jsonl(self.lines))
        return super().answer(request)

    def upload(self, request: httpx.Request) -> httpx.Response:
        command = request.headers.get("x-goog-upload-command", "")
        self.commands.append((command, request.headers.get("x-goog-upload-offset")))
        if command == "start":
            self.announced = dict(request.headers)
            self.uploaded = bytearray()
            url = self.data["upload_url"]
            return httpx.Response(200, headers={"x-goog-upload-url": url}, json={})
        assert request.url.params["upload_id"] == "AUpPtest123"
        assert int(request.headers["x-goog-upload-offset"]) == len(self.uploaded)
        self.uploaded += request.content
        if "finalize" not in command:
            return httpx.Response(200, headers={"x-goog-upload-status": "active"})
        file = json.loads(json.dumps(self.data["file"]))
        file["file"]["sizeBytes"] = str(len(self.uploaded))
        return httpx.Response(200, headers={"x-goog-upload-status": "final"}, json=file)
