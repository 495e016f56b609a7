"""The module-level functions on a real stdio server, sync and async twins; the MCP values as
allm values; the server descriptions as plain data."""

from __future__ import annotations

import base64
import pickle
import re
from typing import Any

import anyio
import mcp_types as mt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.mcp.support import Census, assert_no_leaks, stdio_server

import allm
import allm.mcp
from allm.errors import ConfigurationError, ToolError
from allm.mcp import _convert
from allm.tooling import ToolContext


def both(api: str, sync: Any, asynchronous: Any, *args: Any, **kwargs: Any) -> Any:
    if api == "sync":
        return sync(*args, **kwargs)

    async def go() -> Any:
        try:
            return await asynchronous(*args, **kwargs)
        finally:
            await allm.mcp.aclose()

    return anyio.run(go)


@pytest.fixture(params=["sync", "async"])
def api(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_tools_with_prefix_and_filters(api: str) -> None:
    server = stdio_server()
    listed = both(api, allm.mcp.tools, allm.mcp.atools, server, prefix="calc", include=["add"])
    [add] = listed
    assert add.name == "calc_add"
    assert add.description == "Add two integers."
    assert add.schema["required"] == ["a", "b"]
    assert "title" not in add.schema
    assert add.metadata == {"mcp_server": server.label, "mcp_tool": "add"}
    assert add.handler is not None
    assert add.handler({"a": 4, "b": 5}, ToolContext()) == "9"
    names = {t.name for t in allm.mcp.tools(server, exclude=["die", "hang"])}
    assert names == {"add", "text_upper", "weather", "pixel", "fail", "header", "pid"}


def test_filters_naming_unknown_tools_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="offers no tool 'nope'"):
        allm.mcp.tools(stdio_server(), include=["nope"])


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"server": "python"}, "server must be"),
        ({"prefix": "a b"}, "prefix must be"),
        ({"include": "add"}, "include must be"),
        ({"exclude": [1]}, "exclude must be"),
    ],
)
def test_bad_tools_arguments_raise_before_any_io(
    kwargs: dict[str, Any], problem: str, census: Census
) -> None:
    arguments: dict[str, Any] = {"server": stdio_server(), **kwargs}
    with pytest.raises(ConfigurationError, match=problem):
        allm.mcp.tools(**arguments)
    assert census.leaks() == {}


def test_resources_read_resource_and_prompt(api: str) -> None:
    server = stdio_server()
    listed = both(api, allm.mcp.resources, allm.mcp.aresources, server)
    assert allm.mcp.McpResource("memo://greeting", "greeting", "text/plain", "A greeting") in listed
    text = both(api, allm.mcp.read_resource, allm.mcp.aread_resource, server, "memo://greeting")
    assert text == "hello from the server"
    blob = both(api, allm.mcp.read_resource, allm.mcp.aread_resource, server, "memo://pixel")
    assert isinstance(blob, bytes) and blob.startswith(b"\x89PNG")
    messages = both(api, allm.mcp.prompt, allm.mcp.aprompt, server, "review", {"code": "x = 1"})
    assert messages == (allm.user("Please review this code:\nx = 1"),)


def test_protocol_errors_and_bad_arguments(api: str) -> None:
    server = stdio_server()
    with pytest.raises(ToolError) as caught:
        both(api, allm.mcp.read_resource, allm.mcp.aread_resource, server, "memo://nothing")
    assert caught.value.reason == "handler_raised"
    assert caught.value.metadata["method"] == "resources/read"
    with pytest.raises(ConfigurationError, match="uri must be"):
        allm.mcp.read_resource(server, "")
    with pytest.raises(ConfigurationError, match="arguments must be"):
        allm.mcp.prompt(server, "review", {"code": 1})  # type: ignore[dict-item]
    with pytest.raises(ConfigurationError, match="server must be"):
        allm.mcp.resources("nope")  # type: ignore[arg-type]


def test_a_dead_server_is_mcp_unavailable_for_every_function(api: str) -> None:
    dead = allm.mcp.http("http://user:secret@127.0.0.1:9/mcp", {"Authorization": "tok"}, timeout=5)
    for sync, asynchronous, args in (
        (allm.mcp.tools, allm.mcp.atools, ()),
        (allm.mcp.resources, allm.mcp.aresources, ()),
        (allm.mcp.prompt, allm.mcp.aprompt, ("review",)),
    ):
        with pytest.raises(ToolError) as caught:
            both(api, sync, asynchronous, dead, *args)
        assert caught.value.reason == "mcp_unavailable"
        shown = str(caught.value) + repr(caught.value) + allm.to_json(caught.value)
        assert "secret" not in shown and "tok" not in shown


def test_module_sessions_close_and_reopen(census: Census) -> None:
    server = stdio_server()
    [pid] = allm.mcp.tools(server, include=["pid"])
    assert pid.handler is not None
    first = pid.handler({}, ToolContext())
    assert pid.handler({}, ToolContext()) == first  # one session, one process
    allm.mcp.close()
    assert_no_leaks(census)
    assert pid.handler({}, ToolContext()) != first  # a new session after close
    allm.mcp.close()
    allm.mcp.close()  # closing twice is harmless
    assert_no_leaks(census)


# -- conversions --------------------------------------------------------------------------------

PNG = base64.b64encode(b"\x89PNG-bytes").decode()


def result(*content: Any, structured: Any = None, error: bool = False) -> mt.CallToolResult:
    return mt.CallToolResult(content=list(content), structured_content=structured, is_error=error)


