"""Leaving a stream early cleans the adapter's stream up exactly once, however it is left (§9.2)."""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

import anyio
import pytest

import allm
from allm.events import MessageCompleted, MessageStarted, TextDelta
from allm.providers.fake import finish, text

SCRIPT = [text("a"), text("b"), text("c"), finish("stop")]


class Boom(Exception):
    pass


@pytest.fixture
def engine(fake_engine: Callable[..., allm.Engine], cleanup: Any) -> allm.Engine:
    return fake_engine(scripts=[SCRIPT] * 5, cleanup_observer=cleanup)


# -- sync ----------------------------------------------------------------------------------------


def test_f034_break_out_of_an_unreferenced_stream(engine, messages, cleanup) -> None:
    seen = []
    for event in allm.stream_generate(engine, messages):
        seen.append(event)
        if isinstance(event, TextDelta):
            break
    assert len(seen) == 2
    assert cleanup.calls == 1


def test_f034_break_then_close(engine, messages, cleanup) -> None:
    stream = allm.stream_generate(engine, messages)
    for event in stream:
        if isinstance(event, TextDelta):
            break
    assert cleanup.calls == 0  # still open: the stream may be resumed
    stream.close()
    assert cleanup.calls == 1
    stream.close()  # twice is harmless
    assert cleanup.calls == 1
    assert list(stream) == []  # nothing more comes out of a closed stream


def test_f034_with_block_and_break(engine, messages, cleanup) -> None:
    with allm.stream_generate(engine, messages) as stream:
        for event in stream:
            if isinstance(event, TextDelta):
                break
        assert cleanup.calls == 0
    assert cleanup.calls == 1
    assert "closed" in repr(stream)


def test_f034_exception_in_the_consumer_loop_inside_with(engine, messages, cleanup) -> None:
    with pytest.raises(Boom), allm.stream_generate(engine, messages) as stream:
        for event in stream:
            if isinstance(event, TextDelta):
                raise Boom
    assert cleanup.calls == 1


def test_f034_exception_in_the_consumer_loop_without_with(engine, messages, cleanup) -> None:
    def consume() -> None:
        for event in allm.stream_generate(engine, messages):
            if isinstance(event, TextDelta):
                raise Boom

    with pytest.raises(Boom):
        consume()
    gc.collect()
    assert cleanup.calls == 1


def test_f034_abandoned_stream_is_cleaned_up_by_gc(engine, messages, cleanup) -> None:
    stream = allm.stream_generate(engine, messages)
    assert isinstance(next(stream), MessageStarted)
    assert cleanup.calls == 0
    del stream
    gc.collect()
    assert cleanup.calls == 1


def test_f034_collect_after_partial_consumption(engine, messages, cleanup) -> None:
    stream = allm.stream_generate(engine, messages)
    next(stream)
    next(stream)
    response = stream.collect()
    assert response.text == "abc"  # text_completed is authoritative
    assert cleanup.calls == 1
    stream.close()
    assert cleanup.calls == 1


def test_f034_a_finished_stream_is_not_cleaned_up_twice(engine, messages, cleanup) -> None:
    with allm.stream_generate(engine, messages) as stream:
        events = list(stream)
        assert isinstance(events[-1], MessageCompleted)
        assert cleanup.calls == 1
    stream.close()
    assert cleanup.calls == 1


def test_f034_closing_before_the_first_pull_opens_nothing(fake_engine, messages, cleanup) -> None:
    record: list[Any] = []
    engine = fake_engine(SCRIPT, record=record, cleanup_observer=cleanup)
    with allm.stream_generate(engine, messages):
        pass
    # Nothing was opened, so there is nothing to cancel.
    assert record == []
    assert cleanup.calls == 0


def test_f034_each_stream_is_cleaned_up_once(driver, engine, messages, cleanup) -> None:
    for _ in range(3):
        driver.collect(engine, messages)
    assert cleanup.calls == 3


# -- async ---------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_f034_async_break_then_aclose(engine, messages, cleanup) -> None:
    stream = await allm.astream_generate(engine, messages)
    async for event in stream:
        if isinstance(event, TextDelta):
            break
    assert cleanup.calls == 0
    await stream.aclose()
    assert cleanup.calls == 1
    await stream.aclose()  # twice is harmless
    assert cleanup.calls == 1
    assert [event async for event in stream] == []


@pytest.mark.anyio
async def test_f034_async_aclose_mid_stream(engine, messages, cleanup) -> None:
    stream = await allm.astream_generate(engine, messages)
    assert isinstance(await stream.__anext__(), MessageStarted)
    await stream.aclose()
    assert cleanup.calls == 1


@pytest.mark.anyio
async def test_f034_async_with_and_break(engine, messages, cleanup) -> None:
    async with await allm.astream_generate(engine, messages) as stream:
        async for event in stream:
            if isinstance(event, TextDelta):
                break
        assert cleanup.calls == 0
    assert cleanup.calls == 1
    assert "closed" in repr(stream)


@pytest.mark.anyio
async def test_f034_async_exception_in_the_consumer_loop(engine, messages, cleanup) -> None:
    with pytest.raises(Boom):
        async with await allm.astream_generate(engine, messages) as stream:
            async for event in stream:
                if isinstance(event, TextDelta):
                    raise Boom
    assert cleanup.calls == 1


@pytest.mark.anyio
async def test_f034_abandoned_async_stream_is_cleaned_up_by_gc(engine, messages, cleanup) -> None:
    stream = await allm.astream_generate(engine, messages)
    assert isinstance(await stream.__anext__(), MessageStarted)
    assert cleanup.calls == 0
    del stream
    gc.collect()
    assert cleanup.calls == 1
    await anyio.sleep(0)  # let the loop finalize the async generator too
    assert cleanup.calls == 1


@pytest.mark.anyio
async def test_f034_abandoned_async_stream_after_break(engine, messages, cleanup) -> None:
    stream = await allm.astream_generate(engine, messages)
    async for event in stream:
        if isinstance(event, TextDelta):
            break
    del stream, event
    gc.collect()
    await anyio.sleep(0)
    assert cleanup.calls == 1


@pytest.mark.anyio
async def test_f034_async_collect_after_partial_consumption(engine, messages, cleanup) -> None:
    stream = await allm.astream_generate(engine, messages)
    await stream.__anext__()
    response = await stream.collect()
    assert response.text == "abc"
    assert cleanup.calls == 1
    await stream.aclose()
    assert cleanup.calls == 1


@pytest.mark.anyio
async def test_f034_async_finished_stream_is_not_cleaned_up_twice(
    engine, messages, cleanup
) -> None:
    async with await allm.astream_generate(engine, messages) as stream:
        events = [event async for event in stream]
        assert isinstance(events[-1], MessageCompleted)
        assert cleanup.calls == 1
    del stream
    gc.collect()
    assert cleanup.calls == 1
