"""A handler that raises a ToolError reports that error as it is, on both APIs."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from tests.chat.support import USER, call_turn, make_engine, make_tool

import allm
from allm.errors import ToolError


def refuse(arguments: dict[str, Any]) -> Any:
    raise ToolError("mcp_unavailable", "the server is gone", tool_name="t")


async def refuse_async(arguments: dict[str, Any]) -> Any:
    refuse(arguments)


@pytest.mark.parametrize("api", ["sync", "async"])
def test_a_raised_tool_error_keeps_its_reason(api: str) -> None:
    seen: list[Any] = []

    def policy(call: Any, error: Any) -> Any:
        seen.append(error)
        return "halt"

    handler = refuse if api == "sync" else refuse_async
    engine = make_engine([call_turn(("c1", "t", {}))], [make_tool("t", handler)])
    if api == "sync":
        result = allm.chat(engine, USER, on_tool_error=policy)
    else:

        async def go() -> allm.ChatResult:
            return await allm.achat(engine, USER, on_tool_error=policy)

        result = anyio.run(go)
    assert result.halted_reason == "tool_error"
    [error] = seen
    assert (error.reason, error.message) == ("mcp_unavailable", "the server is gone")
