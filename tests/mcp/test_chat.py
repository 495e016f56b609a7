"""allm.chat with the Fake provider calling tools of real MCP servers, sync and async."""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import anyio
import pytest
from tests.mcp.support import Census, Served, assert_no_leaks, children, serve, stdio_server

import allm
import allm.mcp
from allm.errors import ToolError
from allm.providers.fake import finish, text, tool_call

QUESTION = [allm.user("What is 2 + 3?")]


def turn(name: str, arguments: dict[str, Any] | None = None, id: str = "c1") -> list[Any]:
    return [tool_call(id=id, name=name, arguments=arguments or {}), finish("tool_calls")]


def answer(value: str = "It is 5.") -> list[Any]:
    return [text(value), finish("stop")]


def fake_engine(scripts: list[list[Any]], servers: tuple[Any, ...], **fields: Any) -> allm.Engine:
    return allm.Engine(
        adapter="fake", adapter_opts={"scripts": scripts}, mcp_servers=servers, **fields
    )


def run_chat(driver: str, engine: allm.Engine, **opts: Any) -> allm.ChatResult:
    """One chat through the sync or the async API; the engine is closed after it, likewise."""
    if driver == "sync":
        with engine:
            return allm.chat(engine, QUESTION, **opts)

    async def go() -> allm.ChatResult:
        async with engine:
            return await allm.achat(engine, QUESTION, **opts)

    return anyio.run(go)


def tool_messages(result: allm.ChatResult) -> list[str]:
    return [m.content for m in result.thread.messages if m.role == "tool"]  # type: ignore[misc]


