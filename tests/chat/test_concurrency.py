"""Parallel tools: bounded concurrency, input order, threads vs the event loop (§16.7; item 57)."""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

import anyio
import pytest
from tests.chat.support import (
    USER,
    call_turn,
    check_step_grammar,
    make_engine,
    make_tool,
    of_type,
    text_turn,
)

import allm
from allm.errors import ConfigurationError
from allm.events import ToolExecutionStarted, ToolResultEncoded

NAP = 0.2


class Sleeper:
    """A sync handler that sleeps, tracking how many copies run at once."""

    def __init__(self, naps: dict[str, float] | None = None) -> None:
        self.naps = naps or {}
        self.lock = threading.Lock()
        self.running = 0
        self.peak = 0
        self.finished: list[str] = []

    def __call__(self, arguments: dict[str, Any]) -> str:
        with self.lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        time.sleep(self.naps.get(arguments["k"], NAP))
        with self.lock:
            self.running -= 1
            self.finished.append(arguments["k"])
        return f"result-{arguments['k']}"


def five_calls() -> list[Any]:
    return call_turn(*[(f"c{i}", "nap", {"k": str(i)}) for i in range(5)])


def test_f057_parallel_tools_run_concurrently(api) -> None:
    sleeper = Sleeper()
    engine = make_engine([five_calls()], [make_tool("nap", sleeper)])
    result = api.step(engine, USER, max_concurrency=5)
    assert sleeper.peak == 5  # all five were running at once: no wall-clock bound needed
    assert [m.tool_call_id for m in result.tool_results] == [f"c{i}" for i in range(5)]
    assert [m.content for m in result.tool_results] == [f"result-{i}" for i in range(5)]


def test_f057_max_concurrency_1_runs_one_at_a_time(api) -> None:
    sleeper = Sleeper()
    engine = make_engine([five_calls()], [make_tool("nap", sleeper)])
    started = time.monotonic()
    result = api.step(engine, USER, max_concurrency=1)
    elapsed = time.monotonic() - started
    assert elapsed >= 5 * NAP
    assert sleeper.peak == 1
    assert [m.tool_call_id for m in result.tool_results] == [f"c{i}" for i in range(5)]


def test_f057_max_concurrency_bounds_the_parallelism(api) -> None:
    sleeper = Sleeper({str(i): 0.05 for i in range(5)})
    engine = make_engine([five_calls()], [make_tool("nap", sleeper)])
    api.step(engine, USER, max_concurrency=2)
    assert sleeper.peak == 2


def test_f057_parallel_tools_input_order(api) -> None:
    # Later calls finish first; results and stream trios still follow the input order.
    naps = {"0": 0.3, "1": 0.2, "2": 0.1, "3": 0.0}
    sleeper = Sleeper(naps)
    script = call_turn(*[(f"c{i}", "nap", {"k": str(i)}) for i in range(4)])
    engine = make_engine([script, text_turn()], [make_tool("nap", sleeper)])
    result = api.chat(engine, USER, request_id="r57")
    assert sleeper.finished == ["3", "2", "1", "0"]
    tool_messages = [m for m in result.thread.messages if m.role == "tool"]
    assert [m.tool_call_id for m in tool_messages] == ["c0", "c1", "c2", "c3"]
    sleeper = Sleeper(naps)
    events = api.stream_step(make_engine([script], [make_tool("nap", sleeper)]), USER)
    assert sleeper.finished == ["3", "2", "1", "0"]
    assert check_step_grammar(events) == ["c0", "c1", "c2", "c3"]
    assert [e.id for e in of_type(events, ToolResultEncoded)] == ["c0", "c1", "c2", "c3"]
    assert [e.id for e in of_type(events, ToolExecutionStarted)] == ["c0", "c1", "c2", "c3"]


