"""Helpers shared by the observability tests (imported as ``tests.observability.support``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import allm
from allm.providers.fake import finish, text, tool_call, usage

USER = [allm.user("hi")]


def tool(name: str, handler: Any = None) -> allm.Tool:
    """A tool answering its own name in capitals unless given a handler."""
    return allm.tool(
        name=name,
        description=f"the {name} tool",
        schema={"type": "object", "properties": {}},
        handler=handler if handler is not None else (lambda arguments: name.upper()),
    )


def fake_engine(
    scripts: Sequence[Sequence[Any]], tools: Sequence[allm.Tool] = (), **fields: Any
) -> allm.Engine:
    """A Fake engine with one script per call."""
    fields.setdefault("adapter", "fake")
    fields.setdefault("model", "fake-model")
    opts = dict(fields.pop("adapter_opts", {}))
    opts["scripts"] = [list(script) for script in scripts]
    return allm.Engine(adapter_opts=opts, tools=list(tools), **fields)


def two_tool_chat(**fields: Any) -> allm.Engine:
    """A chat whose first step calls tools ``a`` and ``b``, the second answers."""
    first = [
        tool_call(id="c1", name="a", arguments={"x": 1}),
        tool_call(id="c2", name="b", arguments={}),
        usage(input_tokens=100, output_tokens=7, cached_input_tokens=40),
        finish("tool_calls"),
    ]
    second = [
        text("done"),
        usage(input_tokens=130, output_tokens=3, cache_write_input_tokens=20),
        finish("stop"),
    ]
    return fake_engine([first, second], [tool("a"), tool("b")], **fields)
