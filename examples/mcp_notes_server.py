"""A small MCP server written with the official SDK, for examples/mcp_tools.py.

Run by the example as a subprocess over stdio; needs ``pip install 'allm-py[mcp]'``.
"""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer("notes", log_level="WARNING")
NOTES = {"groceries": "eggs, flour, milk", "ideas": "an allm example"}


@server.tool()
def add(a: float, b: float) -> float:
    """Add two numbers."""
    return a + b


@server.tool()
def read_note(title: str) -> str:
    """The text of the note called ``title``."""
    if title not in NOTES:
        raise ToolError(f"no note called {title!r}; notes: {', '.join(sorted(NOTES))}")
    return NOTES[title]


@server.resource("notes://index", name="index", mime_type="text/plain", description="Note titles")
def index() -> str:
    return "\n".join(sorted(NOTES))


@server.prompt()
def summarize(title: str) -> str:
    """Ask for a summary of one note."""
    return f"Summarize the note {title!r} in one sentence."


if __name__ == "__main__":
    server.run("stdio")
