"""Fixtures for the chat tests: one driver running step / stream_step / chat / stream through the
sync or the async API, returning plain results and event lists; telemetry capture."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import anyio
import pytest

import allm
from allm import telemetry


class ChatDriver:
    """Runs the same chat-layer call through the sync or the async API."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name

    @property
    def is_async(self) -> bool:
        return self.name == "async"

    # -- whole results --------------------------------------------------------------------------

    def step(self, engine: Any, thread: Any, **opts: Any) -> allm.StepResult:
        if not self.is_async:
            return allm.step(engine, thread, **opts)

        async def run() -> allm.StepResult:
            return await allm.astep(engine, thread, **opts)

        return anyio.run(run)

    def chat(self, engine: Any, thread: Any, **opts: Any) -> allm.ChatResult:
        if not self.is_async:
            return allm.chat(engine, thread, **opts)

        async def run() -> allm.ChatResult:
            return await allm.achat(engine, thread, **opts)

        return anyio.run(run)

    # -- streams --------------------------------------------------------------------------------

    def _events(self, sync_open: Any, async_open: Any, engine: Any, thread: Any, **opts: Any):
        if not self.is_async:
            with sync_open(engine, thread, **opts) as stream:
                return list(stream)

        async def run() -> list[Any]:
            async with await async_open(engine, thread, **opts) as stream:
                return [event async for event in stream]

        return anyio.run(run)

    def _collect(self, sync_open: Any, async_open: Any, engine: Any, thread: Any, **opts: Any):
        if not self.is_async:
            return sync_open(engine, thread, **opts).collect()

        async def run() -> Any:
            stream = await async_open(engine, thread, **opts)
            return await stream.collect()

        return anyio.run(run)

    def stream_step(self, engine: Any, thread: Any, **opts: Any) -> list[Any]:
        """Every event of ``stream_step``."""
        return self._events(allm.stream_step, allm.astream_step, engine, thread, **opts)

    def stream(self, engine: Any, thread: Any, **opts: Any) -> list[Any]:
        """Every event of ``stream``."""
        return self._events(allm.stream, allm.astream, engine, thread, **opts)

    def collect_step(self, engine: Any, thread: Any, **opts: Any) -> allm.StepResult:
        """``stream_step(...).collect()``."""
        return self._collect(allm.stream_step, allm.astream_step, engine, thread, **opts)

    def collect(self, engine: Any, thread: Any, **opts: Any) -> allm.ChatResult:
        """``stream(...).collect()``."""
        return self._collect(allm.stream, allm.astream, engine, thread, **opts)

    def stream_until(
        self, engine: Any, thread: Any, stop: Callable[[Any], bool], **opts: Any
    ) -> list[Any]:
        """Pull ``stream`` events up to and including the first one ``stop`` accepts, then leave
        the stream (``break`` and ``close`` / ``aclose``)."""
        if not self.is_async:
            stream = allm.stream(engine, thread, **opts)
            seen = []
            for event in stream:
                seen.append(event)
                if stop(event):
                    break
            stream.close()
            return seen

        async def run() -> list[Any]:
            stream = await allm.astream(engine, thread, **opts)
            seen = []
            async for event in stream:
                seen.append(event)
                if stop(event):
                    break
            await stream.aclose()
            return seen

        return anyio.run(run)


@pytest.fixture(params=["sync", "async"])
def api(request: pytest.FixtureRequest) -> ChatDriver:
    """Each test using it runs once through the sync API and once through the async API."""
    return ChatDriver(request.param)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Recorder:
    """Telemetry events seen during a test, as ``(name, measurements, metadata)``."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any], dict[str, Any]]] = []

    def __call__(self, name: str, measurements: Any, metadata: Any) -> None:
        self.events.append((name, dict(measurements), dict(metadata)))

    @property
    def names(self) -> list[str]:
        return [name for name, _, _ in self.events]


@pytest.fixture
def spans() -> Iterator[Recorder]:
    """Every telemetry event emitted during the test."""
    recorder = Recorder()
    handler_id = telemetry.attach(recorder)
    try:
        yield recorder
    finally:
        telemetry.detach(handler_id)


class Counter:
    """A Fake ``cleanup_observer``."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1


@pytest.fixture
def counter() -> Counter:
    return Counter()
