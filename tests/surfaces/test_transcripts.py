"""Embedding and moderation transcripts (tests/fixtures/wire/{embeddings,moderation}): for every
case, what the adapter sends (each request's path and JSON body, in order) and what allm makes
of the recorded answers, through the sync and the async API."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

import allm
from allm import telemetry

WIRE = Path(__file__).resolve().parents[1] / "fixtures" / "wire"
FOLDERS = {
    "openai_embeddings": WIRE / "embeddings" / "openai",
    "openai_compatible_embeddings": WIRE / "embeddings" / "openai-compatible",
    "gemini_embeddings": WIRE / "embeddings" / "gemini",
    "openai_moderation": WIRE / "moderation" / "openai",
}
BASE_URLS = {
    "openai_embeddings": "https://api.openai.com/v1",
    "openai_compatible_embeddings": "http://127.0.0.1:8000/v1",
    "gemini_embeddings": "https://generativelanguage.googleapis.com/v1beta",
    "openai_moderation": "https://api.openai.com/v1",
}
CASES = sorted(
    (adapter, path.stem) for adapter, folder in FOLDERS.items() for path in folder.glob("*.json")
)
FAST_RETRY = {"max_attempts": 3, "base_delay_ms": 0, "jitter_ms": 0}


class Transcript:
    """One case served by a MockTransport that checks each request against the recording."""

    def __init__(self, adapter: str, case: str, skip: int = 0) -> None:
        self.adapter = adapter
        self.data = json.loads((FOLDERS[adapter] / f"{case}.json").read_text())
        self.data["exchanges"] = self.data["exchanges"][skip:]
        self.sent: list[httpx.Request] = []

    def wire(self) -> list[tuple[str, bytes]]:
        """What was sent: each request's URL and body."""
        return [(str(request.url), request.content) for request in self.sent]

    def _answer(self, request: httpx.Request) -> httpx.Response:
        index = len(self.sent)
        self.sent.append(request)
        exchanges = self.data["exchanges"]
        assert index < len(exchanges), f"unexpected request {index + 1}: {request.url}"
        recorded = exchanges[index]
        assert request.method == recorded["request"]["method"]
        assert request.url.path == recorded["request"]["path"]
        assert json.loads(request.content) == recorded["request"]["body"]
        answer = recorded["response"]
        return httpx.Response(
            answer["status"], headers=answer["headers"], content=answer["body"].encode()
        )

    def engine(self, retry: Any = FAST_RETRY) -> allm.Engine:
        def sync(request: httpx.Request) -> httpx.Response:
            request.read()
            return self._answer(request)

        async def handler(request: httpx.Request) -> httpx.Response:
            await request.aread()
            return self._answer(request)

        opts = {
            "http_client": httpx.Client(transport=httpx.MockTransport(sync)),
            "async_http_client": httpx.AsyncClient(transport=httpx.MockTransport(handler)),
            "base_url": BASE_URLS[self.adapter],
        }
        slot = "moderation_adapter" if self.adapter.endswith("moderation") else "embedding_adapter"
        return allm.Engine(**{slot: self.adapter}, adapter_opts=opts, retry=retry)

    def inputs(self) -> Any:
        raw = self.data["call"]["inputs"]

        def part(item: Any) -> Any:
            if isinstance(item, dict):
                data = base64.b64decode(item["image_png_base64"])
                return allm.ImagePart.from_bytes(data, "image/png")
            if isinstance(item, list):
                return [part(x) for x in item]
            return item

        return [part(item) for item in raw]

    def run(self, mode: str) -> Any:
        engine, inputs = self.engine(), self.inputs()
        opts = {**self.data["call"]["opts"], "api_key": "sk-test-key"}
        moderation = self.adapter.endswith("moderation")
        if mode == "sync":
            function = allm.moderate if moderation else allm.embed
            return function(engine, inputs, **opts)
        afunction = allm.amoderate if moderation else allm.aembed

        async def go() -> Any:
            return await afunction(engine, inputs, **opts)

        return anyio.run(go)


@pytest.fixture
def retries() -> Any:
    seen: list[Any] = []
    handler = telemetry.attach(lambda *event: seen.append(event), ["allm.adapter.retry"])
    yield seen
    telemetry.detach(handler)


def test_every_adapter_has_at_least_six_transcripts() -> None:
    for adapter, folder in FOLDERS.items():
        names = {path.stem for path in folder.glob("*.json")}
        assert len(names) >= 6, adapter
        assert {"success", "batch_split", "error_400", "rate_limited_then_ok"} <= names
        assert "malformed_body" in names and any(name.startswith("edge_") for name in names)


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(("adapter", "case"), CASES)
def test_transcript(adapter: str, case: str, mode: str, retries: list[Any]) -> None:
    transcript = Transcript(adapter, case)
    expect = transcript.data["expect"]
    if "preflight" in expect:
        with pytest.raises(allm.ValidationError) as info:
            transcript.run(mode)
        assert [[list(path), reason] for path, reason in info.value.errors] == expect["preflight"][
            "errors"
        ]
    elif "error" in expect:
        with pytest.raises(allm.AdapterError) as caught:
            transcript.run(mode)
        error = caught.value
        for key, value in expect["error"].items():
            actual = error.metadata.get(key) if key.startswith("openai_") else getattr(error, key)
            assert actual == value, key
        assert "sk-test-key" not in str(error) and "sk-test-key" not in repr(error)
    elif adapter.endswith("moderation"):
        response = transcript.run(mode)
        assert [r.flagged for r in response.results] == expect["flagged"]
        for result, flag in zip(response.results, expect["flag"], strict=True):
            flagged = [name for name, on in result.categories.items() if on]
            assert flagged == ([] if flag is None else [flag])
            assert set(result.scores) == set(result.categories)
        assert response.model == expect["model"]
        if expect.get("image_applied"):
            applied = response.results[0].metadata["applied_input_types"]
            assert "image" in applied["violence/graphic"]
    else:
        response = transcript.run(mode)
        assert [list(v) for v in response.vectors] == expect["vectors"]
        assert response.model == expect["model"]
        usage = {k: v for k, v in vars_of(response.usage).items() if v is not None}
        assert usage == expect["usage"]
    assert len(transcript.sent) == expect["requests"] == len(transcript.data["exchanges"])
    assert len(retries) == expect.get("retries", 0)
    for request in transcript.sent:
        key = request.headers.get("authorization") or request.headers.get("x-goog-api-key")
        assert key is not None and "sk-test-key" in key


def vars_of(usage: allm.Usage) -> dict[str, Any]:
    return {
        "input_tokens": usage.input_tokens,
        "total_tokens": usage.total_tokens,
        "output_tokens": usage.output_tokens,
    }
