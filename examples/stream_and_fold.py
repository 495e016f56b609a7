"""Stream a scripted answer, then fold a failing stream into a response. Offline.

python examples/stream_and_fold.py
"""

from __future__ import annotations

import allm
from allm.events import TextDelta
from allm.providers.fake import error, finish, text, usage

engine = allm.Engine(
    adapter="fake",
    adapter_opts={
        "scripts": [
            [text("Streaming "), text("first."), usage(input_tokens=4, output_tokens=2), finish()],
            [text("Cut "), text("short"), error("provider_unavailable")],
        ]
    },
)
question = [allm.user("Say something.")]

with allm.stream_generate(engine, question) as stream:
    for event in stream:
        if isinstance(event, TextDelta):
            print(event.delta, end="", flush=True)
print()

response = allm.generate(engine, question)
print(repr(response.text), response.finish_reason, repr(response.metadata["error"]))