def test_tool_results_become_text_failures_or_structured_content() -> None:
    text = mt.TextContent(text="hello")
    assert _convert.tool_outcome(result(text, structured={"x": 1})) == "hello"
    assert _convert.tool_outcome(result(structured={"x": 1})) == {"x": 1}
    assert _convert.tool_outcome(result(text, error=True)) == allm.ToolFailure("hello")
    assert _convert.tool_outcome(result(error=True)) == allm.ToolFailure(
        "the tool reported an error"
    )
    blocks = [
        mt.ImageContent(data=PNG, mime_type="image/png"),
        mt.AudioContent(data="!!", mime_type="audio/wav"),
        mt.EmbeddedResource(resource=mt.TextResourceContents(uri="a://t", text="inner")),
        mt.EmbeddedResource(resource=mt.BlobResourceContents(uri="a://b", blob=PNG)),
        mt.ResourceLink(uri="a://l", name="l"),
    ]
    assert _convert.tool_outcome(result(*blocks)).split("\n") == [
        "[image image/png, 10 bytes]",
        "[audio audio/wav, 0 bytes]",
        "inner",
        "[resource a://b , 10 bytes]",
        "[resource a://l]",
    ]


def test_prompt_images_become_image_parts() -> None:
    prompt = mt.GetPromptResult(
        messages=[
            mt.PromptMessage(role="assistant", content=mt.TextContent(text="hi")),
            mt.PromptMessage(role="user", content=mt.ImageContent(data=PNG, mime_type="image/png")),
            mt.PromptMessage(role="user", content=mt.ImageContent(data="!", mime_type="image/png")),
        ]
    )
    said, image, broken = _convert.prompt_messages(prompt)
    assert said == allm.assistant("hi")
    [part] = image.content
    assert isinstance(part, allm.ImagePart)
    assert part.to_data_uri() == f"data:image/png;base64,{PNG}"
    assert broken.content == "[image image/png, 0 bytes]"


def test_resource_bodies_and_names() -> None:
    text = mt.TextResourceContents(uri="a://x", text="one")
    assert _convert.resource_body([text, text]) == "one\none"
    assert _convert.resource_body([text, mt.BlobResourceContents(uri="a://x", blob=PNG)]) == (
        b"\x89PNG-bytes"
    )
    assert _convert.allm_name("text.upper", None) == "text_upper"
    assert _convert.allm_name("x" * 80, "p") == ("p_" + "x" * 80)[:64]
    assert _convert.allm_name("", None) == "tool"


# -- server descriptions ------------------------------------------------------------------------


def test_descriptions_are_plain_frozen_data() -> None:
    stdio = allm.mcp.stdio("python", ["server.py"], {"TOKEN": "secret"}, cwd="/tmp", timeout=5)
    remote = allm.mcp.http("https://user:pw@mcp.example.com/mcp?k=v", {"Authorization": "Bearer s"})
    sse = allm.mcp.sse("http://127.0.0.1:1/sse")
    engine = allm.Engine(adapter="fake", mcp_servers=[stdio, remote, sse])
    for value in (stdio, remote, sse, engine):
        assert allm.from_json(allm.to_json(value)) == value
        assert pickle.loads(pickle.dumps(value)) == value
    assert engine.mcp_servers == (stdio, remote, sse)
    for secret in ("secret", "Bearer", "pw"):
        assert secret not in repr(stdio) + repr(remote) + stdio.label + remote.label
    assert remote.label == "http:https://mcp.example.com/mcp"
    assert sse.label == "sse:http://127.0.0.1:1/sse"
    with pytest.raises(AttributeError):
        stdio.command = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("build", "problem"),
    [
        (lambda: allm.mcp.stdio(""), "command must be"),
        (lambda: allm.mcp.stdio("x", "abc"), "args must be"),
        (lambda: allm.mcp.stdio("x", env={"A": 1}), "env['A'] must be a str"),
        (lambda: allm.mcp.stdio("x", env=["A"]), "env must be a mapping"),
        (lambda: allm.mcp.stdio("x", cwd=1), "cwd must be"),
        (lambda: allm.mcp.stdio("x", timeout=0), "timeout must be"),
        (lambda: allm.mcp.http("ftp://x"), "url must be"),
        (lambda: allm.mcp.http("http://x/ y"), "whitespace"),
        (lambda: allm.mcp.sse("http://x", {"A": "b\r\nc"}), "CR or LF"),
        (lambda: allm.Engine(mcp_servers=("python",)), "mcp_servers[0] must be"),
    ],
)
def test_bad_descriptions_list_their_problems(build: Any, problem: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(problem)) as caught:
        build()
    assert "b\r\nc" not in str(caught.value)


_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=12
)


@given(
    command=_text.filter(bool),
    args=st.lists(_text, max_size=3),
    env=st.none() | st.dictionaries(_text, _text, max_size=3),
    timeout=st.floats(0.001, 1e6),
)
def test_stdio_descriptions_round_trip(
    command: str, args: list[str], env: dict[str, str] | None, timeout: float
) -> None:
    server = allm.mcp.stdio(command, args, env, timeout=timeout)
    engine = allm.Engine(mcp_servers=(server,))
    assert allm.from_json(allm.to_json(engine)) == engine
    assert pickle.loads(pickle.dumps(server)) == server


@given(
    path=st.from_regex(r"/[a-z0-9/]{0,10}", fullmatch=True),
    headers=st.none() | st.dictionaries(st.from_regex(r"X-[A-Za-z]{1,8}", fullmatch=True), _text),
    kind=st.sampled_from([allm.mcp.http, allm.mcp.sse]),
)
def test_remote_descriptions_round_trip(
    path: str, headers: dict[str, str] | None, kind: Any
) -> None:
    server = kind(f"https://mcp.example.com{path}", headers)
    assert allm.from_json(allm.to_json(server)) == server
    assert pickle.loads(pickle.dumps(server)) == server
