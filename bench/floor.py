"""allm against its floor, raw httpx with a minimal SSE reader, on the OpenAI, Anthropic and Gemini
wires, in one run.

    python bench/floor.py [rounds]          # default 7 rounds

The loopback server (bench/wires.py) runs in its own process and writes one HTTP chunk per SSE
event. Each measurement runs in a child process twice: with the standard library's json and
with orjson (allm's ``fast`` extra; the floor always uses the standard library). In a child the
floor and allm alternate round by round, so noise from the shared machine falls on both; the
figures are medians over the rounds (minima are printed too) and ratios against the floor of
the same run.

Figures: per chunk of a 20,000-chunk text stream; per fragment of a 2,000-fragment tool-call
stream (per call on Gemini, which sends whole calls); per non-streaming call (200 calls); 1,000
concurrent async streams of 20 chunks (wall time, and the longest event-loop stall); TCP
connections opened by 10 sequential streams on one client or engine; RSS growth per chunk over
a 500,000-chunk stream (events discarded, and folded by ``generate``); the first call after
import in a fresh process.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WIRES = ("openai", "anthropic", "gemini")


# -- the floor: httpx, a minimal SSE reader, json.loads -------------------------------------------


def sse_data(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The data of each SSE event: lines split on LF, data lines joined, dispatched on a blank."""
    tail = b""
    data: list[bytes] = []
    for chunk in chunks:
        lines = (tail + chunk).split(b"\n") if tail else chunk.split(b"\n")
        tail = lines.pop()
        for line in lines:
            if line[-1:] == b"\r":
                line = line[:-1]
            if not line:
                if data:
                    yield data[0] if len(data) == 1 else b"\n".join(data)
                    data = []
            elif line[:5] == b"data:":
                data.append(line[6:] if line[5:6] == b" " else line[5:])


def floor_openai(payload: bytes, text: list[str], args: list[str]) -> None:
    if payload == b"[DONE]":
        return
    for choice in json.loads(payload)["choices"]:
        delta = choice["delta"]
        if delta.get("content"):
            text.append(delta["content"])
        for call in delta.get("tool_calls") or ():
            args.append(call["function"].get("arguments") or "")


def floor_anthropic(payload: bytes, text: list[str], args: list[str]) -> None:
    event = json.loads(payload)
    if event["type"] == "content_block_delta":
        delta = event["delta"]
        if delta["type"] == "text_delta":
            text.append(delta["text"])
        elif delta["type"] == "input_json_delta":
            args.append(delta["partial_json"])


def floor_gemini(payload: bytes, text: list[str], args: list[str]) -> None:
    for candidate in json.loads(payload).get("candidates") or ():
        for part in candidate["content"]["parts"]:
            if "text" in part:
                text.append(part["text"])
            elif "functionCall" in part:
                args.append(json.dumps(part["functionCall"]["args"], separators=(",", ":")))


FLOOR_EVENTS = {"openai": floor_openai, "anthropic": floor_anthropic, "gemini": floor_gemini}


def floor_text(wire: str, body: dict[str, Any]) -> str:
    if wire == "openai":
        return str(body["choices"][0]["message"]["content"])
    if wire == "anthropic":
        return "".join(b["text"] for b in body["content"] if b["type"] == "text")
    return "".join(p.get("text", "") for p in body["candidates"][0]["content"]["parts"])


REQUEST = {"messages": [{"role": "user", "content": "go"}], "stream": True}


def floor_stream(client: Any, wire: str, url: str) -> int:
    text: list[str] = []
    args: list[str] = []
    on_event = FLOOR_EVENTS[wire]
    with client.stream("POST", url, json=REQUEST) as response:
        for payload in sse_data(response.iter_bytes()):
            on_event(payload, text, args)
    return len("".join(text)) + len("".join(args))


