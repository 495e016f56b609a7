"""Client-side limits: concurrency counted by a real loopback server, request spacing, the
providers' rate headers, shared per provider and key across engines, threads and event loops."""

from __future__ import annotations

import pickle
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio
import pytest

import allm
from allm import keys, telemetry
from allm.limits import EnterSlot, Limiter, Limits, limiter_for, reset_seconds, server_pause
from allm.providers import OpenAI
from allm.testing.loopback import Answer, LoopbackServer, ReceivedRequest

from .support import SSE, wire

TEXT_STREAM = wire("openai-chat", "text_stream")
PATH = "/v1/chat/completions"


@pytest.fixture(autouse=True)
def openai_key() -> None:
    keys.put("openai", "sk-limits-key")


@pytest.fixture
def server() -> Any:
    with LoopbackServer() as running:
        # a few slow writes, so calls overlap at the server
        running.add(
            "POST", PATH, status=200, headers=SSE, body=TEXT_STREAM, chunks=[200, 400], delay=0.004
        )
        yield running


def _engine(server: LoopbackServer, **limits: Any) -> allm.Engine:
    return allm.Engine(
        adapter=OpenAI(base_url=server.url + "/v1"),
        model="gpt-4o-mini",
        limits=Limits(**limits),
        retry=False,
    )


def test_200_concurrent_async_calls_never_exceed_five_in_flight(server: LoopbackServer) -> None:
    engine = _engine(server, max_concurrency=5)
    results: list[allm.Response] = []

    async def one() -> None:
        results.append(await allm.agenerate(engine, [allm.user("hi")]))

    async def main() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(200):
                group.start_soon(one)

    anyio.run(main)
    assert len(results) == 200
    assert all(r.finish_reason == "stop" for r in results)
    assert len(server.requests) == 200
    assert 1 <= server.max_in_flight <= 5


def test_8_threads_of_25_calls_never_exceed_five_in_flight(server: LoopbackServer) -> None:
    # one engine per thread: the limit belongs to the provider and key, not to an engine
    def worker(_: int) -> list[str]:
        engine = _engine(server, max_concurrency=5)
        return [str(allm.generate(engine, [allm.user("hi")]).finish_reason) for _ in range(25)]

    with ThreadPoolExecutor(8) as pool:
        finishes = [f for batch in pool.map(worker, range(8)) for f in batch]
    assert finishes == ["stop"] * 200
    assert len(server.requests) == 200
    assert 1 <= server.max_in_flight <= 5


def test_threads_and_an_event_loop_share_one_limit(server: LoopbackServer) -> None:
    engine = _engine(server, max_concurrency=3)

    def threads() -> None:
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda _: allm.generate(engine, [allm.user("x")]), range(12)))

    async def tasks() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(12):
                group.start_soon(allm.agenerate, engine, [allm.user("x")])

    side = threading.Thread(target=threads)
    side.start()
    anyio.run(tasks)
    side.join()
    assert len(server.requests) == 24
    assert server.max_in_flight <= 3


def test_requests_per_minute_spaces_the_calls() -> None:
    engine = allm.Engine(
        adapter="fake",
        adapter_opts={"scripts": [[("text", "ok")]] * 4},
        limits=Limits(requests_per_minute=600),  # one every 0.1 s
    )
    waits: list[dict[str, Any]] = []
    handler = telemetry.attach(lambda n, m, meta: waits.append({**m, **meta}), ["allm.limit.wait"])
    started = time.monotonic()
    try:
        for _ in range(4):
            assert allm.generate(engine, [allm.user("hi")]).text == "ok"
    finally:
        telemetry.detach(handler)
    assert time.monotonic() - started >= 0.25  # three gaps of 0.1 s, asserted loosely
    assert [w["kind"] for w in waits] == ["rate"] * 3
    assert all(w["delay_ms"] > 0 and w["provider"] == "fake" for w in waits)