def test_f057_default_concurrency_is_parallel(api) -> None:
    sleeper = Sleeper({str(i): 0.1 for i in range(3)})
    script = call_turn(*[(f"c{i}", "nap", {"k": str(i)}) for i in range(3)])
    api.step(make_engine([script], [make_tool("nap", sleeper)]), USER)
    assert sleeper.peak >= 2


@pytest.mark.parametrize("bad", [0, -2, 1.5, True])
def test_f057_invalid_max_concurrency_raises(api, bad: Any) -> None:
    record: list[Any] = []
    with pytest.raises(ConfigurationError):
        api.chat(
            make_engine([five_calls()], [make_tool("nap", Sleeper())], record=record),
            USER,
            max_concurrency=bad,
        )
    assert record == []


def test_async_handlers_run_concurrently_under_the_async_api() -> None:
    running = {"now": 0, "peak": 0}

    async def nap(arguments: dict[str, Any]) -> str:
        running["now"] += 1
        running["peak"] = max(running["peak"], running["now"])
        await anyio.sleep(NAP)
        running["now"] -= 1
        return arguments["k"]

    async def main() -> allm.StepResult:
        engine = make_engine([five_calls()], [make_tool("nap", nap)])
        return await allm.astep(engine, USER, max_concurrency=5)

    started = time.monotonic()
    result = anyio.run(main)
    assert time.monotonic() - started < 0.8
    assert running["peak"] == 5
    assert [m.content for m in result.tool_results] == ["0", "1", "2", "3", "4"]


def test_sync_handler_does_not_block_the_event_loop() -> None:
    ticks: list[float] = []

    def slow(arguments: dict[str, Any]) -> str:
        time.sleep(0.5)
        return "slept"

    async def ticker(stop: anyio.Event) -> None:
        while not stop.is_set():
            ticks.append(time.monotonic())
            await anyio.sleep(0.02)

    async def main() -> allm.StepResult:
        stop = anyio.Event()
        async with anyio.create_task_group() as group:
            group.start_soon(ticker, stop)
            engine = make_engine([call_turn(("c1", "slow", {}))], [make_tool("slow", slow)])
            result = await allm.astep(engine, USER)
            stop.set()
        return result

    result = anyio.run(main)
    assert result.tool_results[0].content == "slept"
    # The ticker kept going while the handler slept: ~25 ticks in 0.5 s; a blocked loop gives 1-2.
    assert len(ticks) >= 10
    gaps = [later - earlier for earlier, later in itertools.pairwise(ticks)]
    assert max(gaps) < 0.4


def test_async_handler_is_refused_by_the_sync_api(api) -> None:
    ran: list[Any] = []

    async def handler(arguments: dict[str, Any]) -> str:
        ran.append(arguments)
        return "async ok"

    def engine(record: list[Any]) -> allm.Engine:
        return make_engine(
            [call_turn(("c1", "t", {})), text_turn()], [make_tool("t", handler)], record=record
        )

    record: list[Any] = []
    if api.is_async:
        result = api.chat(engine(record), USER)
        assert result.halted_reason == "completed"
        assert ran == [{}]
        assert len(record) == 2
        return
    for run in (api.chat, api.step, api.stream, api.stream_step):
        with pytest.raises(ConfigurationError) as caught:
            run(engine(record), USER)
        assert caught.value.reason == "async_handler_in_sync_api"
        assert "'t'" in caught.value.problems[0]
    assert record == []  # refused before any model call
    assert ran == []


def test_async_callable_object_is_refused_by_the_sync_api(api) -> None:
    class Handler:
        async def __call__(self, arguments: dict[str, Any]) -> str:
            return "ok"

    record: list[Any] = []
    engine = make_engine([call_turn(("c1", "t", {}))], [make_tool("t", Handler())], record=record)
    if api.is_async:
        assert api.step(engine, USER).tool_results[0].content == "ok"
    else:
        with pytest.raises(ConfigurationError) as caught:
            api.step(engine, USER)
        assert caught.value.reason == "async_handler_in_sync_api"
        assert record == []
