"""A batch job from submit to results, offline.

Runs on the Fake (no key, no network): each request is answered by the engine's next script,
in order, and the ``error(...)`` entry makes the third request fail. For a real provider, use
``allm.Engine(model="openai:gpt-4o-mini")`` (or an Anthropic or Gemini model) with a key in the
environment, and a ``poll_interval`` of a minute or so; nothing else changes. The job is plain
data: save ``allm.to_json(job)`` and resume with ``allm.batch.wait`` in another process.

    python examples/batch.py
"""

from __future__ import annotations

import allm
import allm.batch as batch
from allm.providers.fake import error, text

QUESTIONS = {
    "capital-fr": "Capital of France?",
    "capital-jp": "Capital of Japan?",
    "capital-xx": "Capital of Atlantis?",
}


def main() -> None:
    engine = allm.Engine(
        adapter="fake",
        model="fake-model",
        adapter_opts={"scripts": [[text("Paris")], [text("Tokyo")], [error("invalid_request")]]},
    )
    requests = [(key, allm.request([allm.user(q)], max_tokens=20)) for key, q in QUESTIONS.items()]
    job = batch.submit(engine, requests)
    print(f"submitted {job.id}: {job.status}")
    saved = allm.to_json(job)  # store it anywhere; a session store's metadata will do
    job = batch.wait(
        engine,
        allm.from_json(saved),
        poll_interval=0,
        on_progress=lambda j: print(f"  now {j.status}, counts {j.counts}"),
    )
    for item in batch.results(engine, job):
        if item.response is not None:
            print(f"{item.custom_id}: {item.response.text}")
        else:
            assert item.error is not None
            print(f"{item.custom_id}: failed ({item.error.reason})")


if __name__ == "__main__":
    main()
