"""Fixtures: HTTP and SSE servers started per test, a census taken before it, and the
module-level MCP sessions closed after it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("mcp")

from tests.mcp.support import Census, Served, serve

import allm.mcp


@pytest.fixture
def http_served() -> Iterator[Served]:
    served = serve("http")
    yield served
    served.kill()


@pytest.fixture
def sse_served() -> Iterator[Served]:
    served = serve("sse")
    yield served
    served.kill()


@pytest.fixture
def census() -> Census:
    return Census.take()


@pytest.fixture(autouse=True)
def close_module_sessions() -> Iterator[None]:
    yield
    allm.mcp.close()
