"""HTTP as effects: adapters describe requests, the drivers send them with httpx.

``HttpSend`` opens an exchange and answers with an ``HttpResult`` (status, lower-case headers and,
for a non-streaming call or an error status, the whole body) or a ``TransportFailure``. For an
open stream, ``HttpRead(handle)`` answers with the next chunk of bytes, ``None`` at the end, or a
``TransportFailure``. Open responses live in the drive's ``Scope``, which closes them exactly once
when the drive ends, however it ends.

``Transport`` holds one pooled ``httpx.Client`` and one ``httpx.AsyncClient`` per event loop for
an adapter configuration, unless clients were injected. Its pools hold up to ``max_connections``
connections (``DEFAULT_MAX_CONNECTIONS`` unless the adapter option says otherwise), and keep as
many alive between calls, so a burst of concurrent streams neither queues for a connection nor
reconnects on the next burst.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..effects import Effect, Scope

__all__ = [
    "HttpClose",
    "HttpRead",
    "HttpRequest",
    "HttpResult",
    "HttpSend",
    "DEFAULT_MAX_CONNECTIONS",
    "Transport",
    "TransportFailure",
]

DEFAULT_MAX_CONNECTIONS = 1024

_SECRET_HEADERS = frozenset({"authorization", "x-api-key", "x-goog-api-key", "api-key"})


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """An unsent request: method, URL, header pairs and body bytes."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None = None

    def __repr__(self) -> str:
        shown = tuple(
            (name, "<hidden>" if name.lower() in _SECRET_HEADERS else value)
            for name, value in self.headers
        )
        size = 0 if self.body is None else len(self.body)
        return f"HttpRequest({self.method} {self.url}, headers={shown!r}, body=<{size} bytes>)"

    def header(self, name: str) -> str | None:
        """A header's value (case-insensitive), or None."""
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None


@dataclass(frozen=True, slots=True)
class HttpResult:
    """The answer's head; ``body`` is the whole body unless ``handle`` names an open stream."""

    status: int
    headers: Mapping[str, str]
    body: bytes = b""
    handle: int | None = None


@dataclass(frozen=True, slots=True)
class TransportFailure:
    """No usable HTTP exchange: ``reason`` is ``"timeout"`` or ``"network_error"``."""

    reason: str
    message: str


def _failure(exc: BaseException) -> TransportFailure:
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        return TransportFailure("timeout", f"{type(exc).__name__}: {str(exc) or 'timed out'}")
    return TransportFailure("network_error", f"{type(exc).__name__}: {exc}")


class Transport:
    """Pooled httpx clients for one adapter configuration."""

    def __init__(
        self,
        http_client: Any = None,
        async_http_client: Any = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
    ) -> None:
        self.max_connections = max_connections
        self._injected = http_client
        self._injected_async = async_http_client
        self._client: Any = None
        self._async_clients: weakref.WeakKeyDictionary[Any, tuple[Any, Any]] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    @property
    def injected(self) -> bool:
        """Whether the caller gave this transport its clients."""
        return self._injected is not None or self._injected_async is not None

    def sync_client(self) -> Any:
        """The blocking client (created on first use)."""
        if self._injected is not None:
            return self._injected
        if self._client is None:
            import httpx

            with self._lock:
                if self._client is None:
                    # HTTP/1.1 on purpose: HTTP/2 flow control stalls large streamed bodies.
                    self._client = httpx.Client(http2=False, timeout=None, limits=self._limits())
                    # Finished streams leave their connections in the pool: an adapter dropped
                    # without close() still closes them, instead of leaking open sockets.
                    weakref.finalize(self, self._client.close)
        return self._client

    async def async_client(self) -> Any:
        """The async client for the running event loop (pools belong to a loop). It is closed
        when that loop shuts down its async generators (``asyncio.run`` does, at its end)."""
        if self._injected_async is not None:
            return self._injected_async
        import asyncio

        import httpx

        loop = asyncio.get_running_loop()
        known = self._async_clients.get(loop)
        if known is not None:
            return known[0]
        client = httpx.AsyncClient(http2=False, timeout=None, limits=self._limits())
        keeper = _close_when_loop_ends(client)
        await keeper.__anext__()  # now the loop's async-generator hooks track it
        self._async_clients[loop] = (client, keeper)
        return client

    def _limits(self) -> Any:
        import httpx

        size = self.max_connections
        return httpx.Limits(max_connections=size, max_keepalive_connections=size)

    def close(self) -> None:
        """Close the clients this transport created (injected ones are the caller's)."""
        if self._client is not None:
            self._client.close()
            self._client = None


async def _close_when_loop_ends(client: Any) -> AsyncIterator[None]:
    try:
        yield
    finally:
        await client.aclose()


def _timeout(connect: float | None, read: float | None) -> Any:
    import httpx

    return httpx.Timeout(connect=connect, read=read, write=connect, pool=connect)