@pytest.fixture(params=["sync", "async"])
def api(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_stdio_server_tools_in_the_chat_loop(api: str, census: Census) -> None:
    engine = fake_engine([turn("add", {"a": 2, "b": 3}), answer()], (stdio_server(),))
    result = run_chat(api, engine)
    assert result.halted_reason == "completed"
    assert tool_messages(result) == ["5"]
    assert result.final_response.text == "It is 5."
    assert_no_leaks(census)


def test_streamable_http_server_tools_in_the_chat_loop(
    api: str, http_served: Served, census: Census
) -> None:
    url = f"http://127.0.0.1:{http_served.port}/mcp"
    server = allm.mcp.http(url, {"X-Allm-Test": "yes"})
    scripts = [
        turn("add", {"a": 2, "b": 3}),
        turn("weather", {"city": "Oslo"}),
        turn("header", {"name": "X-Allm-Test"}),
        answer(),
    ]
    result = run_chat(api, fake_engine(scripts, (server,)))
    assert result.halted_reason == "completed"
    five, weather, header = tool_messages(result)
    assert header == "yes"
    assert five == "5"
    assert json.loads(weather) == {"city": "Oslo", "celsius": 21.5}
    assert_no_leaks(census)


def test_sse_server_tools(sse_served: Served, census: Census) -> None:
    server = allm.mcp.sse(f"http://127.0.0.1:{sse_served.port}/sse", {"X-Allm-Test": "sse"})
    scripts = [turn("add", {"a": 1, "b": 1}), turn("header", {"name": "X-Allm-Test"}), answer()]
    result = run_chat("sync", fake_engine(scripts, (server,)))
    assert tool_messages(result) == ["2", "sse"]
    assert_no_leaks(census)


def test_engine_tools_and_mcp_tools_together(api: str) -> None:
    local = allm.tool(
        name="double", description="Double n.", schema={"type": "object"}, handler=lambda a: 2
    )
    scripts = [
        [
            tool_call(id="c1", name="add", arguments={"a": 1, "b": 2}),
            tool_call(id="c2", name="double", arguments={}),
            finish("tool_calls"),
        ],
        answer(),
    ]
    result = run_chat(api, fake_engine(scripts, (stdio_server(),), tools=(local,)))
    assert tool_messages(result) == ["3", "2"]


def test_error_result_is_a_tool_error_the_model_sees(api: str) -> None:
    scripts = [turn("fail", {"why": "no"}), answer("Sorry.")]
    result = run_chat(api, fake_engine(scripts, (stdio_server(),)))
    assert result.halted_reason == "completed"
    assert json.loads(tool_messages(result)[0]) == {"error": "Error executing tool fail"}
    halted = run_chat(api, fake_engine(scripts, (stdio_server(),)), on_tool_error="halt")
    assert halted.halted_reason == "tool_error"


def test_images_and_structured_content_become_tool_message_text() -> None:
    scripts = [turn("pixel"), turn("text_upper", {"text": "hi"}, id="c2"), answer()]
    result = run_chat("sync", fake_engine(scripts, (stdio_server(),)))
    pixel, upper = tool_messages(result)
    assert pixel.startswith("a red pixel\n[image image/png, ")
    assert pixel.endswith(" bytes]")
    assert upper == "HI"


def test_a_server_killed_mid_call_gives_mcp_unavailable_and_the_chat_goes_on(api: str) -> None:
    errors: list[Any] = []

    def policy(call: Any, error: Any) -> Any:
        errors.append(error)
        return ("continue", {"error": error.message})

    scripts = [turn("die"), turn("add", {"a": 2, "b": 3}, id="c2"), answer()]
    result = run_chat(api, fake_engine(scripts, (stdio_server(),)), on_tool_error=policy)
    assert result.halted_reason == "completed"
    [error] = errors
    assert isinstance(error, ToolError)
    assert error.reason == "mcp_unavailable"
    assert error.tool_name == "die"
    assert error.tool_call_id == "c1"
    # the next call opens a new session (a new server process) and succeeds
    assert tool_messages(result)[1] == "5"


def test_a_server_killed_mid_call_halts_with_on_tool_error_halt(api: str) -> None:
    scripts = [turn("die"), answer()]
    result = run_chat(api, fake_engine(scripts, (stdio_server(),)), on_tool_error="halt")
    assert result.halted_reason == "tool_error"
    assert "closed" in json.loads(tool_messages(result)[0])["error"]


def test_a_killed_http_server_gives_mcp_unavailable(api: str, census: Census) -> None:
    served = serve("http")
    server = allm.mcp.http(f"http://127.0.0.1:{served.port}/mcp")
    kill = allm.tool(
        name="kill_server",
        description="Stop the MCP server.",
        schema={"type": "object"},
        handler=lambda arguments: served.kill() or "killed",
    )
    errors: list[Any] = []

    def policy(call: Any, error: Any) -> Any:
        errors.append(error)
        return "halt"

    scripts = [
        turn("add", {"a": 1, "b": 1}),
        turn("kill_server", id="c2"),
        turn("add", {"a": 1, "b": 1}, id="c3"),
    ]
    engine = fake_engine([*scripts, answer()], (server,), tools=(kill,))
    result = run_chat(api, engine, on_tool_error=policy, tool_timeout=10)
    assert result.halted_reason == "tool_error"
    assert tool_messages(result)[:2] == ["2", "killed"]
    assert [e.reason for e in errors] == ["mcp_unavailable"]
    assert_no_leaks(census)


def test_a_hung_tool_is_mcp_unavailable_within_the_tool_timeout(api: str) -> None:
    errors: list[Any] = []

    def policy(call: Any, error: Any) -> Any:
        errors.append(error)
        return "halt"

    engine = fake_engine([turn("hang"), answer()], (stdio_server(),))
    started = time.monotonic()
    result = run_chat(api, engine, on_tool_error=policy, tool_timeout=6)
    assert time.monotonic() - started < 60  # loose: the machine is shared
    assert result.halted_reason == "tool_error"
    # the MCP handler gave up before the loop's own timeout (which would say "timeout")
    assert [e.reason for e in errors] == ["mcp_unavailable"]


def test_a_server_that_cannot_be_listed_raises_before_any_model_request(api: str) -> None:
    requests: list[Any] = []
    dead = allm.mcp.http("http://127.0.0.1:9/mcp")  # the discard port: nothing listens
    engine = allm.Engine(
        adapter="fake",
        adapter_opts={"scripts": [answer()], "record": requests},
        mcp_servers=(dead,),
    )
    with pytest.raises(ToolError) as caught:
        run_chat(api, engine, tool_timeout=5)
    assert caught.value.reason == "mcp_unavailable"
    assert caught.value.metadata["server"] == "http:http://127.0.0.1:9/mcp"
    assert requests == []


def test_a_server_that_never_answers_is_unavailable_and_its_process_is_ended(
    api: str, census: Census
) -> None:
    silent = allm.mcp.stdio(sys.executable, ["-c", "import time; time.sleep(120)"])
    engine = fake_engine([answer()], (silent,))
    with pytest.raises(ToolError) as caught:
        run_chat(api, engine, tool_timeout=2)
    assert caught.value.reason == "mcp_unavailable"
    assert_no_leaks(census)


def test_bad_options_raise_before_any_listing(api: str, census: Census) -> None:
    engine = fake_engine([answer()], (stdio_server(),))
    with pytest.raises(allm.errors.ConfigurationError):
        run_chat(api, engine, tool_timeout=-1)
    assert census.leaks() == {}  # no session was opened, so no thread was started


def test_one_session_per_server_across_calls_and_engine_copies() -> None:
    scripts = [turn("pid"), answer(), turn("pid"), answer()]
    engine = fake_engine(scripts, (stdio_server(),))
    with engine:
        first = allm.chat(engine, QUESTION)
        second = allm.chat(engine.put_param("temperature", 0), QUESTION)
    assert tool_messages(first) == tool_messages(second)
    pid = int(tool_messages(first)[0])
    assert pid not in children()


def test_name_clash_between_servers_is_refused() -> None:
    engine = fake_engine([answer()], (stdio_server(), stdio_server(cwd=os.getcwd())))
    with engine, pytest.raises(allm.errors.ConfigurationError, match="clashes"):
        allm.chat(engine, QUESTION)


def test_engines_without_mcp_servers_never_import_the_sdk() -> None:
    import subprocess

    code = (
        "import sys, allm\n"
        "from allm.providers.fake import text, finish\n"
        "engine = allm.Engine(adapter='fake', adapter_opts={'script': [text('hi'), finish()]})\n"
        "allm.chat(engine, [allm.user('hi')])\n"
        "allm.to_json(allm.Engine(mcp_servers=(allm.data.mcp.StdioServer('x'),)))\n"
        "print(sorted(m for m in sys.modules if m == 'mcp' or m.startswith(('mcp.', 'allm.mcp'))))\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == "[]"


def test_sessions_left_open_close_at_interpreter_exit() -> None:
    import subprocess

    code = (
        "import sys, allm, allm.mcp\n"
        "from allm.tooling import ToolContext\n"
        f"server = allm.mcp.stdio(sys.executable, [{str(stdio_server().args[0])!r}, 'stdio'])\n"
        "[pid] = [t for t in allm.mcp.tools(server) if t.name == 'pid']\n"
        "print(pid.handler({}, ToolContext()), flush=True)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    server_pid = int(done.stdout.strip())
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{server_pid}") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{server_pid}")
