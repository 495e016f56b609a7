"""Save and load time of a 1,000-message session, for each session store (medians).

    python bench/sessions.py                      # SQLite only
    eval "$(bash .ci/services.sh)"; python bench/sessions.py   # SQLite, PostgreSQL and Redis

PostgreSQL and Redis are measured when ``ALLM_TEST_POSTGRES_URL`` / ``ALLM_TEST_REDIS_URL`` are
set (the same variables as the tests); each run uses its own table / key prefix and removes it.
A save here is an update of the stored session (the usual case: load, change, save), so it
includes the version check. The session: 1,000 messages, a quarter of them tool calls and tool
results, about 0.5 MB of JSON.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import allm
from allm import stores


def big_session(messages: int = 1000) -> allm.Session:
    """A session of ``messages`` messages: user / assistant turns, with tool calls and results."""
    body = "The quick brown fox jumps over the lazy dog. " * 8
    items: list[allm.Message] = [allm.system("You are a careful travel agent.")]
    turn = 0
    while len(items) < messages:
        turn += 1
        items.append(allm.user(f"Question {turn}: {body}"))
        if turn % 2:
            call = allm.ToolCall(f"call_{turn}", "search", {"q": f"query {turn}", "page": turn})
            items.append(
                allm.Message(
                    "assistant", "", tool_calls=(call,), metadata={"finish_reason": "tool_calls"}
                )
            )
            items.append(allm.tool_result(call.id, {"results": [body[:60]] * 3, "turn": turn}))
        items.append(
            allm.Message("assistant", f"Answer {turn}: {body}", metadata={"finish_reason": "stop"})
        )
    return allm.Session(
        thread=allm.Thread(tuple(items[:messages])),
        status="completed",
        context={"user_id": "u-1", "locale": "en"},
    )


def median_ms(function: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def bench(name: str, store: stores.BlockingStore, session: allm.Session, repeat: int) -> None:
    saved = store.save(session)
    current = {"session": saved}

    def save() -> None:
        current["session"] = store.save(current["session"])

    def load() -> None:
        store.load(saved.id or "")

    save_ms = median_ms(save, repeat)
    load_ms = median_ms(load, repeat)
    print(f"{name:<10} save {save_ms:8.2f} ms   load {load_ms:8.2f} ms")


def drop(kind: str, url: str, name: str) -> None:
    if kind == "postgres":
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {name}")
    elif kind == "redis":
        import redis

        client = redis.Redis.from_url(url)
        keys = list(client.scan_iter(match=f"{name}:*"))
        if keys:
            client.delete(*keys)
        client.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    session = big_session(args.messages)
    size = len(allm.to_json(session).encode())
    encode_ms = median_ms(lambda: allm.to_json(session), args.repeat)
    text = allm.to_json(session)
    decode_ms = median_ms(lambda: allm.from_json(text), args.repeat)
    print(
        f"session: {len(session.thread)} messages, {size / 1024:.0f} KiB of JSON; "
        f"medians of {args.repeat} runs"
    )
    print(f"{'(codec)':<10} to_json {encode_ms:5.2f} ms   from_json {decode_ms:5.2f} ms")

    with (
        tempfile.TemporaryDirectory() as folder,
        stores.SQLiteStore(Path(folder) / "bench.sqlite3") as store,
    ):
        bench("sqlite", store, session, args.repeat)

    for kind, variable in (
        ("postgres", "ALLM_TEST_POSTGRES_URL"),
        ("redis", "ALLM_TEST_REDIS_URL"),
    ):
        url = os.environ.get(variable)
        if not url:
            print(f"{kind:<10} skipped ({variable} is not set)")
            continue
        name = "bench_" + uuid.uuid4().hex[:8]
        try:
            if kind == "postgres":
                with stores.PostgresStore(url, table=name) as store:
                    bench(kind, store, session, args.repeat)
            else:
                with stores.RedisStore(url, prefix=name) as store:
                    bench(kind, store, session, args.repeat)
        finally:
            drop(kind, url, name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
