"""The public operations, sync and async twins over one description of each request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..data.mcp import HttpServer, McpResource, SseServer, StdioServer
from ..data.messages import Message
from ..data.tools import Tool
from ..errors import ConfigurationError, ToolError
from ..tooling import ToolContext
from . import _convert
from ._session import Request, pool_for, run_async, run_sync

__all__ = [
    "McpToolHandler",
    "aengine_tools",
    "aprompt",
    "aread_resource",
    "aresources",
    "atools",
    "engine_tools",
    "prompt",
    "read_resource",
    "resources",
    "tools",
]

Server = StdioServer | HttpServer | SseServer
_SERVER_TYPES = (StdioServer, HttpServer, SseServer)
# A handler gives up this share of the call's tool_timeout early, so its own mcp_unavailable
# error (and not the loop's generic timeout) reaches the model.
_BUDGET_SHARE = 0.9
_PAGE_CAP = 100  # a server whose pages never end cannot hang a listing


@dataclass(frozen=True, slots=True)
class _Request:
    """One request: the server, the MCP method, a coroutine on the client, and how to read the
    answer."""

    server: Server
    method: str
    call: Callable[[Any], Awaitable[Any]]
    read: Callable[[Any], Any]
    target: str | None = None
    owner: str | None = None

    def _request(self) -> Request:
        return Request(self.server, self.method, self.call, self.target)

    def run(self, timeout: float | None = None) -> Any:
        answer = run_sync(pool_for(self.owner), self._request(), timeout or self.server.timeout)
        return answer if isinstance(answer, ToolError) else self.read(answer)

    async def arun(self, timeout: float | None = None) -> Any:
        pool = pool_for(self.owner)
        answer = await run_async(pool, self._request(), timeout or self.server.timeout)
        return answer if isinstance(answer, ToolError) else self.read(answer)


def _raised(value: Any) -> Any:
    if isinstance(value, ToolError):
        raise value
    return value


def _check_server(server: Any, problems: list[str]) -> None:
    if not isinstance(server, _SERVER_TYPES):
        problems.append(
            "server must be allm.mcp.stdio(...), http(...) or sse(...), got "
            f"{type(server).__name__}"
        )


def _raise(problems: list[str]) -> None:
    if problems:
        raise ConfigurationError("invalid_option", problems=problems)


async def _all_pages(fetch: Callable[[str | None], Awaitable[Any]], field: str) -> list[Any]:
    items: list[Any] = []
    cursor: str | None = None
    for _ in range(_PAGE_CAP):
        page = await fetch(cursor)
        items.extend(getattr(page, field))
        cursor = page.next_cursor
        if cursor is None:
            break
    return items


# -- tools ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class McpToolHandler:
    """The handler of a tool listed from an MCP server: calls the server's tool ``name``.

    ``owner`` is the engine id whose sessions carry the call (``None``: ``allm.mcp``'s own). A
    dead or hung server gives ``ToolError("mcp_unavailable")`` before the call's
    ``tool_timeout`` runs out; an error result is a ``ToolFailure`` the model sees.
    """

    server: Server
    name: str
    owner: str | None = None

    def __call__(self, arguments: dict[str, Any], ctx: ToolContext) -> Any:
        budget = None if ctx.timeout is None else ctx.timeout * _BUDGET_SHARE
        name = self.name
        outcome = _Request(
            self.server,
            "tools/call",
            lambda client: client.call_tool(name, arguments),
            _convert.tool_outcome,
            name,
            self.owner,
        ).run(budget)
        if isinstance(outcome, ToolError):
            call = ctx.tool_call
            raise ToolError(
                outcome.reason,
                outcome.message,
                tool_name=call.name if call is not None else outcome.tool_name,
                tool_call_id=call.id if call is not None else None,
                metadata=dict(outcome.metadata),
                cause=outcome.cause,
            )
        return outcome


def _listing(server: Server, owner: str | None) -> _Request:
    def fetch(client: Any) -> Awaitable[list[Any]]:
        return _all_pages(lambda cursor: client.list_tools(cursor=cursor), "tools")

    return _Request(server, "tools/list", fetch, tuple, None, owner)


def _as_tools(
    server: Server,
    listed: Sequence[Any],
    prefix: str | None,
    include: Sequence[str] | None,
    exclude: Sequence[str] | None,
    owner: str | None,
) -> tuple[Tool, ...]:
    names = [item.name for item in listed]
    unknown = [name for name in (*(include or ()), *(exclude or ())) if name not in names]
    if unknown:
        raise ConfigurationError(
            "invalid_tool",
            problems=[f"{server.label} offers no tool {name!r}" for name in unknown],
        )
    chosen = []
    for item in listed:
        if (include is not None and item.name not in include) or item.name in (exclude or ()):
            continue
        schema = dict(item.input_schema or {"type": "object", "properties": {}})
        schema.pop("title", None)
        chosen.append(
            Tool(
                _convert.allm_name(item.name, prefix),
                item.description or "",
                schema,
                McpToolHandler(server, item.name, owner),
                metadata={"mcp_server": server.label, "mcp_tool": item.name},
            )
        )
    return tuple(chosen)


def _check_tools_args(server: Any, prefix: Any, include: Any, exclude: Any) -> None:
    problems: list[str] = []
    _check_server(server, problems)
    if prefix is not None and (not isinstance(prefix, str) or not _convert.safe_prefix(prefix)):
        problems.append(f"prefix must be letters, digits, _ or -, got {prefix!r}")
    for label, names in (("include", include), ("exclude", exclude)):
        if names is not None and (
            isinstance(names, str) or not all(isinstance(name, str) for name in names)
        ):
            problems.append(f"{label} must be a sequence of tool names")
    _raise(problems)


def _cached(server: Server, owner: str | None) -> tuple[Any, ...] | None:
    return pool_for(owner).connection(server).listed


def _remember(server: Server, owner: str | None, listed: Any) -> Any:
    if not isinstance(listed, ToolError):
        pool_for(owner).connection(server).listed = listed
    return listed


def tools(
    server: Server,
    prefix: str | None = None,
    include: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
) -> tuple[Tool, ...]:
    """See ``allm.mcp.tools``."""
    _check_tools_args(server, prefix, include, exclude)
    listed = _cached(server, None) or _raised(_remember(server, None, _listing(server, None).run()))
    return _as_tools(server, listed, prefix, include, exclude, None)


async def atools(
    server: Server,
    prefix: str | None = None,
    include: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
) -> tuple[Tool, ...]:
    """The async twin of ``tools``."""
    _check_tools_args(server, prefix, include, exclude)
    listed = _cached(server, None) or _raised(
        _remember(server, None, await _listing(server, None).arun())
    )
    return _as_tools(server, listed, prefix, include, exclude, None)


def _merged(engine: Any, listings: Sequence[tuple[Server, Any]]) -> tuple[Tool, ...]:
    """Every server's tools for ``engine``; a name two servers (or the engine) share is refused."""
    taken = {item.name: "the engine's tools" for item in engine.tools}
    merged: list[Tool] = []
    problems = []
    for server, listed in listings:
        for item in _as_tools(server, listed, None, None, None, engine.id):
            if item.name in taken:
                problems.append(
                    f"tool {item.name!r} of {server.label} clashes with {taken[item.name]}; "
                    "list it with allm.mcp.tools(server, prefix=...) instead"
                )
                continue
            taken[item.name] = server.label
            merged.append(item)
    if problems:
        raise ConfigurationError("invalid_tool", problems=problems)
    return tuple(merged)


def engine_tools(engine: Any, timeout: float | None) -> tuple[Tool, ...]:
    """The tools of ``engine.mcp_servers``, listed once per session (blocking); a server that
    cannot be listed raises ``ToolError("mcp_unavailable")``."""
    listings = []
    for server in engine.mcp_servers:
        listed = _cached(server, engine.id)
        if listed is None:
            answer = _listing(server, engine.id).run(timeout)
            listed = _raised(_remember(server, engine.id, answer))
        listings.append((server, listed))
    return _merged(engine, listings)


async def aengine_tools(engine: Any, timeout: float | None) -> tuple[Tool, ...]:
    """The async twin of ``engine_tools``: servers not listed yet are listed concurrently."""
    import asyncio

    missing = [s for s in engine.mcp_servers if _cached(s, engine.id) is None]
    answers = await asyncio.gather(*(_listing(s, engine.id).arun(timeout) for s in missing))
    for server, answer in zip(missing, answers, strict=True):
        _raised(_remember(server, engine.id, answer))
    return engine_tools(engine, timeout)


# -- resources and prompts -----------------------------------------------------------------


def _resources_request(server: Server) -> _Request:
    def fetch(client: Any) -> Awaitable[list[Any]]:
        return _all_pages(lambda cursor: client.list_resources(cursor=cursor), "resources")

    def read(items: list[Any]) -> tuple[McpResource, ...]:
        return tuple(_convert.resource(item) for item in items)

    return _Request(server, "resources/list", fetch, read)


def _read_request(server: Server, uri: Any) -> _Request:
    problems: list[str] = []
    _check_server(server, problems)
    if not isinstance(uri, str) or not uri:
        problems.append(f"uri must be a non-empty str, got {uri!r}")
    _raise(problems)
    return _Request(
        server,
        "resources/read",
        lambda client: client.read_resource(uri),
        lambda result: _convert.resource_body(result.contents),
        uri,
    )


def _prompt_request(server: Server, name: Any, arguments: Any) -> _Request:
    problems: list[str] = []
    _check_server(server, problems)
    if not isinstance(name, str) or not name:
        problems.append(f"name must be a non-empty str, got {name!r}")
    if arguments is not None and (
        not isinstance(arguments, Mapping)
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in arguments.items())
    ):
        problems.append("arguments must be a mapping of str to str")
    _raise(problems)
    values = None if arguments is None else dict(arguments)
    return _Request(
        server,
        "prompts/get",
        lambda client: client.get_prompt(name, values),
        _convert.prompt_messages,
        name,
    )


