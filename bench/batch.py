"""Memory of a 100,000-request batch: peak RSS growth while building and sending the upload,
and while reading the results, through the Fake and through a loopback server playing OpenAI's
batch API, then Gemini's batch mode with an input file (the Files API's resumable upload, the
responses file); the server runs in its own process, so only the client is measured.

    python bench/batch.py [requests] [fake|openai|gemini]

RSS is sampled every 5 ms from /proc/self/statm; a phase's figure is its peak over the RSS
when it started. The requests themselves are built before any phase starts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import allm
import allm.batch as batch
from allm.providers.fake import text

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * PAGE


def peak_growth(work: Callable[[], Any]) -> tuple[Any, float]:
    """``work()``'s value and the peak RSS growth while it ran, in MB."""
    start = rss()
    peak = start
    running = True

    def sample() -> None:
        nonlocal peak
        while running:
            peak = max(peak, rss())
            time.sleep(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        value = work()
    finally:
        running = False
        sampler.join()
    return value, (max(peak, rss()) - start) / 1e6


def count(items: Any) -> tuple[int, int]:
    ok = errors = 0
    for item in items:
        if item.error is None:
            ok += 1
        else:
            errors += 1
    return ok, errors


def serve_gemini(n: int) -> None:
    """The child: Gemini's Files API and batch mode on a loopback port, ``n`` results."""
    from allm.testing.loopback import Answer, LoopbackServer, ReceivedRequest

    received = [0]

    def upload(request: ReceivedRequest) -> Answer:
        command = {k.lower(): v for k, v in request.headers.items()}["x-goog-upload-command"]
        if command == "start":
            return Answer(headers={"x-goog-upload-url": "http://x/upload/v1beta/files?upload_id=1"})
        received[0] += len(request.body)
        if command == "upload":
            return Answer(headers={"x-goog-upload-status": "active"})
        file = {"file": {"name": "files/in", "sizeBytes": str(received[0])}}
        return Answer(headers={"x-goog-upload-status": "final"}, body=json.dumps(file).encode())

    line = {
        "key": "",
        "response": {
            "candidates": [
                {
                    "content": {"role": "model", "parts": [{"text": "ok"}]},
                    "finishReason": "STOP",
                    "index": 0,
                }
            ],
            "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 1},
        },
    }
    lines = []
    for index in range(n):
        line["key"] = f"request-{index}"
        lines.append(json.dumps(line).encode())
    output = b"\n".join(lines) + b"\n"
    del lines
    meta = {"name": "batches/b", "state": "BATCH_STATE_PENDING", "batchStats": {}}
    done = {
        "name": "batches/b",
        "done": True,
        "metadata": {
            **meta,
            "state": "BATCH_STATE_SUCCEEDED",
            "output": {"responsesFile": "files/out"},
        },
    }
    with LoopbackServer() as server:
        server.route("POST", "/upload/v1beta/files", upload)
        server.add(
            "POST",
            "/v1beta/models/gemini-2.0-flash:batchGenerateContent",
            body=json.dumps({"name": "batches/b", "metadata": meta}).encode(),
        )
        server.add("GET", "/v1beta/batches/b", body=json.dumps(done).encode())
        step = 64 * 1024
        server.add(
            "GET",
            "/download/v1beta/files/out:download",
            body=output,
            chunks=list(range(step, len(output), step)),
        )
        print(server.url, flush=True)
        sys.stdin.read()


def serve(n: int) -> None:
    """The child: OpenAI's batch API on a loopback port, answering ``n`` results."""
    from allm.testing.loopback import LoopbackServer

    line = {
        "id": "batch_req",
        "custom_id": "",
        "response": {
            "status_code": 200,
            "request_id": "req",
            "body": {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "model": "gpt-4o-mini",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "ok"},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 9, "completion_tokens": 1, "total_tokens": 10},
            },
        },
        "error": None,
    }
    parts = [(start, min(start + 50_000, n)) for start in range(0, n, 50_000)]
    with LoopbackServer() as server:
        for k, (start, stop) in enumerate(parts):
            lines = []
            for index in range(start, stop):
                line["custom_id"] = f"request-{index}"
                lines.append(json.dumps(line).encode())
            output = b"\n".join(lines) + b"\n"
            del lines
            batch_object = {
                "id": f"batch_{k}",
                "object": "batch",
                "endpoint": "/v1/chat/completions",
                "input_file_id": f"file-in-{k}",
                "completion_window": "24h",
                "created_at": 1,
                "request_counts": {"total": stop - start, "completed": stop - start, "failed": 0},
            }
            file = json.dumps({"id": f"file-in-{k}", "object": "file"}).encode()
            server.add("POST", "/v1/files", body=file)
            created = {**batch_object, "status": "validating"}
            server.add("POST", "/v1/batches", body=json.dumps(created).encode())
            done = {**batch_object, "status": "completed", "output_file_id": f"file-out-{k}"}
            server.add("GET", f"/v1/batches/batch_{k}", body=json.dumps(done).encode())
            step = 64 * 1024
            server.add(
                "GET",
                f"/v1/files/file-out-{k}/content",
                body=output,
                chunks=list(range(step, len(output), step)),
            )
        print(server.url, flush=True)
        sys.stdin.read()


