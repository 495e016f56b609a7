"""How to reach an MCP server, and what a server lists: plain values, no SDK, no I/O.

``allm.mcp`` (the ``mcp`` extra) connects to the servers these describe.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DEFAULT_MCP_TIMEOUT", "HttpServer", "McpResource", "SseServer", "StdioServer"]

# Seconds to open a session or answer one request when no call's ``tool_timeout`` bounds it.
DEFAULT_MCP_TIMEOUT = 30.0


def _check_timeout(value: Any, problems: list[str]) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        problems.append(f"timeout must be a positive number of seconds, got {value!r}")


def _check_text_map(name: str, value: Any, problems: list[str]) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        problems.append(f"{name} must be a mapping of str to str")
        return None
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            problems.append(f"{name}[{key!r}] must be a str")  # never the value: it may be secret
        elif "\r" in item or "\n" in item or "\r" in key or "\n" in key:
            problems.append(f"{name}[{key!r}] must not contain CR or LF")
    return dict(value)


def _check_url(url: Any, problems: list[str]) -> None:
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        problems.append(f"url must be an http:// or https:// URL, got {url!r}")
    elif any(ch in url for ch in "\r\n\t "):
        problems.append("url must not contain whitespace")


def _raise(problems: list[str]) -> None:
    if problems:
        from ..errors import ConfigurationError

        raise ConfigurationError("invalid_option", problems=problems)


@dataclass(frozen=True, slots=True)
class StdioServer:
    """A server run as a subprocess, spoken to over its stdin and stdout.

    ``env`` replaces the child's environment (``None``: the SDK's safe default subset, with
    ``PATH`` and ``HOME``); ``timeout`` bounds opening the session and each request that no
    call's ``tool_timeout`` bounds.
    """

    command: str
    args: tuple[str, ...] = ()
    env: dict[str, str] | None = field(default=None, repr=False)
    cwd: str | None = None
    timeout: float = DEFAULT_MCP_TIMEOUT

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not isinstance(self.command, str) or not self.command:
            problems.append(f"command must be a non-empty str, got {self.command!r}")
        if isinstance(self.args, str) or not all(isinstance(arg, str) for arg in self.args):
            problems.append("args must be a sequence of str")
        else:
            object.__setattr__(self, "args", tuple(self.args))
        object.__setattr__(self, "env", _check_text_map("env", self.env, problems))
        if self.cwd is not None and not isinstance(self.cwd, str):
            problems.append(f"cwd must be a str, got {self.cwd!r}")
        _check_timeout(self.timeout, problems)
        _raise(problems)

    @property
    def label(self) -> str:
        """A name for errors and telemetry: the command, never the environment."""
        return f"stdio:{self.command}"


@dataclass(frozen=True, slots=True, repr=False)
class _RemoteServer:
    url: str
    headers: dict[str, str] | None = field(default=None, repr=False)
    timeout: float = DEFAULT_MCP_TIMEOUT

    def __post_init__(self) -> None:
        problems: list[str] = []
        _check_url(self.url, problems)
        object.__setattr__(self, "headers", _check_text_map("headers", self.headers, problems))
        _check_timeout(self.timeout, problems)
        _raise(problems)

    def __repr__(self) -> str:  # the URL may carry credentials; the headers often do
        return f"{type(self).__name__}(url={self._public_url()!r}, timeout={self.timeout!r})"

    def _public_url(self) -> str:
        scheme, _, rest = self.url.split("?", 1)[0].partition("://")
        host, slash, path = rest.partition("/")
        return f"{scheme}://{host.rpartition('@')[2]}{slash}{path}"

    @property
    def label(self) -> str:
        """A name for errors and telemetry: the transport and the URL without credentials or
        query."""
        kind = "http" if isinstance(self, HttpServer) else "sse"
        return f"{kind}:{self._public_url()}"


@dataclass(frozen=True, slots=True, repr=False)
class HttpServer(_RemoteServer):
    """A server at a streamable HTTP endpoint (``https://host/mcp``).

    ``headers`` go with every request (an ``Authorization`` header, ...); they never appear in a
    repr, an error or telemetry. ``timeout`` as for ``StdioServer``.
    """


@dataclass(frozen=True, slots=True, repr=False)
class SseServer(_RemoteServer):
    """A server on the older HTTP+SSE transport (an ``/sse`` endpoint)."""


@dataclass(frozen=True, slots=True)
class McpResource:
    """One resource a server lists."""

    uri: str
    name: str
    mime_type: str | None = None
    description: str | None = None