def test_a_429_with_a_reset_header_slows_the_next_calls(driver: Any) -> None:
    # Timed at the server: the pause runs from the client's reading of the 429, which comes
    # after the server received that request, so the gap between arrivals is at least the
    # pause however slowly the client runs.
    rate_limited = Answer(
        status=429,
        headers={
            "content-type": "application/json",
            "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-reset-requests": "600ms",
        },
        body=wire("openai-chat", "error_429_rate_limit"),
    )
    arrivals: list[float] = []

    def answer(received: ReceivedRequest) -> Answer:
        arrivals.append(time.monotonic())
        if len(arrivals) == 1:
            return rate_limited
        return Answer(status=200, headers=SSE, body=TEXT_STREAM)

    with LoopbackServer() as server:
        server.route("POST", PATH, answer)
        engine = _engine(server, max_concurrency=10)
        waits: list[dict[str, Any]] = []
        handler = telemetry.attach(
            lambda n, m, meta: waits.append({**m, **meta}), ["allm.limit.wait"]
        )
        try:
            first = driver.generate(engine, [allm.user("hi")])
            second = driver.generate(engine, [allm.user("hi")])
        finally:
            telemetry.detach(handler)
    assert first.metadata["error"].reason == "rate_limited"
    assert second.finish_reason == "stop"
    assert len(arrivals) == 2
    assert arrivals[1] - arrivals[0] >= 0.55  # the server asked for 600 ms
    # the wait announced is what was left of the pause when the second call began
    assert [w["kind"] for w in waits] in (["rate"], [])
    assert all(0 < w["delay_ms"] <= 700 for w in waits)


def test_engines_share_a_limiter_per_provider_and_key_only() -> None:
    limits = Limits(max_concurrency=2)
    one = limiter_for("openai", "sk-a", limits)
    assert limiter_for("openai", "sk-a", limits) is one
    assert limiter_for("openai", "sk-b", limits) is not one
    assert limiter_for("anthropic", "sk-a", limits) is not one
    from allm import limits as module

    assert all("sk-a" not in repr(slot) for slot in module._registry)
    # the latest limits given apply to the shared state
    assert limiter_for("openai", "sk-a", Limits(max_concurrency=4)).limits.max_concurrency == 4


def test_a_cancelled_waiter_gives_its_place_back() -> None:
    limiter = Limiter("fake", Limits(max_concurrency=1))
    assert limiter.try_enter()

    async def main() -> None:
        with anyio.move_on_after(0.05):
            await EnterSlot(limiter).run_async(None)  # type: ignore[arg-type]
        assert limiter.in_flight == 1 and not limiter._waiters
        # granted, then cancelled before it ran: the slot is passed on, not lost
        waiter_task_done = anyio.Event()

        async def waiter() -> None:
            await EnterSlot(limiter).run_async(None)  # type: ignore[arg-type]
            waiter_task_done.set()

        async with anyio.create_task_group() as group:
            group.start_soon(waiter)
            await anyio.sleep(0.01)
            limiter.leave()
            await waiter_task_done.wait()
        assert limiter.in_flight == 1
        limiter.leave()
        assert limiter.in_flight == 0

    anyio.run(main)


def test_a_thread_waits_for_a_slot_without_polling() -> None:
    limiter = Limiter("fake", Limits(max_concurrency=1))
    assert limiter.try_enter()
    waited: list[float] = []
    worker = threading.Thread(target=lambda: waited.append(EnterSlot(limiter).run_sync(None)))  # type: ignore[arg-type]
    worker.start()
    time.sleep(0.05)
    assert limiter.in_flight == 1 and len(limiter._waiters) == 1
    limiter.leave()
    worker.join(2)
    assert waited and waited[0] > 0 and limiter.in_flight == 1


def test_tokens_per_minute_books_the_estimate_and_settles_the_real_count() -> None:
    limiter = Limiter("fake", Limits(tokens_per_minute=1000))
    assert limiter.reserve(600) == 0
    delay = limiter.reserve(600)
    assert 10 < delay <= 13  # 200 missing tokens at 1000 a minute
    limiter.settle_tokens(600, 100)  # the first call used far fewer
    assert limiter.reserve(0) < delay
    Limiter("fake", Limits()).settle_tokens(5, 10)  # nothing to settle without a token rate


