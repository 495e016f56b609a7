"""A stream remembers its fold (W1): after iterating it to its end, or leaving its ``with`` block,
``collect()`` and ``response`` give the whole folded result, sync and async, for every stream kind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import pytest

import allm
from allm.providers.fake import finish, text, tool_call, usage

SCRIPT = [text("Hello "), text("world"), usage(input_tokens=3, output_tokens=2), finish("stop")]


def fake(scripts: list[list[Any]], tools: tuple[allm.Tool, ...] = ()) -> allm.Engine:
    return allm.Engine(adapter="fake", tools=tools, adapter_opts={"scripts": scripts})


def echo_tool() -> allm.Tool:
    return allm.tool(
        name="echo",
        description="echoes",
        schema={"type": "object", "properties": {}},
        handler=lambda arguments: "echoed",
    )


def chat_engine() -> allm.Engine:
    turns = [[tool_call(id="c1", name="echo", arguments={}), finish("tool_calls")], [*SCRIPT]]
    return fake(turns, (echo_tool(),))


# Each kind: (sync opener, async opener, engine factory, the folded result's text)
KINDS: dict[str, tuple[Callable[..., Any], Callable[..., Any], Callable[[], allm.Engine]]] = {
    "generate": (allm.stream_generate, allm.astream_generate, lambda: fake([list(SCRIPT)])),
    "step": (allm.stream_step, allm.astream_step, lambda: fake([list(SCRIPT)])),
    "chat": (allm.stream, allm.astream, chat_engine),
}


def text_of(result: Any) -> str | None:
    if isinstance(result, allm.ChatResult):
        return result.final_response.text
    if isinstance(result, allm.StepResult):
        return result.response.text
    return result.text


def run_sync(kind: str, how: str) -> tuple[Any, Any, int]:
    opener, _, engine = KINDS[kind]
    stream = opener(engine(), [allm.user("hi")])
    if how == "iterated":
        count = sum(1 for _ in stream)
    else:
        with stream:
            count = sum(1 for _ in stream)
    return stream.collect(), stream.response, count


def run_async(kind: str, how: str) -> tuple[Any, Any, int]:
    _, opener, engine = KINDS[kind]

    async def go() -> tuple[Any, Any, int]:
        stream = await opener(engine(), [allm.user("hi")])
        count = 0
        if how == "iterated":
            async for _ in stream:
                count += 1
        else:
            async with stream:
                async for _ in stream:
                    count += 1
        return await stream.collect(), stream.response, count

    return anyio.run(go)


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("how", ["iterated", "with_block"])
@pytest.mark.parametrize("runner", [run_sync, run_async], ids=["sync", "async"])
def test_collect_after_the_end_returns_the_whole_fold(kind: str, how: str, runner: Any) -> None:
    collected, response, count = runner(kind, how)
    assert count > 0
    assert text_of(collected) == "Hello world"
    assert response == collected
    assert response is collected  # the fold is remembered, not recomputed


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_sync_and_async_remember_the_same_fold(kind: str) -> None:
    sync_result, _, sync_count = run_sync(kind, "iterated")
    async_result, _, async_count = run_async(kind, "iterated")
    assert sync_count == async_count
    assert text_of(sync_result) == text_of(async_result)


def test_the_remembered_fold_equals_generate() -> None:
    stream = allm.stream_generate(fake([list(SCRIPT)]), [allm.user("hi")], request_id="r1")
    for _ in stream:
        pass
    whole = allm.generate(fake([list(SCRIPT)]), [allm.user("hi")], request_id="r1")
    assert stream.collect() == whole
    assert stream.response.usage.output_tokens == 2


def test_response_while_open_is_the_fold_so_far() -> None:
    stream = allm.stream_generate(fake([list(SCRIPT)]), [allm.user("hi")])
    assert stream.response.output_text == ""
    seen = []
    for event in stream:
        seen.append(event)
        if isinstance(event, allm.events.TextDelta):
            break
    assert stream.response.output_text == "Hello "
    stream.close()
    # a stream left early keeps what was received: nothing is lost, nothing more is read
    assert stream.collect().output_text == "Hello "
    assert stream.collect() is stream.response


def test_next_folds_too() -> None:
    stream = allm.stream_generate(fake([list(SCRIPT)]), [allm.user("hi")])
    while True:
        try:
            next(stream)
        except StopIteration:
            break
    assert stream.collect().text == "Hello world"


def test_anext_folds_too() -> None:
    async def go() -> str | None:
        stream = await allm.astream_generate(fake([list(SCRIPT)]), [allm.user("hi")])
        while True:
            try:
                await stream.__anext__()
            except StopAsyncIteration:
                break
        assert stream.response.text == "Hello world"
        return (await stream.collect()).text

    assert anyio.run(go) == "Hello world"
