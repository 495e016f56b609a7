"""An MCP server's tools in the chat loop, sync and async, plus its resources and prompts.
Offline: the Fake provider plays the model; the server is examples/mcp_notes_server.py, started
as a local stdio subprocess. Needs ``pip install 'allm-py[mcp]'``.

python examples/mcp_tools.py
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import allm
import allm.mcp
from allm.providers.fake import finish, text, tool_call

notes = allm.mcp.stdio(sys.executable, [str(Path(__file__).with_name("mcp_notes_server.py"))])

# The model (scripted here) calls two of the server's tools, one of which fails: the failure
# goes back to the model as a tool error, and the loop goes on.
script = [
    [
        tool_call(id="c1", name="add", arguments={"a": 2, "b": 3}),
        tool_call(id="c2", name="read_note", arguments={"title": "todo"}),
        finish("tool_calls"),
    ],
    [tool_call(id="c3", name="read_note", arguments={"title": "groceries"}), finish("tool_calls")],
    [text("2 + 3 = 5, and you need eggs, flour and milk."), finish("stop")],
]
engine = allm.Engine(adapter="fake", adapter_opts={"scripts": script}, mcp_servers=(notes,))

with engine:  # one session with the server, opened on first use, closed here
    result = allm.chat(engine, [allm.user("What is 2 + 3, and what do I need to buy?")])
for message in result.thread.messages:
    if message.role == "tool":
        print("tool:", message.content)
print("model:", result.final_response.text)


async def main() -> None:
    # The same under the async API, with the tools listed explicitly and prefixed.
    tools = await allm.mcp.atools(notes, prefix="notes", include=["add"])
    print("listed:", [tool.name for tool in tools])
    engine = allm.Engine(
        adapter="fake",
        adapter_opts={
            "scripts": [
                [
                    tool_call(id="c1", name="notes_add", arguments={"a": 1, "b": 1}),
                    finish("tool_calls"),
                ],
                [text("Two."), finish("stop")],
            ]
        },
        tools=tools,
    )
    result = await allm.achat(engine, [allm.user("1 + 1?")])
    print("async model:", result.final_response.text)
    print("resources:", [r.uri for r in await allm.mcp.aresources(notes)])
    print("index:", (await allm.mcp.aread_resource(notes, "notes://index")).split())
    [prompt] = await allm.mcp.aprompt(notes, "summarize", {"title": "ideas"})
    print("prompt:", prompt.content)
    await allm.mcp.aclose()  # the sessions allm.mcp's own functions opened


asyncio.run(main())