async def floor_astream(client: Any, wire: str, url: str) -> int:
    text: list[str] = []
    args: list[str] = []
    on_event = FLOOR_EVENTS[wire]
    async with client.stream("POST", url, json=REQUEST) as response:
        tail, data = b"", []
        async for chunk in response.aiter_bytes():  # sse_data, inlined for async
            lines = (tail + chunk).split(b"\n")
            tail = lines.pop()
            for line in lines:
                line = line.rstrip(b"\r")
                if not line:
                    if data:
                        on_event(b"\n".join(data), text, args)
                        data = []
                elif line[:5] == b"data:":
                    data.append(line[5:].lstrip(b" "))
    return len("".join(text)) + len("".join(args))


def floor_call(client: Any, wire: str, url: str) -> int:
    return len(floor_text(wire, client.post(url, json=REQUEST).json()))


# -- allm ----------------------------------------------------------------------------------------


def engine(wire: str, url: str, **opts: Any) -> Any:
    import allm
    from allm.providers import Anthropic, Gemini, OpenAI
    from bench.wires import MODELS

    adapter = {"openai": OpenAI, "anthropic": Anthropic, "gemini": Gemini}[wire]()
    return allm.Engine(  # its own adapter instance: its own connection pool
        adapter=adapter, model=MODELS[wire], adapter_opts={"base_url": url, **opts}, retry=False
    )


def allm_stream(eng: Any) -> int:
    import allm

    response = allm.generate(eng, [allm.user("go")], api_key="bench")
    assert response.finish_reason in ("stop", "tool_calls"), response.metadata.get("error")
    return len(response.text or "") + sum(len(c.raw_arguments or "") for c in response.tool_calls)


# -- measuring -----------------------------------------------------------------------------------


def interleaved(pairs: dict[str, Callable[[], Any]], rounds: int) -> dict[str, list[float]]:
    """Seconds per run of each function, alternating which goes first round by round."""
    samples: dict[str, list[float]] = {name: [] for name in pairs}
    names = list(pairs)
    for number in range(rounds):
        for name in names if number % 2 == 0 else names[::-1]:
            start = time.perf_counter()
            pairs[name]()
            samples[name].append(time.perf_counter() - start)
    return samples


def figure(samples: dict[str, list[float]], per: int, unit: float) -> dict[str, Any]:
    floor, ours = samples["floor"], samples["allm"]
    return {
        "floor": round(statistics.median(floor) / per * unit, 3),
        "allm": round(statistics.median(ours) / per * unit, 3),
        "ratio_median": round(statistics.median(ours) / statistics.median(floor), 3),
        "ratio_min": round(min(ours) / min(floor), 3),
        "floor_spread": round(max(floor) / min(floor), 2),
    }


_STATS: list[Any] = []


def connections(base: str) -> int:
    """Connections the server accepted so far (asked on one kept-alive connection of its own)."""
    import httpx

    if not _STATS:
        _STATS.append(httpx.Client())
        _STATS[0].get(base + "/_connections")
    return int(_STATS[0].get(base + "/_connections").text)


