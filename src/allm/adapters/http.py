"""HTTP as effects: adapters describe requests, the drivers send them with httpx.

``HttpSend`` opens an exchange and answers with an ``HttpResult`` (status, lower-case headers and,
for a non-streaming call or an error status, the whole body) or a ``TransportFailure``. For an
open stream, ``HttpRead(handle)`` answers with the next chunk of bytes, ``None`` at the end, or a
``TransportFailure``. Open responses live in the drive's ``Scope``, which closes them exactly once
when the drive ends, however it ends.

``Transport`` holds one pooled ``httpx.Client`` and one ``httpx.AsyncClient`` per event loop for
an adapter configuration, unless clients were injected. Its pools hold up to ``max_connections``
connections (``DEFAULT_MAX_CONNECTIONS`` unless the adapter option says otherwise), so a burst of
concurrent streams does not queue for a connection; up to ``DEFAULT_KEEPALIVE_CONNECTIONS`` stay
alive between calls (see docs/design/performance.md for why not all of them).

Hardening (see docs/security.md): a header that cannot be sent (CR, LF, control or non-ASCII
characters) is a ``ConfigurationError`` when the request is built, before any I/O; a failure's text
never carries a secret header's value; the drive's deadline (``Scope.deadline``) bounds the wait
for the head and every read of the body; a request that dies on a reused keep-alive connection
before any answer is sent again once, on a fresh connection.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from .. import _secrets
from ..effects import Effect, Scope
from .body_parts import AsyncParts, Parts
from .headers import SECRET_HEADERS, check_headers, header_problem, is_secret_header

__all__ = [
    "SECRET_HEADERS",
    "HttpClose",
    "HttpRead",
    "HttpRequest",
    "HttpResult",
    "HttpSend",
    "DEFAULT_KEEPALIVE_CONNECTIONS",
    "DEFAULT_MAX_CONNECTIONS",
    "Transport",
    "TransportFailure",
    "check_headers",
    "header_problem",
    "is_secret_header",
]

DEFAULT_MAX_CONNECTIONS = 1024
# httpcore's pool does work proportional to idle x open connections whenever a request starts or
# ends: 1,000 idle ones made a burst of 1,000 streams 7x slower than 100 (docs/design/performance.md).
DEFAULT_KEEPALIVE_CONNECTIONS = 100


class _ScrubSecrets(logging.Filter):
    """Scrubs secrets from the transport's own DEBUG records (httpcore logs response headers;
    a server that echoes a key there would otherwise put it in the caller's logs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = _secrets.scrub(message)
        if clean != message:
            record.msg, record.args = clean, ()
        return True


_TRANSPORT_LOGGERS = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
    "botocore.auth",  # logs the canonical request, session token included, at DEBUG
)
for _name in _TRANSPORT_LOGGERS:
    logging.getLogger(_name).addFilter(_ScrubSecrets())


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """An unsent request: method, URL, header pairs and body bytes. A large body may come as
    ``parts`` instead (``body`` then None): sent one after the other with their summed
    ``content-length``, never joined, so an upload built from many pieces is not copied."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None = None
    parts: tuple[bytes, ...] | None = None

    def __post_init__(self) -> None:
        check_headers(self.headers)

    def __repr__(self) -> str:
        shown = tuple(
            (name, "<hidden>" if is_secret_header(name) else value) for name, value in self.headers
        )
        return f"HttpRequest({self.method} {self.url}, headers={shown!r}, body=<{self.size} bytes>)"

    @property
    def size(self) -> int:
        """The body's length in bytes."""
        if self.parts is not None:
            return sum(len(part) for part in self.parts)
        return 0 if self.body is None else len(self.body)

    def secrets(self) -> tuple[str, ...]:
        """The values of this request's secret headers."""
        return tuple(value for name, value in self.headers if is_secret_header(name))

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
    """No usable HTTP exchange: ``reason`` is ``"timeout"``, ``"network_error"`` or
    ``"malformed_response"`` (a body that cannot be decoded, a broken gzip stream)."""

    reason: str
    message: str


def _failure(
    exc: BaseException, request: HttpRequest, deadline: float | None = None
) -> TransportFailure:
    import httpx

    text = _secrets.scrub(f"{type(exc).__name__}: {exc}", request.secrets())
    if deadline is not None and time.monotonic() >= deadline - 0.01:
        return TransportFailure("timeout", f"the call ran out of time (deadline_ms); {text}")
    if isinstance(exc, httpx.TimeoutException):
        return TransportFailure("timeout", text if str(exc) else f"{text}timed out")
    if isinstance(exc, httpx.DecodingError):
        return TransportFailure("malformed_response", text)
    return TransportFailure("network_error", text)


