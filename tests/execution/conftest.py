"""Fixtures for the Layer C tests: Fake engines, a cleanup counter, stream openers, telemetry."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import anyio
import pytest

import allm
from allm import telemetry

# Keeps the non-streaming path's retries instant.
FAST_RETRY = {"base_delay_ms": 0, "jitter_ms": 0}


class CleanupCounter:
    """A Fake ``cleanup_observer``: counts how often the adapter's stream cleaned up."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1


@pytest.fixture
def cleanup() -> CleanupCounter:
    return CleanupCounter()


@pytest.fixture
def messages() -> list[allm.Message]:
    return [allm.user("hi")]


@pytest.fixture
def fake_engine() -> Callable[..., allm.Engine]:
    """``fake_engine(script, **adapter_opts)``: a Fake engine with fast retries."""

    def make(
        script: list[Any] | None = None,
        *,
        retry: Any = None,
        params: dict[str, Any] | None = None,
        model: str | None = None,
        **adapter_opts: Any,
    ) -> allm.Engine:
        if script is not None:
            adapter_opts["script"] = script
        return allm.Engine(
            adapter="fake",
            adapter_opts=adapter_opts,
            retry=FAST_RETRY if retry is None else retry,
            params=params or {},
            model=model,
        )

    return make


@pytest.fixture
def open_stream(driver: Any) -> Callable[..., Any]:
    """Only *call* ``stream_generate`` / ``await astream_generate``; never pull an event."""

    def call(engine: Any, request: Any, **opts: Any) -> Any:
        if driver.name == "sync":
            return allm.stream_generate(engine, request, **opts)

        async def run() -> Any:
            return await allm.astream_generate(engine, request, **opts)

        return anyio.run(run)

    return call


@pytest.fixture
def retry_events() -> Iterator[list[tuple[str, dict[str, Any], dict[str, Any]]]]:
    """Every ``allm.adapter.retry`` telemetry event emitted during the test."""
    seen: list[tuple[str, dict[str, Any], dict[str, Any]]] = []

    def handler(name: str, measurements: Any, metadata: Any) -> None:
        seen.append((name, dict(measurements), dict(metadata)))

    handler_id = telemetry.attach(handler, ["allm.adapter.retry"])
    try:
        yield seen
    finally:
        telemetry.detach(handler_id)
