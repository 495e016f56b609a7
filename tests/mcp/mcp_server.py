"""A real MCP server, written with the official SDK, that the tests start as a subprocess.

    python mcp_server.py stdio           # over stdin / stdout
    python mcp_server.py http            # streamable HTTP on 127.0.0.1, a free port
    python mcp_server.py sse             # the older HTTP+SSE transport, a free port

The HTTP forms print ``PORT <n>`` on stdout once the socket listens.
"""

from __future__ import annotations

import base64
import os
import socket
import sys

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.utilities.types import Image
from pydantic import BaseModel

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)

server = MCPServer("allm-test", log_level="CRITICAL")


class Weather(BaseModel):
    city: str
    celsius: float


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool(name="text.upper")
def upper(text: str) -> str:
    """Upper-case a text."""
    return text.upper()


@server.tool()
def weather(city: str) -> Weather:
    """The weather in a city, as structured content."""
    return Weather(city=city, celsius=21.5)


@server.tool(structured_output=False)
def pixel() -> list[object]:
    """A text and a one-pixel PNG image."""
    return ["a red pixel", Image(data=PNG, format="png")]


@server.tool()
def fail(why: str) -> str:
    """Always fails with ``why``."""
    raise ValueError(why)


@server.tool()
async def hang() -> str:
    """Never answers."""
    await anyio.sleep(3600)
    return "never"


@server.tool()
def die() -> str:
    """Ends the server process at once, mid-call."""
    os._exit(3)


@server.tool()
def header(name: str, ctx: Context) -> str:
    """The value of request header ``name`` (HTTP transports)."""
    return (ctx.headers or {}).get(name.lower(), "<none>")


@server.tool()
def pid() -> int:
    """The server's process id."""
    return os.getpid()


@server.resource(
    "memo://greeting", name="greeting", description="A greeting", mime_type="text/plain"
)
def greeting() -> str:
    return "hello from the server"


@server.resource("memo://pixel", name="pixel", mime_type="image/png")
def pixel_resource() -> bytes:
    return PNG


@server.prompt()
def review(code: str) -> str:
    """Ask for a review of ``code``."""
    return f"Please review this code:\n{code}"


def _serve_http(kind: str) -> None:
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    app = server.streamable_http_app() if kind == "http" else server.sse_app()
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "stdio"
    if mode == "stdio":
        server.run("stdio")
    else:
        _serve_http(mode)