def _deadline_passed() -> TransportFailure:
    return TransportFailure("timeout", "the call ran out of time (deadline_ms)")


def _left(deadline: float | None, limit: float | None) -> float | None:
    """``limit`` seconds, cut to what is left before ``deadline``."""
    if deadline is None:
        return limit
    left = max(deadline - time.monotonic(), 0.001)
    return left if limit is None else min(limit, left)


class _NewConnection:
    """A trace hook that notes whether the request opened a connection of its own."""

    __slots__ = ("opened",)

    def __init__(self) -> None:
        self.opened = False

    def __call__(self, name: str, info: Any) -> None:
        if name == "connection.connect_tcp.started":
            self.opened = True


class _AsyncNewConnection(_NewConnection):
    __slots__ = ()

    async def __call__(self, name: str, info: Any) -> None:  # type: ignore[override]
        if name == "connection.connect_tcp.started":
            self.opened = True


def _stale(exc: BaseException, hook: _NewConnection) -> bool:
    """A failure before any answer on a connection the pool handed out: the server had closed it
    (a keep-alive race). Such a request never reached the application, so sending it again is safe."""
    import httpx

    stale = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)
    return not hook.opened and isinstance(exc, stale)


class _Watchdog:
    """Shuts an open response's socket down at the deadline: a blocking read has no other way to
    learn that the time is up (its timeout is fixed when the body starts)."""

    __slots__ = ("_timer",)

    def __init__(self, response: Any, deadline: float | None) -> None:
        self._timer: threading.Timer | None = None
        stream = response.extensions.get("network_stream") if deadline is not None else None
        sock = stream.get_extra_info("socket") if stream is not None else None
        if sock is not None and deadline is not None:
            self._timer = threading.Timer(max(deadline - time.monotonic(), 0.0), _shut, (sock,))
            self._timer.daemon = True
            self._timer.start()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


def _shut(sock: Any) -> None:
    import socket

    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:  # already closed
        pass


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
        keep = min(size, DEFAULT_KEEPALIVE_CONNECTIONS)
        return httpx.Limits(max_connections=size, max_keepalive_connections=keep)

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


def _timeout(connect: float | None, read: float | None, deadline: float | None) -> Any:
    if deadline is None:
        found = _TIMEOUTS.get((connect, read))
        if found is not None:
            return found
    import httpx

    connect = _left(deadline, connect)
    timeout = httpx.Timeout(
        connect=connect, read=_left(deadline, read), write=connect, pool=connect
    )
    if deadline is None and len(_TIMEOUTS) < 64:
        _TIMEOUTS[(connect, read)] = timeout
    return timeout


# Timeouts without a deadline, by (connect, read): a few settings, each built once.
_TIMEOUTS: dict[tuple[float | None, float | None], Any] = {}


def _head(response: Any) -> dict[str, str]:
    """The response's headers by lower-case name (repeated ones joined with ", ", as
    ``httpx.Headers.items`` does), decoded once."""
    head: dict[str, str] = {}
    try:
        for raw_key, raw_value in response.headers.raw:
            key = raw_key.decode("ascii").lower()
            value = raw_value.decode("ascii")
            head[key] = f"{head[key]}, {value}" if key in head else value
    except UnicodeDecodeError:  # httpx decodes non-ASCII heads as UTF-8 or Latin-1
        return {key.lower(): value for key, value in response.headers.items()}
    return head