def measure(base: str, rounds: int, concurrency: bool) -> dict[str, Any]:
    import httpx

    from bench import wires

    report: dict[str, Any] = {}
    client = httpx.Client(timeout=60)
    for wire in WIRES:
        row: dict[str, Any] = {}
        for workload, per, unit in (
            ("text", wires.TEXT_CHUNKS, 1e6),
            ("tool", wires.TOOL_FRAGMENTS, 1e6),
            ("call", 200, 1e3),
        ):
            prefix = f"{base}/{wire}/{workload}"
            url = prefix + (wires.CALL_PATHS if workload == "call" else wires.PATHS)[wire]
            eng = engine(wire, prefix + wires.BASES[wire])
            if workload == "call":
                import allm

                def ours(eng: Any = eng) -> None:
                    for _ in range(200):
                        allm.generate(eng, [allm.user("go")], api_key="bench", streaming=False)

                def floor(url: str = url, wire: str = wire) -> None:
                    for _ in range(200):
                        floor_call(client, wire, url)

            else:
                assert floor_stream(client, wire, url) == allm_stream(eng)

                def ours(eng: Any = eng) -> None:
                    allm_stream(eng)

                def floor(url: str = url, wire: str = wire) -> None:
                    floor_stream(client, wire, url)

            ours()  # warm: modules, pools, connections
            row[workload] = figure(interleaved({"floor": floor, "allm": ours}, rounds), per, unit)
        small = f"{base}/{wire}/small"
        eng = engine(wire, small + wires.BASES[wire])
        fresh = httpx.Client()
        before = connections(base)
        for _ in range(10):
            floor_stream(fresh, wire, small + wires.PATHS[wire])
        middle = connections(base)
        for _ in range(10):
            allm_stream(eng)
        row["connections_10_streams"] = {
            "floor": middle - before,
            "allm": connections(base) - middle,
        }
        fresh.close()
        if concurrency:
            row["concurrent_1000"] = concurrent(base, wire, max(2, rounds // 3))
        report[wire] = row
    return report


def concurrent(base: str, wire: str, rounds: int, streams: int = 1000) -> dict[str, Any]:
    import asyncio

    import httpx

    import allm
    from allm.adapters.http import DEFAULT_KEEPALIVE_CONNECTIONS
    from bench import wires

    small = f"{base}/{wire}/small"
    lags: dict[str, float] = {"floor": 0.0, "allm": 0.0}

    async def watch(name: str, stop: asyncio.Event) -> None:
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            lags[name] = max(lags[name], now - last - 0.01)
            last = now

    async def run(name: str) -> None:
        stop = asyncio.Event()
        watcher = asyncio.create_task(watch(name, stop))
        if name == "floor":
            # The pool allm's own clients use: both sides then pay httpcore's pool bookkeeping
            # alike (it grows with idle x open connections; see docs/design/performance.md).
            keep = min(streams, DEFAULT_KEEPALIVE_CONNECTIONS)
            limits = httpx.Limits(max_connections=streams, max_keepalive_connections=keep)
            async with httpx.AsyncClient(limits=limits, timeout=120) as client:
                url = small + wires.PATHS[wire]
                await asyncio.gather(*(floor_astream(client, wire, url) for _ in range(streams)))
        else:
            eng = engine(wire, small + wires.BASES[wire])

            async def one() -> None:
                response = await allm.agenerate(eng, [allm.user("go")], api_key="bench")
                assert response.finish_reason == "stop", response.metadata.get("error")

            await asyncio.gather(*(one() for _ in range(streams)))
        stop.set()
        await watcher

    samples = interleaved(
        {"floor": lambda: asyncio.run(run("floor")), "allm": lambda: asyncio.run(run("allm"))},
        rounds,
    )
    result = figure(samples, 1, 1.0)
    result["floor_max_loop_stall_s"] = round(lags["floor"], 3)
    result["allm_max_loop_stall_s"] = round(lags["allm"], 3)
    return result


# -- memory and first call: one fresh process per sample ------------------------------------------


def rss_probe(base: str, wire: str, how: str) -> float:
    """Peak RSS growth per chunk over a 500k-chunk stream, after a warm-up stream."""
    from bench import wires

    def status(field: str) -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1]) * 1024
        raise LookupError(field)

    prefix = f"{base}/{wire}/memory"
    if how == "floor":
        import httpx

        client = httpx.Client(timeout=120)
        run: Callable[[], Any] = lambda: floor_stream(client, wire, prefix + wires.PATHS[wire])  # noqa: E731
    else:
        import allm

        eng = engine(wire, prefix + wires.BASES[wire])
        if how == "discard":

            def run() -> None:
                with allm.stream_generate(eng, [allm.user("go")], api_key="bench") as stream:
                    for _ in stream:
                        pass

        else:
            run = lambda: allm_stream(eng)  # noqa: E731
    run()  # warm-up: every module, buffer and pool that a stream needs
    import gc

    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak to the current RSS
    start = status("VmRSS")
    run()
    return (status("VmHWM") - start) / wires.MEMORY_CHUNKS


