"""The loop allm owns and the waits on it, where a real server cannot make them fail."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import anyio
import pytest
from tests.mcp.support import stdio_server

from allm.mcp import _session
from allm.mcp._loop import BackgroundLoop


def test_the_loop_runs_while_held_and_its_thread_ends_with_the_last_release() -> None:
    loop = BackgroundLoop("allm-mcp-test")
    loop.hold()
    loop.hold()
    assert loop.submit(asyncio.sleep(0, "ran")).result(timeout=5) == "ran"
    assert not loop.in_loop()
    assert loop.submit(_in_loop(loop)).result(timeout=5) is True
    forever = loop.submit(asyncio.sleep(3600))
    loop.release()
    assert any(t.name == "allm-mcp-test" for t in threading.enumerate())
    loop.release()  # the last: pending work is cancelled, the thread joined
    assert forever.cancelled()
    assert not any(t.name == "allm-mcp-test" for t in threading.enumerate())
    loop.release()  # more releases than holds do nothing
    coro = asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="not running"):
        loop.submit(coro)


async def _in_loop(loop: BackgroundLoop) -> bool:
    return loop.in_loop()


@pytest.fixture
def pool() -> Any:
    pool = _session.Pool()
    yield pool
    pool.close()


@pytest.fixture(params=["sync", "async"])
def run(request: pytest.FixtureRequest) -> Any:
    def sync(pool: Any, server: Any, method: str, call: Any, timeout: float) -> Any:
        return _session.run_sync(pool, _session.Request(server, method, call), timeout)

    def asynchronous(pool: Any, server: Any, method: str, call: Any, timeout: float) -> Any:
        async def go() -> Any:
            request = _session.Request(server, method, call)
            return await _session.run_async(pool, request, timeout)

        return anyio.run(go)

    return sync if request.param == "sync" else asynchronous


def test_a_request_that_fails_in_the_transport_is_unavailable(pool: Any, run: Any) -> None:
    async def broken(client: Any) -> Any:
        raise OSError("pipe broke")

    error = run(pool, stdio_server(), "tools/list", broken, 30.0)
    assert error.reason == "mcp_unavailable"
    assert error.message.endswith("failed: OSError")


def test_a_stuck_loop_still_answers_the_caller_in_time(
    pool: Any, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def stuck(self: Any, call: Any, timeout: float) -> Any:
        time.sleep(timeout + _session._GRACE + 0.5)  # blocks the whole loop, deadlines included

    monkeypatch.setattr(_session.Connection, "request", stuck)
    error = run(pool, stdio_server(), "tools/list", None, 0.2)
    assert error.reason == "mcp_unavailable"
    assert "did not answer" in error.message


def test_a_session_that_fails_to_close_does_not_keep_the_others(
    monkeypatch: pytest.MonkeyPatch, run: Any
) -> None:
    async def refuse(self: Any) -> None:
        raise RuntimeError("will not close")

    monkeypatch.setattr(_session.Connection, "aclose", refuse)
    for closing in ("sync", "async"):
        pool = _session.Pool()
        pool.connection(stdio_server())
        pool.connection(stdio_server(cwd="/"))
        if closing == "sync":
            pool.close()
        else:
            anyio.run(pool.aclose)
        assert pool._connections == {}
    assert not any(t.name == "allm-mcp" for t in threading.enumerate())


def test_close_all_closes_every_pool() -> None:
    _session.pool_for("engine-a").connection(stdio_server())
    _session.pool_for(None).connection(stdio_server())
    _session.close_all()
    assert _session._pools == {}
    assert not any(t.name == "allm-mcp" for t in threading.enumerate())