@dataclass(frozen=True, slots=True)
class HttpSend(Effect):
    """Send ``request``. With ``stream=True`` and a success status the body stays open."""

    transport: Transport
    request: HttpRequest
    stream: bool
    timeout: float | None = 60.0
    stream_timeout: float | None = 60.0

    def _build(self, client: Any, deadline: float | None, hook: _NewConnection) -> Any:
        read = self.stream_timeout if self.stream else self.timeout
        headers = list(self.request.headers)
        content: Any = self.request.body
        parts = self.request.parts
        if parts is not None:
            # Each attempt iterates the parts afresh (a resend sends the whole body again).
            content = AsyncParts(parts) if isinstance(hook, _AsyncNewConnection) else Parts(parts)
            if self.request.header("content-length") is None:
                headers.append(("content-length", str(self.request.size)))
        return client.build_request(
            self.request.method,
            self.request.url,
            headers=headers,
            content=content,
            timeout=_timeout(self.timeout, read, deadline),
            extensions={"trace": hook},
        )

    def run_sync(self, scope: Scope) -> HttpResult | TransportFailure:
        import httpx

        client = self.transport.sync_client()
        deadline = scope.deadline
        for last_chance in (False, True):
            if deadline is not None and time.monotonic() >= deadline:
                return _deadline_passed()
            hook = _NewConnection()
            try:
                response = client.send(self._build(client, deadline, hook), stream=True)
                break
            except httpx.HTTPError as exc:
                if last_chance or not _stale(exc, hook):
                    return _failure(exc, self.request, deadline)
            except (ValueError, TypeError) as exc:  # httpx refused to encode the request
                return _failure(exc, self.request)
        headers = _head(response)
        watchdog = _Watchdog(response, deadline)
        if self.stream and response.status_code < 400:
            handle = scope.add(_SyncBody(response, watchdog, self.request, deadline))
            return HttpResult(response.status_code, headers, b"", handle)
        try:
            body = response.read()
        except httpx.HTTPError as exc:
            return _failure(exc, self.request, deadline)
        finally:
            watchdog.cancel()
            response.close()
        return HttpResult(response.status_code, headers, body)

    async def run_async(self, scope: Scope) -> HttpResult | TransportFailure:
        import anyio
        import httpx

        client = await self.transport.async_client()
        deadline = scope.deadline
        for last_chance in (False, True):
            if deadline is not None and time.monotonic() >= deadline:
                return _deadline_passed()
            hook = _AsyncNewConnection()
            try:
                with anyio.fail_after(_left(deadline, None)):
                    response = await client.send(self._build(client, deadline, hook), stream=True)
                break
            except TimeoutError:
                return _deadline_passed()
            except httpx.HTTPError as exc:
                if last_chance or not _stale(exc, hook):
                    return _failure(exc, self.request, deadline)
            except (ValueError, TypeError) as exc:  # httpx refused to encode the request
                return _failure(exc, self.request)
        headers = _head(response)
        if self.stream and response.status_code < 400:
            handle = scope.add(_AsyncBody(response, self.request))
            return HttpResult(response.status_code, headers, b"", handle)
        try:
            with anyio.fail_after(_left(deadline, None)):
                body = await response.aread()
        except TimeoutError:
            return _deadline_passed()
        except httpx.HTTPError as exc:
            return _failure(exc, self.request, deadline)
        finally:
            await response.aclose()
        return HttpResult(response.status_code, headers, body)


# The most bytes read after a stream's terminal event to reach the end of the body; a body that
# goes on longer is cut (its connection is then dropped instead of going back to the pool).
DRAIN_LIMIT = 64 * 1024


class _SyncBody:
    __slots__ = ("chunks", "deadline", "request", "response", "watchdog")

    def __init__(
        self, response: Any, watchdog: _Watchdog, request: HttpRequest, deadline: float | None
    ) -> None:
        self.response = response
        self.chunks = response.iter_bytes()
        self.watchdog = watchdog
        self.request = request
        self.deadline = deadline

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
        self.watchdog.cancel()
        self.response.close()


class _AsyncBody:
    __slots__ = ("chunks", "request", "response")

    def __init__(self, response: Any, request: HttpRequest) -> None:
        self.response = response
        self.chunks = response.aiter_bytes()
        self.request = request

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

    # Run once per chunk: the modules a failure needs are imported when one happens.

    def run_sync(self, scope: Scope) -> bytes | TransportFailure | None:
        body: _SyncBody = scope.resources[self.handle]
        try:
            return next(body.chunks)  # type: ignore[no-any-return]
        except StopIteration:
            scope.close(self.handle)
            return None
        except Exception as exc:
            if not _is_http_error(exc):
                raise
            scope.close(self.handle)
            return _failure(exc, body.request, body.deadline)

    async def run_async(self, scope: Scope) -> bytes | TransportFailure | None:
        body: _AsyncBody = scope.resources[self.handle]
        deadline = scope.deadline
        try:
            if deadline is None:
                return await body.chunks.__anext__()  # type: ignore[no-any-return]
            import anyio

            with anyio.fail_after(_left(deadline, None)):
                return await body.chunks.__anext__()  # type: ignore[no-any-return]
        except StopAsyncIteration:
            await scope.aclose(self.handle)
            return None
        except TimeoutError:
            await scope.aclose(self.handle)
            return _deadline_passed()
        except Exception as exc:
            if not _is_http_error(exc):
                raise
            await scope.aclose(self.handle)
            return _failure(exc, body.request, deadline)


def _is_http_error(exc: BaseException) -> bool:
    import httpx

    return isinstance(exc, httpx.HTTPError)


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
