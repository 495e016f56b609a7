"""allm-py against raw httpx (with a hand-written decoder) and the official ``openai`` SDK, on a
loopback server speaking OpenAI Chat Completions. All three run in the same process, same run.

    pip install openai            # only for this benchmark
    python bench/providers.py [runs]

Workloads: a 20,000-chunk text stream, a 2,000-fragment tool-call stream, 200 sequential
non-streaming calls, and 200 concurrent streams (async). Reported: medians over ``runs``, the
cost per chunk, and ratios against raw httpx.
"""

from __future__ import annotations

import asyncio
import functools
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx

import allm
from allm.providers.openai import OpenAI
from allm.testing.loopback import LoopbackServer

MODEL = "gpt-4o-mini"
SSE = {"content-type": "text/event-stream; charset=utf-8"}


def _chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
    payload = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        "usage": None,
    }
    return b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"


def text_stream(chunks: int) -> bytes:
    parts = [_chunk({"role": "assistant", "content": ""})]
    parts += [_chunk({"content": f"w{i} "}) for i in range(chunks)]
    parts.append(_chunk({}, "stop"))
    usage = {"prompt_tokens": 9, "completion_tokens": chunks, "total_tokens": chunks + 9}
    parts.append(
        b"data: "
        + json.dumps(
            {
                "id": "chatcmpl-bench",
                "object": "chat.completion.chunk",
                "created": 1,
                "model": MODEL,
                "choices": [],
                "usage": usage,
            }
        ).encode()
        + b"\n\n"
    )
    parts.append(b"data: [DONE]\n\n")
    return b"".join(parts)


def tool_stream(fragments: int) -> bytes:
    first = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "index": 0,
                "id": "call_1",
                "type": "function",
                "function": {"name": "lookup", "arguments": ""},
            }
        ],
    }
    argument = json.dumps({"items": [f"v{i}" for i in range(fragments)]})
    size = max(1, len(argument) // fragments)
    pieces = [argument[i : i + size] for i in range(0, len(argument), size)]
    parts = [_chunk(first)]
    parts += [_chunk({"tool_calls": [{"index": 0, "function": {"arguments": p}}]}) for p in pieces]
    parts += [_chunk({}, "tool_calls"), b"data: [DONE]\n\n"]
    return b"".join(parts)


def nonstream_body() -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": 1,
            "model": MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "Hello there."},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12},
        }
    ).encode()


def raw_httpx_stream(client: httpx.Client, url: str) -> int:
    """The floor: httpx lines, json.loads, append. No events, no error handling."""
    pieces: list[str] = []
    arguments: list[str] = []
    with client.stream("POST", url, json={"model": MODEL, "stream": True}) as response:
        for line in response.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            for choice in chunk["choices"]:
                delta = choice["delta"]
                if delta.get("content"):
                    pieces.append(delta["content"])
                for call in delta.get("tool_calls") or ():
                    arguments.append(call["function"].get("arguments") or "")
    return len("".join(pieces)) + len("".join(arguments))


def sdk_stream(client: Any) -> int:
    pieces: list[str] = []
    arguments: list[str] = []
    stream = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "go"}], stream=True
    )
    for chunk in stream:
        for choice in chunk.choices:
            if choice.delta.content:
                pieces.append(choice.delta.content)
            for call in choice.delta.tool_calls or ():
                arguments.append(call.function.arguments or "")
    return len("".join(pieces)) + len("".join(arguments))


def allm_stream(engine: allm.Engine) -> int:
    response = allm.generate(engine, [allm.user("go")], api_key="bench")
    assert response.finish_reason in ("stop", "tool_calls"), response.metadata.get("error")
    return len(response.output_text or "") + sum(
        len(c.raw_arguments or "") for c in response.tool_calls
    )