FIRST_CALL = """
import time
t0 = time.perf_counter()
{body}
print(time.perf_counter() - t0)
"""
FIRST_ALLM = """import allm
e = allm.Engine(adapter={wire!r}, model={model!r}, adapter_opts={{"base_url": {url!r}}}, retry=False)
r = allm.generate(e, [allm.user("go")], api_key="bench")
assert r.finish_reason == "stop", r.metadata
"""
FIRST_FLOOR = """import httpx, json
from bench.floor import floor_stream
with httpx.Client() as c:
    assert floor_stream(c, {wire!r}, {url!r})
"""


def first_call(base: str, rounds: int, env: dict[str, str]) -> dict[str, Any]:
    from bench import wires

    report = {}
    for wire in WIRES:
        small = f"{base}/{wire}/small"
        bodies = {
            "floor": FIRST_FLOOR.format(wire=wire, url=small + wires.PATHS[wire]),
            "allm": FIRST_ALLM.format(
                wire=wire, model=wires.MODELS[wire], url=small + wires.BASES[wire]
            ),
        }
        samples: dict[str, list[float]] = {"floor": [], "allm": []}
        for number in range(rounds):
            for name in ("floor", "allm") if number % 2 == 0 else ("allm", "floor"):
                out = subprocess.run(
                    [sys.executable, "-c", FIRST_CALL.format(body=bodies[name])],
                    check=True,
                    capture_output=True,
                    text=True,
                    env=env,
                    cwd=HERE.parent,
                ).stdout
                samples[name].append(float(out.split()[-1]))
        report[wire] = figure(samples, 1, 1e3)
    return report


# -- the run -------------------------------------------------------------------------------------


def child(args: list[str], env: dict[str, str]) -> Any:
    out = subprocess.run(
        [sys.executable, str(Path(__file__)), *args],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=HERE.parent,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def start_server(*flags: str) -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.wires", *flags],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=HERE.parent,
    )
    assert server.stdout is not None
    return server, server.stdout.readline().strip()


def stop_server(server: subprocess.Popen[str]) -> None:
    assert server.stdin is not None
    server.stdin.close()
    server.wait(timeout=30)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    paths = [str(HERE.parent), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    base_env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    stdlib_env = {**base_env, "ALLM_BENCH_NO_ORJSON": "1"}
    started = time.time()
    import allm

    report: dict[str, Any] = {"rounds": rounds, "cpus": os.cpu_count(), "allm": allm.__file__}
    report["load_avg_start"] = os.getloadavg()
    server, base = start_server()
    try:
        report["stdlib_json"] = child(["--measure", base, str(rounds), "1"], stdlib_env)
        report["orjson"] = child(["--measure", base, str(rounds), "0"], base_env)
        report["first_call_ms"] = first_call(base, rounds, stdlib_env)
    finally:
        stop_server(server)
    server, base = start_server("memory")
    try:
        memory: dict[str, Any] = {}
        for wire in WIRES:
            memory[wire] = {
                how: round(child(["--rss", base, wire, how], base_env), 2)
                for how in ("floor", "discard", "generate")
            }
        report["rss_bytes_per_chunk"] = memory
    finally:
        stop_server(server)
    report["load_avg_end"] = os.getloadavg()
    report["seconds"] = round(time.time() - started, 1)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    if os.environ.get("ALLM_BENCH_NO_ORJSON"):
        sys.modules["orjson"] = None  # type: ignore[assignment]  # allm falls back to stdlib json
    if sys.argv[1:2] == ["--measure"]:
        _, _, url, count, with_concurrency = sys.argv
        print(json.dumps(measure(url, int(count), with_concurrency == "1")))
    elif sys.argv[1:2] == ["--concurrent"]:
        _, _, url, wire_name, count = sys.argv
        print(json.dumps(concurrent(url, wire_name, int(count))))
    elif sys.argv[1:2] == ["--first-call"]:
        _, _, url, count = sys.argv
        print(json.dumps(first_call(url, int(count), dict(os.environ))))
    elif sys.argv[1:2] == ["--rss"]:
        _, _, url, wire_name, how = sys.argv
        print(json.dumps(rss_probe(url, wire_name, how)))
    else:
        main()
