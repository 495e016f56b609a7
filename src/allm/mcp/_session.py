"""One live session per server, on allm's MCP loop; pools of them, one per engine id.

A session is owned by one task on the loop (the SDK's transports are anyio context managers that
must be entered and left in the same task): it opens the transport and the ``mcp.Client``, hands
the client out, and waits until it is told to close. Requests from any thread or event loop run
as coroutines on the loop, bounded by a deadline. A session found dead is dropped; the next
request opens a new one.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

try:
    from mcp.client.sse import sse_client
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client
    from mcp.shared.exceptions import MCPError
    from mcp_types import CONNECTION_CLOSED

    import mcp
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("allm.mcp needs the MCP SDK: pip install 'allm-py[mcp]'") from exc

from .. import telemetry
from ..data.mcp import HttpServer, SseServer, StdioServer
from ..engine import add_resources
from ..errors import ToolError
from ._loop import BackgroundLoop

__all__ = [
    "LOOP",
    "Pool",
    "Request",
    "ServerFailed",
    "Unavailable",
    "pool_for",
    "run_async",
    "run_sync",
]

Server = StdioServer | HttpServer | SseServer
T = TypeVar("T")

_log = logging.getLogger("allm.mcp")
LOOP = BackgroundLoop()
# Time allowed for a session to shut down (the SDK waits for a stdio child, then kills it).
_CLOSE_TIMEOUT = 10.0
# Extra time the waiting side gives the loop to report its own deadline before giving up on it.
_GRACE = 1.0


class Unavailable(Exception):
    """The server could not be reached or did not answer in time."""


class ServerFailed(Exception):
    """A live server answered a request with a protocol error."""

    def __init__(self, error: MCPError) -> None:
        super().__init__(f"error {error.code}: {error.message}")
        self.error = error


def server_key(server: Server) -> tuple[Any, ...]:
    """A hashable identity of a server description (its environment and headers included)."""
    if isinstance(server, StdioServer):
        env = tuple(sorted((server.env or {}).items())) if server.env is not None else None
        return ("stdio", server.command, server.args, env, server.cwd)
    headers = tuple(sorted((server.headers or {}).items()))
    return (type(server).__name__, server.url, headers)


def _transport(server: Server) -> Any:
    if isinstance(server, StdioServer):
        return mcp.StdioServerParameters(
            command=server.command, args=list(server.args), env=server.env, cwd=server.cwd
        )
    if isinstance(server, HttpServer):
        return _streamable_http(server)
    return sse_client(server.url, headers=server.headers)


@contextlib.asynccontextmanager
async def _streamable_http(server: HttpServer) -> AsyncIterator[Any]:
    # The SDK takes its headers on an HTTP client it leaves to the caller to close.
    async with (
        create_mcp_http_client(headers=server.headers) as http_client,
        streamable_http_client(server.url, http_client=http_client) as streams,
    ):
        yield streams


class Connection:
    """One server's session; every method runs on the loop."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.listed: tuple[Any, ...] | None = None  # the server's tools, listed once
        self._opened: asyncio.Future[Any] | None = None
        self._stop: asyncio.Event | None = None
        self._owner: asyncio.Task[None] | None = None
        self._ending: set[asyncio.Task[None]] = set()  # sessions told to close, still closing

    async def client(self, timeout: float) -> Any:
        """The open client, opening the session first when there is none."""
        if self._opened is None:
            loop = asyncio.get_running_loop()
            self._opened = opened = loop.create_future()
            self._stop = asyncio.Event()
            self._owner = loop.create_task(self._own(opened, self._stop))
        opened = self._opened
        try:
            return await asyncio.wait_for(asyncio.shield(opened), timeout)
        except (asyncio.TimeoutError, TimeoutError):
            self.drop(opened)
            raise Unavailable(f"no session with {self.server.label} within {timeout:g} s") from None
        except Exception as exc:
            self.drop(opened)
            # The class only: a transport's message may quote a URL with its credentials.
            message = f"could not open a session with {self.server.label} ({type(exc).__name__})"
            raise Unavailable(message) from exc

    async def _own(self, opened: asyncio.Future[Any], stop: asyncio.Event) -> None:
        try:
            async with mcp.Client(_transport(self.server)) as client:
                opened.set_result(client)
                await stop.wait()
        except BaseException as exc:
            if not opened.done():
                opened.set_exception(
                    exc if isinstance(exc, Exception) else Unavailable("cancelled")
                )
                opened.exception()  # retrieved: waiters have their own copy, or gave up
            if not isinstance(exc, Exception | asyncio.CancelledError):  # pragma: no cover
                raise  # KeyboardInterrupt and the like are not ours to keep
            _log.debug("MCP session with %s ended: %r", self.server.label, exc)

    def drop(self, opened: asyncio.Future[Any] | None = None) -> None:
        """Start closing the session (the one behind ``opened`` only, when given); the next
        request opens a new one, and ``aclose`` waits for this one to end."""
        if self._opened is None or (opened is not None and opened is not self._opened):
            return
        owner, stop, started = self._owner, self._stop, self._opened
        self._opened = self._owner = self._stop = None
        if stop is not None:
            stop.set()
        if owner is not None and not started.done():
            owner.cancel()  # still opening (a server that does not answer): nothing to wait for
        if owner is not None and not owner.done():
            ending = asyncio.get_running_loop().create_task(self._end(owner))
            self._ending.add(ending)
            ending.add_done_callback(self._ending.discard)

    @staticmethod
    async def _end(owner: asyncio.Task[None]) -> None:
        done, _ = await asyncio.wait({owner}, timeout=_CLOSE_TIMEOUT)
        if not done:  # pragma: no cover - a transport that will not shut down: cancel its task
            owner.cancel()
            await asyncio.wait({owner}, timeout=_CLOSE_TIMEOUT)

    async def aclose(self) -> None:
        """Close the session and wait until every session of this server has ended."""
        self.drop()
        while self._ending:
            await asyncio.wait(set(self._ending))

    async def request(self, call: Callable[[Any], Awaitable[T]], timeout: float) -> T:
        """``call(client)`` within ``timeout`` seconds, opening the session when needed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        client = await self.client(timeout)
        opened = self._opened
        try:
            return await asyncio.wait_for(call(client), max(deadline - loop.time(), 0.001))
        except (asyncio.TimeoutError, TimeoutError):
            raise Unavailable(f"{self.server.label} did not answer within {timeout:g} s") from None
        except MCPError as exc:
            if exc.code != CONNECTION_CLOSED:
                raise ServerFailed(exc) from exc
            self.drop(opened)
            raise Unavailable(f"the connection to {self.server.label} closed") from exc
        except Exception as exc:
            self.drop(opened)
            raise Unavailable(f"{self.server.label} failed: {type(exc).__name__}") from exc


class Pool:
    """The sessions of one engine id (or of the module-level functions): one per server."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connections: dict[tuple[Any, ...], Connection] = {}

    def connection(self, server: Server) -> Connection:
        """The server's connection, created (and the loop held) on first use."""
        key = server_key(server)
        with self._lock:
            found = self._connections.get(key)
            if found is None:
                LOOP.hold()
                found = self._connections[key] = Connection(server)
            return found

    def _take_all(self) -> list[Connection]:
        with self._lock:
            taken = list(self._connections.values())
            self._connections.clear()
        return taken

    def close(self) -> None:
        """Close every session and let the loop go (blocking)."""
        for connection in self._take_all():
            try:
                LOOP.submit(connection.aclose()).result(timeout=2 * _CLOSE_TIMEOUT + _GRACE)
            except Exception:  # a session that will not close still lets the others close
                _log.debug("closing the MCP session with %s failed", connection.server.label)
            finally:
                LOOP.release()

    async def aclose(self) -> None:
        """Close every session and let the loop go (awaiting)."""
        for connection in self._take_all():
            try:
                await asyncio.wrap_future(LOOP.submit(connection.aclose()))
            except Exception:
                _log.debug("closing the MCP session with %s failed", connection.server.label)
            finally:
                LOOP.release()


