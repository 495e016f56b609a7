"""Client cost of embedding 10,000 inputs of 1,536 dimensions on the OpenAI wire.

Both sides send the same batches (2,048 inputs per request, one request at a time) to the same
``httpx.MockTransport``, which answers each with a prepared body of base64 vectors (the bytes a
server would send; no network, so only the client's work is timed). The floor is raw httpx: post
the JSON body, parse the answer, ``b64decode`` + ``struct.unpack`` each vector into a tuple of
floats. allm is ``allm.embed`` with ``max_concurrency=1``: request building, retry wrapper,
index checks, usage, the response value. Runs alternate between the two (one run's vectors are
dropped before the next is timed); the ratio is allm's median over the floor's (the acceptance
bound is 1.3x).

    python bench/embeddings.py [inputs] [dimensions] [runs]
"""

from __future__ import annotations

import base64
import json
import statistics
import struct
import sys
import time
from typing import Any

import httpx

import allm

BATCH = 2048
URL = "https://api.openai.com/v1/embeddings"


def _bodies(inputs: int, dimensions: int) -> dict[int, bytes]:
    """One prepared answer per batch start (vectors differ per input, as real ones do)."""
    bodies: dict[int, bytes] = {}
    for start in range(0, inputs, BATCH):
        count = min(BATCH, inputs - start)
        data = []
        for index in range(count):
            values = [((start + index) * 31 + d) % 1000 / 1000.0 for d in range(dimensions)]
            encoded = base64.b64encode(struct.pack(f"<{dimensions}f", *values)).decode()
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        document = {
            "object": "list",
            "data": data,
            "model": "text-embedding-3-small",
            "usage": {"prompt_tokens": count * 3, "total_tokens": count * 3},
        }
        bodies[start] = json.dumps(document).encode()
    return bodies


def _transport(bodies: dict[int, bytes]) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        first = json.loads(request.content)["input"][0]
        start = int(first.split()[1])
        return httpx.Response(
            200, headers={"content-type": "application/json"}, content=bodies[start]
        )

    return httpx.MockTransport(answer)


def raw_httpx(client: httpx.Client, texts: list[str]) -> list[tuple[float, ...]]:
    vectors: list[tuple[float, ...]] = []
    headers = {"authorization": "Bearer sk-bench", "content-type": "application/json"}
    for start in range(0, len(texts), BATCH):
        body = {
            "model": "text-embedding-3-small",
            "input": texts[start : start + BATCH],
            "encoding_format": "base64",
        }
        response = client.post(URL, content=json.dumps(body).encode(), headers=headers)
        for item in response.json()["data"]:
            raw = base64.b64decode(item["embedding"])
            vectors.append(struct.unpack(f"<{len(raw) // 4}f", raw))
    return vectors


def with_allm(engine: allm.Engine, texts: list[str]) -> list[tuple[float, ...]]:
    response = allm.embed(engine, texts, max_concurrency=1, api_key="sk-bench")
    return list(response.vectors)


def _timed(function: Any) -> float:
    start = time.perf_counter()
    result = function()
    elapsed = time.perf_counter() - start
    del result  # 15 M floats: never hold one run's vectors while the next is timed
    return elapsed


def main() -> None:
    inputs = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    dimensions = int(sys.argv[2]) if len(sys.argv) > 2 else 1536
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 7
    texts = [f"text {i} of the corpus" for i in range(inputs)]
    bodies = _bodies(inputs, dimensions)
    client = httpx.Client(transport=_transport(bodies))
    engine = allm.Engine(
        embedding_adapter="openai_embeddings",
        adapter_opts={"http_client": httpx.Client(transport=_transport(bodies))},
    )
    assert with_allm(engine, texts) == raw_httpx(client, texts), "the two decoded differently"
    floors, ours_samples = [], []
    for _ in range(runs):  # interleaved, so a noisy moment hits both sides alike
        floors.append(_timed(lambda: raw_httpx(client, texts)))
        ours_samples.append(_timed(lambda: with_allm(engine, texts)))
    floor, ours = statistics.median(floors), statistics.median(ours_samples)
    print(
        json.dumps(
            {
                "inputs": inputs,
                "dimensions": dimensions,
                "requests": len(bodies),
                "runs": runs,
                "raw_httpx_s": round(floor, 4),
                "allm_s": round(ours, 4),
                "ratio": round(ours / floor, 3),
                "bound": 1.3,
            }
        )
    )


if __name__ == "__main__":
    main()