@dataclass(frozen=True, slots=True)
class HttpSend(Effect):
    """Send ``request``. With ``stream=True`` and a success status the body stays open."""

    transport: Transport
    request: HttpRequest
    stream: bool
    timeout: float | None = 60.0
    stream_timeout: float | None = 60.0

    def _build(self, client: Any) -> Any:
        read = self.stream_timeout if self.stream else self.timeout
        return client.build_request(
            self.request.method,
            self.request.url,
            headers=list(self.request.headers),
            content=self.request.body,
            timeout=_timeout(self.timeout, read),
        )

    def run_sync(self, scope: Scope) -> HttpResult | TransportFailure:
        import httpx

        client = self.transport.sync_client()
        try:
            response = client.send(self._build(client), stream=True)
        except httpx.HTTPError as exc:
            return _failure(exc)
        headers = {key.lower(): value for key, value in response.headers.items()}
        if self.stream and response.status_code < 400:
            handle = scope.add(_SyncBody(response))
            return HttpResult(response.status_code, headers, b"", handle)
        try:
            body = response.read()
        except httpx.HTTPError as exc:
            return _failure(exc)
        finally:
            response.close()
        return HttpResult(response.status_code, headers, body)

    async def run_async(self, scope: Scope) -> HttpResult | TransportFailure:
        import httpx

        client = await self.transport.async_client()
        try:
            response = await client.send(self._build(client), stream=True)
        except httpx.HTTPError as exc:
            return _failure(exc)
        headers = {key.lower(): value for key, value in response.headers.items()}
        if self.stream and response.status_code < 400:
            handle = scope.add(_AsyncBody(response))
            return HttpResult(response.status_code, headers, b"", handle)
        try:
            body = await response.aread()
        except httpx.HTTPError as exc:
            return _failure(exc)
        finally:
            await response.aclose()
        return HttpResult(response.status_code, headers, body)


# The most bytes read after a stream's terminal event to reach the end of the body; a body that
# goes on longer is cut (its connection is then dropped instead of going back to the pool).
DRAIN_LIMIT = 64 * 1024


class _SyncBody:
    __slots__ = ("chunks", "response")

    def __init__(self, response: Any) -> None:
        self.response = response
        self.chunks = response.iter_bytes()

    def drain(self) -> None:
        """Read to the end of the body, so httpcore hands the connection back to the pool."""
        import httpx

        left = DRAIN_LIMIT
        try:
            for chunk in self.chunks:
                left -= len(chunk)
                if left < 0:
                    return
        except httpx.HTTPError:
            return

    def close(self) -> None:
        self.response.close()


class _AsyncBody:
    __slots__ = ("chunks", "response")

    def __init__(self, response: Any) -> None:
        self.response = response
        self.chunks = response.aiter_bytes()

    async def drain(self) -> None:
        """Read to the end of the body, so httpcore hands the connection back to the pool."""
        import httpx

        left = DRAIN_LIMIT
        try:
            async for chunk in self.chunks:
                left -= len(chunk)
                if left < 0:
                    return
        except httpx.HTTPError:
            return

    async def aclose(self) -> None:
        await self.response.aclose()


@dataclass(frozen=True, slots=True)
class HttpRead(Effect):
    """The next chunk of an open body: bytes, ``None`` at the end, or a ``TransportFailure``."""

    handle: int

    def run_sync(self, scope: Scope) -> bytes | TransportFailure | None:
        import httpx

        body: _SyncBody = scope.resources[self.handle]
        try:
            return next(body.chunks)  # type: ignore[no-any-return]
        except StopIteration:
            scope.close(self.handle)
            return None
        except httpx.HTTPError as exc:
            scope.close(self.handle)
            return _failure(exc)

    async def run_async(self, scope: Scope) -> bytes | TransportFailure | None:
        import httpx

        body: _AsyncBody = scope.resources[self.handle]
        try:
            return await body.chunks.__anext__()  # type: ignore[no-any-return]
        except StopAsyncIteration:
            await scope.aclose(self.handle)
            return None
        except httpx.HTTPError as exc:
            await scope.aclose(self.handle)
            return _failure(exc)


@dataclass(frozen=True, slots=True)
class HttpClose(Effect):
    """Close an open body now. With ``drain`` (after the terminal event) the rest of the body is
    read first, so the connection goes back to the pool instead of being dropped."""

    handle: int
    drain: bool = False

    def run_sync(self, scope: Scope) -> None:
        body = scope.resources.get(self.handle)
        if self.drain and body is not None:
            body.drain()
        scope.close(self.handle)

    async def run_async(self, scope: Scope) -> None:
        body = scope.resources.get(self.handle)
        if self.drain and body is not None:
            await body.drain()
        await scope.aclose(self.handle)
