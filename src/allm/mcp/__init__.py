"""MCP servers' tools, resources and prompts, on the official MCP Python SDK (the ``mcp`` extra).

    import allm, allm.mcp

    server = allm.mcp.stdio("python", ["my_server.py"])
    with allm.Engine(model="fake:demo", mcp_servers=(server,)) as engine:
        allm.chat(engine, [allm.user("What is 2 + 3?")])

Describing a server (``stdio``, ``http``, ``sse``) does no I/O; a session opens on first use.
``import allm`` never imports this package or the SDK. Sessions live on one event loop allm owns, in a daemon
thread, so the sync and the async API both reach them; an engine's sessions close with
``engine.close()``, the module-level functions' with ``allm.mcp.close()``, and whatever is
still open at interpreter exit closes then. See ``docs/design/mcp.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..data.mcp import HttpServer, McpResource, SseServer, StdioServer
from ._ops import (
    McpToolHandler,
    aengine_tools,
    aprompt,
    aread_resource,
    aresources,
    atools,
    engine_tools,
    prompt,
    read_resource,
    resources,
    tools,
)
from ._session import ENGINE_SESSIONS

__all__ = [
    "HttpServer",
    "McpResource",
    "McpToolHandler",
    "SseServer",
    "StdioServer",
    "aclose",
    "aengine_tools",
    "aprompt",
    "aread_resource",
    "aresources",
    "atools",
    "close",
    "engine_tools",
    "http",
    "prompt",
    "read_resource",
    "resources",
    "sse",
    "stdio",
    "tools",
]


def _copy(value: Any) -> Any:
    """A caller's mapping or sequence as our own copy; anything else as it is, for the
    description to refuse with its path."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Sequence) and not isinstance(value, str):
        return tuple(value)
    return value


def stdio(
    command: str,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    *,
    cwd: str | None = None,
    timeout: float | None = None,
) -> StdioServer:
    """A server started as ``command *args`` and spoken to over its stdin / stdout."""
    extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
    return StdioServer(command, _copy(args), _copy(env), cwd, **extra)


def http(
    url: str, headers: Mapping[str, str] | None = None, *, timeout: float | None = None
) -> HttpServer:
    """A server at a streamable HTTP endpoint."""
    extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
    return HttpServer(url, _copy(headers), **extra)


def sse(
    url: str, headers: Mapping[str, str] | None = None, *, timeout: float | None = None
) -> SseServer:
    """A server on the older HTTP+SSE transport."""
    extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
    return SseServer(url, _copy(headers), **extra)


def close() -> None:
    """Close the sessions the module-level functions (``tools``, ``resources``, ...) opened."""
    ENGINE_SESSIONS.close(None)


async def aclose() -> None:
    """The async twin of ``close``."""
    await ENGINE_SESSIONS.aclose(None)
