"""Compact tools: a large tool catalog without its schemas in every request.

A ``Tool(compact=True)`` reaches the model as a stub: its name, the first line of its
description, and an open object schema. When any tool of a chat is compact, the loop adds the
built-in ``tool_help`` tool (arguments ``{"name": str}``), whose answer is the named tool's full
description and JSON schema; the model asks for it, then calls the tool with real arguments,
which the loop runs with the full tool (validated against its real schema as usual). A tool of
the caller's named ``tool_help`` wins over the built-in. Only the chat loop does this
(``step``, ``chat`` and their stream and async forms); ``generate`` sends every tool whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from ..data.tools import Tool, ToolFailure

__all__ = ["STUB_SCHEMA", "TOOL_HELP", "help_tool", "with_tool_help", "wire_tools"]

TOOL_HELP = "tool_help"
STUB_SCHEMA: dict[str, Any] = {"type": "object"}
_HELP_DESCRIPTION = (
    "Tools listed without parameters are in short form: before calling one, call tool_help "
    "with its name to get its full description and JSON schema."
)
_HELP_SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string", "description": "the tool's name"}},
    "required": ["name"],
}


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def help_tool(tools: Sequence[Tool]) -> Tool:
    """The built-in ``tool_help`` tool answering for the compact tools among ``tools``."""
    compact = {item.name: item for item in tools if getattr(item, "compact", False)}

    def answer(arguments: dict[str, Any]) -> Any:
        name = arguments.get("name")
        found = compact.get(name) if isinstance(name, str) else None
        if found is None:
            known = ", ".join(sorted(compact))
            return ToolFailure(f"no tool in short form is named {name!r}; they are: {known}")
        return {"name": found.name, "description": found.description, "schema": found.schema}

    return Tool(TOOL_HELP, _HELP_DESCRIPTION, _HELP_SCHEMA, handler=answer)


def with_tool_help(tools: tuple[Tool, ...]) -> tuple[Tool, ...]:
    """``tools`` plus ``tool_help`` when one of them is compact (and none is named so)."""
    if not any(getattr(item, "compact", False) for item in tools) or any(
        item.name == TOOL_HELP for item in tools
    ):
        return tools
    return (*tools, help_tool(tools))


def wire_tools(tools: tuple[Tool, ...]) -> tuple[Tool, ...]:
    """The tools as the model sees them: each compact tool as its stub."""
    if not any(getattr(item, "compact", False) for item in tools):
        return tools
    return tuple(
        replace(item, description=_first_line(item.description), schema=dict(STUB_SCHEMA))
        if getattr(item, "compact", False)
        else item
        for item in tools
    )