# provider -> (the engine's adapter, model and base path, the submit's options)
LOOPBACK = {
    "openai": ("openai", "gpt-4o-mini", "/v1", {}),
    # Forced to an input file: 100,000 small requests would fit Gemini's 20 MB inline limit.
    "gemini": ("gemini", "gemini-2.0-flash", "/v1beta", {"input_file": True}),
}


def loopback_engine(which: str, url: str) -> allm.Engine:
    adapter, model, path, _ = LOOPBACK[which]
    return allm.Engine(adapter=adapter, model=model, adapter_opts={"base_url": url + path})


def main(n: int, which: str) -> None:
    requests = [
        allm.request([allm.user(f"Question {i}: say ok.")], max_tokens=16) for i in range(n)
    ]
    figures: dict[str, float] = {}
    if which in LOOPBACK:
        loopback(n, which, requests, figures)
        return
    engine = allm.Engine(
        adapter="fake", model="fake-model", adapter_opts={"scripts": [[text("ok")]] * n}
    )
    job, figures["fake submit"] = peak_growth(lambda: batch.submit(engine, requests))
    job = batch.wait(engine, job, poll_interval=0)
    (ok, errors), figures["fake results"] = peak_growth(lambda: count(batch.results(engine, job)))
    assert (ok, errors) == (n, 0)
    report(n, figures)


def loopback(n: int, which: str, requests: list[allm.Request], figures: dict[str, float]) -> None:
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(n), which],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        engine = loopback_engine(which, url)
        opts = LOOPBACK[which][3]
        started = time.perf_counter()
        job, figures[f"{which} submit"] = peak_growth(
            lambda: batch.submit(engine, requests, api_key="sk-bench", **opts)
        )
        submit_s = time.perf_counter() - started
        # The results are read by a fresh process (the job resumed from its JSON), so the
        # submit's freed memory cannot hide the reader's growth.
        reader = subprocess.run(
            [sys.executable, __file__, "--read", url, allm.to_json(job), str(n), which],
            capture_output=True,
            text=True,
            check=True,
        )
        growth, results_s = (float(x) for x in reader.stdout.split())
        figures[f"{which} results"] = growth
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=30)
    report(n, figures)
    print(f"  {which} submit {submit_s:.1f} s, results {results_s:.1f} s")


def read(url: str, saved: str, n: int, which: str) -> None:
    """The reader process: resume the job, wait, count the results; prints MB and seconds."""
    engine = loopback_engine(which, url)
    job = batch.wait(engine, allm.from_json(saved), poll_interval=0, api_key="sk-bench")
    started = time.perf_counter()
    (ok, errors), growth = peak_growth(
        lambda: count(batch.results(engine, job, api_key="sk-bench"))
    )
    assert (ok, errors) == (n, 0)
    print(growth, time.perf_counter() - started)


def report(n: int, figures: dict[str, float]) -> None:
    print(f"{n} requests; peak RSS growth per phase (MB):")
    for name, value in figures.items():
        print(f"  {name:16} {value:8.1f}")


if __name__ == "__main__":
    if len(sys.argv) > 3 and sys.argv[1] == "--serve":
        (serve if sys.argv[3] == "openai" else serve_gemini)(int(sys.argv[2]))
    elif len(sys.argv) > 5 and sys.argv[1] == "--read":
        read(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
    else:
        size = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
        for which in ("fake", "openai", "gemini"):  # each in a fresh process, same baseline
            if len(sys.argv) > 2:
                main(size, sys.argv[2])
                break
            subprocess.run([sys.executable, __file__, str(size), which], check=True)
