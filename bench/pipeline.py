"""Per-event cost of the stream pipeline: Fake adapter -> runner -> driver -> collector.

A script of N text entries is streamed and folded by ``allm.generate`` (sync) and
``allm.agenerate`` (async); the cost per event is the median over R runs. The baseline, measured
in the same run, is the least any pipeline can do: a generator that builds one ``TextDelta`` per
entry and a loop that appends its text.

    python bench/pipeline.py [events] [runs]
"""

from __future__ import annotations

import json
import statistics
import sys
import time

import anyio

import allm
from allm.events import TextDelta
from allm.providers.fake import finish, text


def _engine(events: int) -> allm.Engine:
    script = [text("x")] * events + [finish("stop")]
    return allm.Engine(adapter="fake", adapter_opts={"scripts": [script] * 1000})


def bench_sync(events: int, runs: int) -> list[float]:
    engine = _engine(events)
    request = [allm.user("go")]
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        response = allm.generate(engine, request)
        samples.append((time.perf_counter() - start) / events)
        assert len(response.output_text or "") == events
    return samples


def bench_async(events: int, runs: int) -> list[float]:
    engine = _engine(events)
    request = [allm.user("go")]

    async def main() -> list[float]:
        samples = []
        for _ in range(runs):
            start = time.perf_counter()
            response = await allm.agenerate(engine, request)
            samples.append((time.perf_counter() - start) / events)
            assert len(response.output_text or "") == events
        return samples

    return anyio.run(main)


def bench_baseline(events: int, runs: int) -> list[float]:
    def source(n: int):  # type: ignore[no-untyped-def]
        for _ in range(n):
            yield TextDelta("x")

    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        parts = []
        for event in source(events):
            parts.append(event.delta)
        "".join(parts)
        samples.append((time.perf_counter() - start) / events)
    return samples


def main() -> None:
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    baseline = statistics.median(bench_baseline(events, runs))
    sync = statistics.median(bench_sync(events, runs))
    asynchronous = statistics.median(bench_async(events, runs))
    print(
        json.dumps(
            {
                "events_per_run": events,
                "runs": runs,
                "baseline_us_per_event": round(baseline * 1e6, 3),
                "sync_us_per_event": round(sync * 1e6, 3),
                "async_us_per_event": round(asynchronous * 1e6, 3),
                "sync_vs_baseline": round(sync / baseline, 2),
                "async_vs_baseline": round(asynchronous / baseline, 2),
                "target_us_per_event": 10,
                "ok": sync < 10e-6 and asynchronous < 10e-6,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