def median_time(function: Callable[[], Any], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


async def concurrent(server_url: str, streams: int) -> dict[str, float]:
    import openai

    engine = allm.Engine(adapter=OpenAI(base_url=server_url + "/v1"), model=MODEL, retry=False)
    results: dict[str, float] = {}

    async def one_allm() -> None:
        response = await allm.agenerate(engine, [allm.user("go")], api_key="bench")
        assert response.finish_reason == "stop", response.metadata.get("error")

    start = time.perf_counter()
    await asyncio.gather(*(one_allm() for _ in range(streams)))
    results["allm"] = time.perf_counter() - start

    client = openai.AsyncOpenAI(api_key="bench", base_url=server_url + "/v1", max_retries=0)

    async def one_sdk() -> None:
        stream = await client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "go"}], stream=True
        )
        async for _ in stream:
            pass

    start = time.perf_counter()
    await asyncio.gather(*(one_sdk() for _ in range(streams)))
    results["openai_sdk"] = time.perf_counter() - start
    await client.close()

    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=streams)) as raw:

        async def one_raw() -> None:
            async with raw.stream("POST", server_url + "/v1/chat/completions", json={}) as response:
                async for line in response.aiter_lines():
                    if line.startswith("data: ") and line != "data: [DONE]":
                        json.loads(line[6:])

        start = time.perf_counter()
        await asyncio.gather(*(one_raw() for _ in range(streams)))
        results["raw_httpx"] = time.perf_counter() - start
    return results


def main() -> None:
    import openai

    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    report: dict[str, Any] = {"runs": runs}
    workloads = {
        "text_stream_20000_chunks": (text_stream(20_000), 20_000),
        "tool_stream_2000_fragments": (tool_stream(2_000), 2_000),
    }
    for label, (body, chunks) in workloads.items():
        with LoopbackServer() as server:
            server.add(
                "POST",
                "/v1/chat/completions",
                headers=SSE,
                body=body,
                chunks=list(range(65536, len(body), 65536)),
            )
            url = server.url + "/v1/chat/completions"
            raw_client = httpx.Client()
            sdk_client = openai.OpenAI(api_key="bench", base_url=server.url + "/v1", max_retries=0)
            engine = allm.Engine(
                adapter=OpenAI(base_url=server.url + "/v1"), model=MODEL, retry=False
            )
            assert (
                raw_httpx_stream(raw_client, url) == sdk_stream(sdk_client) == allm_stream(engine)
            )
            raw = median_time(functools.partial(raw_httpx_stream, raw_client, url), runs)
            sdk = median_time(functools.partial(sdk_stream, sdk_client), runs)
            ours = median_time(functools.partial(allm_stream, engine), runs)
            report[label] = {
                "raw_httpx_us_per_chunk": round(raw / chunks * 1e6, 2),
                "openai_sdk_us_per_chunk": round(sdk / chunks * 1e6, 2),
                "allm_us_per_chunk": round(ours / chunks * 1e6, 2),
                "allm_vs_raw_httpx": round(ours / raw, 2),
                "allm_vs_openai_sdk": round(ours / sdk, 2),
            }
            raw_client.close()
            sdk_client.close()

    with LoopbackServer() as server:
        server.add(
            "POST",
            "/v1/chat/completions",
            headers={"content-type": "application/json"},
            body=nonstream_body(),
        )
        calls = 200
        raw_client = httpx.Client()
        sdk_client = openai.OpenAI(api_key="bench", base_url=server.url + "/v1", max_retries=0)
        engine = allm.Engine(adapter=OpenAI(base_url=server.url + "/v1"), model=MODEL, retry=False)

        def raw_calls() -> None:
            for _ in range(calls):
                raw_client.post(server.url + "/v1/chat/completions", json={}).json()

        def sdk_calls() -> None:
            for _ in range(calls):
                sdk_client.chat.completions.create(
                    model=MODEL, messages=[{"role": "user", "content": "go"}]
                )

        def allm_calls() -> None:
            for _ in range(calls):
                allm.generate(engine, [allm.user("go")], api_key="bench", streaming=False)

        raw, sdk, ours = (median_time(f, runs) for f in (raw_calls, sdk_calls, allm_calls))
        report["nonstreaming_200_calls"] = {
            "raw_httpx_ms_per_call": round(raw / calls * 1e3, 3),
            "openai_sdk_ms_per_call": round(sdk / calls * 1e3, 3),
            "allm_ms_per_call": round(ours / calls * 1e3, 3),
            "allm_vs_raw_httpx": round(ours / raw, 2),
            "allm_vs_openai_sdk": round(ours / sdk, 2),
        }

    with LoopbackServer() as server:
        server.add("POST", "/v1/chat/completions", headers=SSE, body=text_stream(200))
        timings = [asyncio.run(concurrent(server.url, 200)) for _ in range(max(1, runs // 2))]
        report["concurrent_200_streams_of_200_chunks"] = {
            key + "_s": round(statistics.median(t[key] for t in timings), 3)
            for key in ("raw_httpx", "openai_sdk", "allm")
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
