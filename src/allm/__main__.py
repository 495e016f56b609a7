"""``python -m allm``: an offline tour on the Fake provider (no key, no network).

It streams an answer, prints the token usage, then shows a failure mid-stream folded into the
response as data: the text received before the failure is kept.
"""

from __future__ import annotations

import sys
from typing import TextIO

import allm
from allm.events import TextDelta
from allm.providers.fake import delay, error, finish, text, usage


def main(out: TextIO | None = None) -> int:
    """Run the demo; returns the process exit code."""
    out = out or sys.stdout
    engine = allm.Engine(
        adapter="fake",
        model="fake-model",
        adapter_opts={
            "scripts": [
                [
                    *(
                        item
                        for word in [
                            "Streaming",
                            "is",
                            "the",
                            "primitive;",
                            "generate",
                            "is",
                            "a",
                            "fold.",
                        ]
                        for item in (delay(30), text(word + " "))
                    ),
                    usage(input_tokens=12, output_tokens=9, total_tokens=21),
                    finish("stop"),
                ],
                [text("Half an answer"), text(" before"), error("rate_limited"), finish("stop")],
            ]
        },
    )
    question = [allm.user("What is allm?")]

    out.write("1. Streaming from the Fake provider:\n   ")
    with allm.stream_generate(engine, question) as stream:
        collector = allm.StreamCollector(request_id=stream.request_id)
        for event in stream:
            collector.apply(event)
            if isinstance(event, TextDelta):
                out.write(event.delta)
                out.flush()
    response = collector.to_response()
    out.write(f"\n   finish_reason={response.finish_reason}\n")
    used = response.usage
    out.write(
        f"2. Usage: input={used.input_tokens} output={used.output_tokens} "
        f"total={used.total_tokens} tokens\n"
    )

    failed = allm.generate(engine, question)
    out.write("3. A failure mid-stream is data, not an exception:\n")
    out.write(f"   text kept      = {failed.text!r}\n")
    out.write(f"   finish_reason  = {failed.finish_reason}\n")
    out.write(f"   error          = {failed.metadata['error']!r}\n")
    try:
        allm.unwrap(failed)
    except allm.AdapterError as exc:
        out.write(f"   allm.unwrap raises it on demand: {type(exc).__name__}: {exc}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