_pools_lock = threading.Lock()
_pools: dict[str | None, Pool] = {}


def pool_for(owner: str | None) -> Pool:
    """The pool of engine id ``owner`` (``None``: the module-level functions' own pool)."""
    with _pools_lock:
        found = _pools.get(owner)
        if found is None:
            found = _pools[owner] = Pool()
        return found


def _pop_pool(owner: str | None) -> Pool | None:
    with _pools_lock:
        return _pools.pop(owner, None)


class _EngineSessions:
    """Closes an engine id's sessions for ``Engine.close`` / ``aclose``."""

    def close(self, engine_id: str | None) -> None:
        pool = _pop_pool(engine_id)
        if pool is not None:
            pool.close()

    async def aclose(self, engine_id: str | None) -> None:
        pool = _pop_pool(engine_id)
        if pool is not None:
            await pool.aclose()


ENGINE_SESSIONS = _EngineSessions()
add_resources(ENGINE_SESSIONS)


def close_all() -> None:
    """Close every pool (at interpreter exit, for sessions nobody closed)."""
    with _pools_lock:
        owners = list(_pools)
    for owner in owners:
        ENGINE_SESSIONS.close(owner)


atexit.register(close_all)


# -- calling into the loop ---------------------------------------------------------------------


def _span(server: Server, method: str, target: str | None) -> telemetry.Span:
    return telemetry.span(
        "mcp",
        {
            "server": server.label,
            "transport": "pipe" if isinstance(server, StdioServer) else "tcp",
            "method": method,
            "tool": target if method == "tools/call" else None,
            "target": target,
        },
    )


