"""What a typed output costs per text delta: the same Fake stream folded with and without
``response_format=Model``. The typed run adds the partial parser (a regex scan per delta, a
pydantic-core partial parse when a delta can complete a value) and one validation at the end.

The answer is a JSON list of records cut into small deltas (4 characters, about what providers
send). ``added_us_per_delta`` is the median over R runs of (typed - untyped) / deltas: the whole
typed call (spec, partial values, the final validation) spread over the deltas;
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


def _time(engine: allm.Engine, runs: int, typed: bool) -> list[float]:
    samples = []
    opts = {"response_format": Catalog} if typed else {}
    for _ in range(runs):
        start = time.perf_counter()
        response = allm.stream_generate(engine, [allm.user("go")], **opts).collect()
        samples.append(time.perf_counter() - start)
        assert (response.parsed is not None) is typed
    return samples


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
    _time(engine, 2, typed=True)  # warm: pydantic builds the validator once
    plain = statistics.median(_time(engine, runs, typed=False))
    typed = statistics.median(_time(engine, runs, typed=True))
    added = (typed - plain) / deltas * 1e6
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