def test_usage_settles_the_bucket_after_a_call() -> None:
    engine = allm.Engine(
        adapter="fake",
        adapter_opts={
            "scripts": [[("text", "ok"), ("usage", {"input_tokens": 3, "output_tokens": 2})]] * 2
        },
        limits=Limits(tokens_per_minute=100_000),
    )
    assert allm.generate(engine, [allm.user("hi")]).usage.total_tokens in (None, 5)
    assert allm.generate(engine, [allm.user("hi")], streaming=False).text == "ok"


def test_reset_headers_of_both_spellings() -> None:
    assert reset_seconds("6m0s") == 360
    assert reset_seconds("20ms") == pytest.approx(0.02)
    assert reset_seconds("1.5") == 1.5
    assert reset_seconds("1h2m3.5s") == pytest.approx(3723.5)
    assert reset_seconds(None) is None
    assert reset_seconds("soon") is None
    assert reset_seconds("2026-01-01T00:00:00") is None  # no zone: unreadable
    assert reset_seconds("2030-01-01T00:00:10Z", now=1893456000.0) == pytest.approx(10)
    anthropic = {
        "anthropic-ratelimit-requests-remaining": "0",
        "anthropic-ratelimit-requests-reset": "2030-01-01T00:00:10Z",
    }
    assert server_pause(200, anthropic) is not None
    assert (
        server_pause(
            200, {"x-ratelimit-remaining-requests": "4", "x-ratelimit-reset-requests": "1s"}
        )
        is None
    )
    assert server_pause(429, {"retry-after": "2"}) == 2
    assert server_pause(
        429, {"x-ratelimit-reset-tokens": "375ms", "x-ratelimit-reset-requests": "2s"}
    ) == pytest.approx(0.375)
    assert server_pause(429, {}) is None
    assert (
        server_pause(200, {"x-ratelimit-remaining-tokens": "x", "x-ratelimit-reset-tokens": "1s"})
        is None
    )


def test_limits_are_checked_and_round_trip() -> None:
    with pytest.raises(allm.errors.ConfigurationError) as caught:
        Limits(requests_per_minute=0, tokens_per_minute=-1, max_concurrency=1.5)  # type: ignore[arg-type]
    assert len(caught.value.problems) == 3
    with pytest.raises(allm.errors.ConfigurationError):
        allm.Engine(adapter="fake", limits={"max_concurrency": 1})
    limits = Limits(requests_per_minute=60, max_concurrency=2)
    assert allm.from_json(allm.to_json(limits)) == limits
    assert pickle.loads(pickle.dumps(limits)) == limits
    engine = allm.Engine(adapter="fake", limits=limits)
    assert allm.from_json(allm.to_json(engine)).limits == limits


def test_a_retry_books_another_request_and_reads_the_headers_again(driver: Any) -> None:
    with LoopbackServer() as server:
        server.add(
            "POST",
            PATH,
            status=503,
            headers={"content-type": "application/json", "retry-after": "0"},
            body=wire("openai-chat", "error_500_server_error"),
        )
        server.add("POST", PATH, status=200, headers=SSE, body=TEXT_STREAM)
        engine = allm.Engine(
            adapter=OpenAI(base_url=server.url + "/v1"),
            model="gpt-4o-mini",
            limits=Limits(requests_per_minute=6000, max_concurrency=1),
            retry={"base_delay_ms": 0, "jitter_ms": 0},
        )
        response = driver.generate(engine, [allm.user("hi")])
        assert response.finish_reason == "stop"
        assert len(server.requests) == 2
        assert server.max_in_flight == 1


def test_usage_counts_of_every_shape() -> None:
    from allm.execution.limiting import _used

    assert _used({"input_tokens": 2, "output_tokens": 3}) == 5
    assert _used(allm.Usage(total_tokens=9)) == 9
    assert _used(allm.Usage(output_tokens=4)) == 4
    assert _used(allm.Usage()) is None
    assert _used(None) is None