def _failure(exc: Exception, server: Server, method: str, tool: str | None) -> ToolError:
    metadata = {"server": server.label, "method": method}
    if isinstance(exc, ServerFailed):
        return ToolError(
            "handler_raised",
            f"{server.label} answered {method} with {exc}",
            tool_name=tool,
            metadata={**metadata, "code": exc.error.code},
            cause=exc.error,
        )
    return ToolError("mcp_unavailable", str(exc), tool_name=tool, metadata=metadata, cause=exc)


@dataclass(frozen=True, slots=True)
class Request:
    """One request: the server, the MCP method, a coroutine on the client, and its target (a
    tool, a resource URI or a prompt name) for errors and telemetry."""

    server: Server
    method: str
    call: Callable[[Any], Awaitable[Any]]
    target: str | None = None

    def failed(self, exc: Exception, span: telemetry.Span) -> ToolError:
        error = _failure(exc, self.server, self.method, self.target)
        span.stop_metadata["error"] = error
        return error


def run_sync(pool: Pool, request: Request, timeout: float) -> Any:
    """Run one request, blocking; a failure is returned as a ``ToolError``."""
    if LOOP.in_loop():  # pragma: no cover - would wait on itself
        raise RuntimeError("allm.mcp sync calls cannot run on allm's own MCP loop")
    with _span(request.server, request.method, request.target) as span:
        connection = pool.connection(request.server)
        future = LOOP.submit(connection.request(request.call, timeout))
        try:
            return future.result(timeout=timeout + _GRACE)
        except concurrent.futures.TimeoutError:
            future.cancel()
            return request.failed(Unavailable(f"{request.server.label} did not answer"), span)
        except (Unavailable, ServerFailed) as exc:
            return request.failed(exc, span)


async def run_async(pool: Pool, request: Request, timeout: float) -> Any:
    """The async twin of ``run_sync``, for callers on any asyncio loop."""
    with _span(request.server, request.method, request.target) as span:
        connection = pool.connection(request.server)
        coro: Coroutine[Any, Any, Any] = connection.request(request.call, timeout)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(LOOP.submit(coro)), timeout + _GRACE)
        except (asyncio.TimeoutError, TimeoutError):
            return request.failed(Unavailable(f"{request.server.label} did not answer"), span)
        except (Unavailable, ServerFailed) as exc:
            return request.failed(exc, span)
