"""Request size with a 40-tool catalog, whole and compact (``Tool(compact=True)``).

For each wire (OpenAI Chat Completions, Anthropic Messages, Gemini generateContent) the first
request of a chat turn is built twice by the adapter itself: with every tool whole, and with every
tool compact (stubs plus the built-in ``tool_help``, as the chat loop sends them). The figure is
the body size in bytes and the reduction; token counts follow the bytes closely for JSON.

    python bench/compact_tools.py [tools]
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace

import allm
from allm.adapters import Call, resolve_adapter
from allm.execution.compact import wire_tools, with_tool_help

WIRES = {"openai": "gpt-4.1", "anthropic": "claude-sonnet-4-5", "gemini": "gemini-2.5-flash"}


def catalog(count: int) -> tuple[allm.Tool, ...]:
    """A realistic catalog: a two-sentence description and four typed parameters per tool."""
    tools = []
    for index in range(count):
        schema = {
            "type": "object",
            "properties": {
                "account_id": {"type": "string", "description": "The customer account to act on."},
                "start_date": {"type": "string", "format": "date", "description": "First day, ISO 8601."},
                "limit": {"type": "integer", "minimum": 1, "maximum": 500, "description": "Most rows to return."},
                "status": {"type": "string", "enum": ["open", "closed", "pending"], "description": "Filter by status."},
            },
            "required": ["account_id"],
        }  # fmt: skip
        description = (
            f"Look up records of kind {index} for one customer account.\n"
            "Returns at most `limit` rows, newest first, filtered by status and start date; "
            "fails when the account does not exist or the caller lacks access."
        )
        tools.append(allm.Tool(f"lookup_kind_{index}", description, schema))
    return tuple(tools)


def body_size(provider: str, tools: tuple[allm.Tool, ...]) -> int:
    adapter = resolve_adapter(provider)
    engine = allm.Engine(adapter=provider)
    request = allm.Request(
        model=WIRES[provider], messages=(allm.user("Which invoices are open?"),), tools=tools
    )
    call = Call(request_id="bench", engine=engine, api_key="sk-bench")
    return len(adapter.prepare_request(request, call).content)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    whole = catalog(count)
    compact = wire_tools(with_tool_help(tuple(replace(tool, compact=True) for tool in whole)))
    rows = {}
    for provider in WIRES:
        full, small = body_size(provider, whole), body_size(provider, compact)
        rows[provider] = {
            "whole_bytes": full,
            "compact_bytes": small,
            "reduction": f"{100 * (1 - small / full):.1f}%",
        }
    print(json.dumps({"tools": count, "wires": rows}, indent=2))


if __name__ == "__main__":
    main()
