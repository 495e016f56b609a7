"""What a typed output costs per text delta: the same Fake stream folded with and without
``response_format=Model``. The typed run adds the partial parser (a regex scan per delta, a
pydantic-core partial parse when a delta can complete a value) and one validation at the end.

The answer is a JSON list of records cut into small deltas (4 characters, about what providers
send). Typed and untyped runs alternate; ``added_us_per_delta`` is the median over R pairs of
(typed - untyped) / deltas: the whole typed call (spec, partial values, the final validation)
spread over the deltas;
``partial_parser_us_per_delta`` is the partial parser alone on the same deltas.

    python bench/structured.py [records] [runs]
"""

from __future__ import annotations

import json
import statistics
import sys
import time

from pydantic import BaseModel

import allm
from allm.providers.fake import finish, text


class Item(BaseModel):
    id: int
    name: str
    tags: list[str]


class Catalog(BaseModel):
    items: list[Item]


def _answer(records: int) -> str:
    items = [{"id": i, "name": f"item {i}", "tags": ["a", "bb"]} for i in range(records)]
    return json.dumps({"items": items})


def _engine(answer: str, runs: int) -> tuple[allm.Engine, int]:
    deltas = [answer[i : i + 4] for i in range(0, len(answer), 4)]
    script = [text(d) for d in deltas] + [finish("stop")]
    engine = allm.Engine(adapter="fake", adapter_opts={"scripts": [script] * (2 * runs + 4)})
    return engine, len(deltas)


def _once(engine: allm.Engine, typed: bool) -> float:
    opts = {"response_format": Catalog} if typed else {}
    start = time.perf_counter()
    response = allm.stream_generate(engine, [allm.user("go")], **opts).collect()
    elapsed = time.perf_counter() - start
    assert (response.parsed is not None) is typed
    return elapsed


def _time(engine: allm.Engine, runs: int) -> tuple[list[float], list[float]]:
    """Untyped and typed runs alternated, so drift on a shared machine hits both alike."""
    plain, typed = [], []
    for _ in range(runs):
        plain.append(_once(engine, typed=False))
        typed.append(_once(engine, typed=True))
    return plain, typed


def _parser_only(answer: str, runs: int) -> float:
    """The partial parser alone, fed the same deltas: seconds per delta (median)."""
    from allm.output.partial import PartialParser

    deltas = [answer[i : i + 4] for i in range(0, len(answer), 4)]
    samples = []
    for _ in range(runs):
        parser = PartialParser(wrapped=False)
        start = time.perf_counter()
        for delta in deltas:
            parser.feed(delta)
        samples.append((time.perf_counter() - start) / len(deltas))
    return statistics.median(samples)


def main() -> None:
    records = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    answer = _answer(records)
    engine, deltas = _engine(answer, runs)
    _time(engine, 2)  # warm: pydantic builds the schema and the validator once
    plain_runs, typed_runs = _time(engine, runs)
    plain, typed = statistics.median(plain_runs), statistics.median(typed_runs)
    added = (
        statistics.median(t - p for p, t in zip(plain_runs, typed_runs, strict=True)) / deltas * 1e6
    )
    print(
        json.dumps(
            {
                "answer_chars": len(answer),
                "deltas": deltas,
                "untyped_us_per_delta": round(plain / deltas * 1e6, 3),
                "typed_us_per_delta": round(typed / deltas * 1e6, 3),
                "added_us_per_delta": round(added, 3),
                "partial_parser_us_per_delta": round(_parser_only(answer, runs) * 1e6, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