def _checked(server: Any) -> Server:
    problems: list[str] = []
    _check_server(server, problems)
    _raise(problems)
    return server  # type: ignore[no-any-return]


def resources(server: Server) -> tuple[McpResource, ...]:
    """See ``allm.mcp.resources``."""
    return _raised(_resources_request(_checked(server)).run())  # type: ignore[no-any-return]


async def aresources(server: Server) -> tuple[McpResource, ...]:
    """The async twin of ``resources``."""
    return _raised(await _resources_request(_checked(server)).arun())  # type: ignore[no-any-return]


def read_resource(server: Server, uri: str) -> str | bytes:
    """See ``allm.mcp.read_resource``."""
    return _raised(_read_request(server, uri).run())  # type: ignore[no-any-return]


async def aread_resource(server: Server, uri: str) -> str | bytes:
    """The async twin of ``read_resource``."""
    return _raised(await _read_request(server, uri).arun())  # type: ignore[no-any-return]


def prompt(
    server: Server, name: str, arguments: Mapping[str, str] | None = None
) -> tuple[Message, ...]:
    """See ``allm.mcp.prompt``."""
    return _raised(_prompt_request(server, name, arguments).run())  # type: ignore[no-any-return]


async def aprompt(
    server: Server, name: str, arguments: Mapping[str, str] | None = None
) -> tuple[Message, ...]:
    """The async twin of ``prompt``."""
    return _raised(await _prompt_request(server, name, arguments).arun())  # type: ignore[no-any-return]
