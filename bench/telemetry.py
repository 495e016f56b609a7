"""Per-call cost of telemetry on ``allm.generate`` with the Fake provider.

Four phases in one process, in this order, each the median of R samples of N calls:

1. ``baseline``: never instrumented (no handler, no tracer, debug logging off);
2. ``bridge_noop``: the OpenTelemetry bridge on over the API's default (non-recording) provider;
3. ``bridge_sdk``: the bridge on over the SDK with an in-memory exporter and metric reader
   (skipped when ``opentelemetry-sdk`` is not installed);
4. ``after_uninstrument``: the bridge turned off again.

Ratios are against the baseline of the same run. "No measurable cost" means the
``after_uninstrument`` ratio is within the run's noise (the spread of the baseline samples).

    python bench/telemetry.py [calls_per_sample] [samples]
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable

import allm
from allm import telemetry
from allm.providers.fake import finish, text, usage

SCRIPT = [text("hello"), usage(input_tokens=10, output_tokens=2), finish("stop")]
REQUEST = [allm.user("hi")]


def sample(calls: int) -> float:
    """Seconds per call of ``calls`` generates, each on its own one-script Fake engine (the
    Fake checks every script of an engine on each call, so one long script list would grow the
    per-call cost with ``calls``)."""
    engines = [
        allm.Engine(adapter="fake", model="bench-model", adapter_opts={"script": SCRIPT})
        for _ in range(calls)
    ]
    generate = allm.generate
    start = time.perf_counter()
    for engine in engines:
        generate(engine, REQUEST)
    return (time.perf_counter() - start) / calls


def phase(calls: int, samples: int) -> list[float]:
    sample(calls)  # warm up
    return [sample(calls) for _ in range(samples)]


def sdk_providers() -> tuple[object, object, Callable[[], int]] | None:
    try:
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    except ImportError:
        return None
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])

    def finished() -> int:
        count = len(exporter.get_finished_spans())
        exporter.clear()
        return count

    return tracer_provider, meter_provider, finished


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000
    samples = int(sys.argv[2]) if len(sys.argv) > 2 else 9
    assert telemetry.handlers() == 0 and telemetry.tracers() == 0, "start uninstrumented"

    results: dict[str, list[float]] = {"baseline": phase(calls, samples)}

    from allm.telemetry import otel

    otel.instrument()
    results["bridge_noop"] = phase(calls, samples)
    otel.uninstrument()

    spans_per_call = None
    sdk = sdk_providers()
    if sdk is not None:
        tracer_provider, meter_provider, finished = sdk
        otel.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
        results["bridge_sdk"] = phase(calls, samples)
        spans_per_call = finished() / (calls * (samples + 1))
        otel.uninstrument()

    results["after_uninstrument"] = phase(calls, samples)
    assert telemetry.handlers() == 0 and telemetry.tracers() == 0

    base = statistics.median(results["baseline"])
    spread = (max(results["baseline"]) - min(results["baseline"])) / base
    report: dict[str, object] = {"calls_per_sample": calls, "samples": samples}
    for name, values in results.items():
        median = statistics.median(values)
        report[f"{name}_us_per_call"] = round(median * 1e6, 2)
        report[f"{name}_vs_baseline"] = round(median / base, 3)
    report["baseline_spread"] = round(spread, 3)
    report["sdk_spans_per_call"] = spans_per_call
    off = statistics.median(results["after_uninstrument"]) / base
    report["ok"] = off <= 1 + max(spread, 0.05)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
