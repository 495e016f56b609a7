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

    def operation(self, state: str) -> httpx.Response:
        meta: dict[str, Any] = {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch",
            "name": self.data["name"],
            "state": state,
            "createTime": "2025-07-07T10:00:00.123456Z",
            "batchStats": self.data["stats"],
        }
        body: dict[str, Any] = {"name": self.data["name"], "metadata": meta}
        if state == "BATCH_STATE_SUCCEEDED":
            body["done"] = True
            body["response"] = {"inlinedResponses": {"inlinedResponses": self.data["inlined"]}}
        return httpx.Response(200, json=body)

    def answer(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith(":batchGenerateContent"):
            return self.operation("BATCH_STATE_PENDING")
        if path.endswith(":cancel"):
            self.final, self.polls = "BATCH_STATE_CANCELLED", len(self.data["statuses"])
            return httpx.Response(200, json={})
        return self.operation(self.status())
