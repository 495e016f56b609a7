"""Helpers for the image tests: one driver for the sync and async image APIs, a telemetry log,
a recording HTTP transport and fake-image engines."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

import allm
from allm.providers.fake_images import FakeImages, png

# Keeps the façade's retries instant.
FAST_RETRY = {"base_delay_ms": 0, "jitter_ms": 0, "max_attempts": 3}
PNG = png(2, 2)


class ImageDriver:
    """Runs the same image call through the sync or the async API."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name

    def _run(
        self, sync_fn: Callable[..., Any], async_fn: Callable[..., Any], *args: Any, **kw: Any
    ) -> Any:
        if self.name == "sync":
            return sync_fn(*args, **kw)
        import anyio

        async def run() -> Any:
            return await async_fn(*args, **kw)

        return anyio.run(run)

    def generate(self, engine: Any, prompt: Any, **opts: Any) -> allm.ImageResponse:
        return self._run(allm.generate_image, allm.agenerate_image, engine, prompt, **opts)  # type: ignore[no-any-return]

    def edit(self, engine: Any, image: Any, prompt: Any, **opts: Any) -> allm.ImageResponse:
        return self._run(allm.edit_image, allm.aedit_image, engine, image, prompt, **opts)  # type: ignore[no-any-return]

    def variation(self, engine: Any, image: Any, **opts: Any) -> allm.ImageResponse:
        return self._run(allm.image_variation, allm.aimage_variation, engine, image, **opts)  # type: ignore[no-any-return]


class TelemetryLog:
    """Every telemetry event delivered while the fixture is active, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any], dict[str, Any]]] = []

    def __call__(
        self, name: str, measurements: Mapping[str, Any], metadata: Mapping[str, Any]
    ) -> None:
        self.events.append((name, dict(measurements), dict(metadata)))

    @property
    def names(self) -> list[str]:
        return [name for name, _, _ in self.events]

    def named(self, name: str) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
        return [event for event in self.events if event[0] == name]


Answer = tuple[int, Mapping[str, str], bytes]


class Recorder:
    """A MockTransport handler that records requests and serves canned answers in turn (the
    last answer repeats). An answer may also be a callable taking the request."""

    def __init__(self, *answers: Answer | Callable[[httpx.Request], httpx.Response]) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def _next(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        if callable(answer):
            return answer(request)
        status, headers, body = answer
        return httpx.Response(status, headers=dict(headers), content=body)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self._next))

    def async_client(self) -> httpx.AsyncClient:
        async def handler(request: httpx.Request) -> httpx.Response:
            await request.aread()
            return self._next(request)

        return httpx.AsyncClient(transport=httpx.MockTransport(handler))

    def adapter_opts(self) -> dict[str, Any]:
        return {"http_client": self.client(), "async_http_client": self.async_client()}

    def engine(self, **fields: Any) -> allm.Engine:
        """An OpenAI Images engine over this recorder with instant retries."""
        opts = {**self.adapter_opts(), **fields.pop("adapter_opts", {})}
        fields.setdefault("retry", FAST_RETRY)
        return allm.Engine(image_adapter="openai_images", adapter_opts=opts, **fields)


def fake_engine(script: Sequence[Any] | None = None, **fields: Any) -> allm.Engine:
    """An engine whose image adapter is a fresh ``FakeImages`` reading ``script``."""
    adapter = fields.pop("image_adapter", None) or FakeImages()
    opts = dict(fields.pop("adapter_opts", {}))
    if script is not None:
        opts["image_script"] = list(script)
    fields.setdefault("retry", FAST_RETRY)
    return allm.Engine(image_adapter=adapter, adapter_opts=opts, **fields)
