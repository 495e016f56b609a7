"""Shared fixtures: no real provider, no stray keys, the same test over both drivers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

import allm
from allm import config, keys

settings.register_profile(
    "ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")

_KEY_SUFFIX = "_API_KEY"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Strip provider keys from the environment and reset process-wide settings and keys."""
    for name in list(os.environ):
        if name.endswith(_KEY_SUFFIX):
            monkeypatch.delenv(name)
    config.reset()
    keys._runtime.clear()
    yield
    config.reset()
    keys._runtime.clear()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Driver:
    """Runs the same call through the sync or the async API, returning plain values."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name

    def generate(self, engine: Any, request: Any, **opts: Any) -> allm.Response:
        if self.name == "sync":
            return allm.generate(engine, request, **opts)
        import anyio

        async def run() -> allm.Response:
            return await allm.agenerate(engine, request, **opts)

        return anyio.run(run)

    def events(self, engine: Any, request: Any, **opts: Any) -> list[Any]:
        """Every event of ``stream_generate``, in order."""
        if self.name == "sync":
            return list(allm.stream_generate(engine, request, **opts))
        import anyio

        async def run() -> list[Any]:
            stream = await allm.astream_generate(engine, request, **opts)
            return [event async for event in stream]

        return anyio.run(run)

    def collect(self, engine: Any, request: Any, **opts: Any) -> allm.Response:
        """``stream_generate(...).collect()``."""
        if self.name == "sync":
            return allm.stream_generate(engine, request, **opts).collect()
        import anyio

        async def run() -> allm.Response:
            stream = await allm.astream_generate(engine, request, **opts)
            return await stream.collect()

        return anyio.run(run)


@pytest.fixture(params=["sync", "async"])
def driver(request: pytest.FixtureRequest) -> Driver:
    """Each test using it runs once through the sync API and once through the async API."""
    return Driver(request.param)
