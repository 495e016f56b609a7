"""What the recorded transcripts of every wave-2 adapter and preset exercise, counted from the
transcripts themselves (their expect.json and body), streamed and whole.

Run ``python -m tests.providers.transcript_table`` to print the table; the test beside it
(test_transcript_table.py) holds every adapter and preset to its minimums.

Kinds, each counted as streamed / whole (``expect.stream``):

* ``text``: a complete answer with text and no tool call;
* ``tools``: at least one tool call;
* ``reasoning``: visible reasoning text;
* ``usage``: token usage reported;
* ``error``: the provider's own error document (a JSON body with a 4xx or 5xx status, or an
  error inside a stream the server sent);
* ``429``: an HTTP 429;
* ``cut``: a stream the server cut before its end (``stream_interrupted``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from allm.providers.presets import PRESETS

from .wire import case_names, load

ADAPTERS = {
    "azure": "azure",
    "mistral": "mistral",
    "ollama": "ollama",
    "bedrock": "bedrock",
    "vertex-gemini": "vertex",
    "vertex-anthropic": "vertex-anthropic",
}
PRESET_DIRECTORIES = {name: f"presets/{name}" for name in PRESETS}
KINDS = ("text", "tools", "reasoning", "usage", "error", "429", "cut")
# Failures that are not a document of the provider's: a cut body, a page that is not the wire.
_NOT_PROVIDER_ERRORS = {"stream_interrupted", "malformed_response"}


def _is_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


def kinds_of(expect: dict[str, Any], body: bytes) -> set[str]:
    """The kinds one transcript exercises."""
    error = expect.get("error") or {}
    status = int(expect["http"]["status"])
    found: set[str] = set()
    if not error and expect.get("output_text") and not expect.get("tool_calls"):
        found.add("text")
    if expect.get("tool_calls"):
        found.add("tools")
    if expect.get("reasoning_text"):
        found.add("reasoning")
    if expect.get("usage"):
        found.add("usage")
    own_document = _is_json(body) if status >= 400 else status == 200 and expect["stream"]
    if error and error.get("kind") not in _NOT_PROVIDER_ERRORS and own_document:
        found.add("error")
    if status == 429:
        found.add("429")
    if error.get("kind") == "stream_interrupted":
        found.add("cut")
    return found


@dataclass
class Row:
    """One adapter's or preset's counts: transcripts, and per kind (streamed, whole)."""

    name: str
    directory: str
    total: int = 0
    streamed: int = 0
    whole: int = 0
    documented: int = 0
    kinds: dict[str, list[int]] = field(default_factory=lambda: {k: [0, 0] for k in KINDS})

    def count(self, kind: str, *, stream: bool) -> int:
        return self.kinds[kind][0 if stream else 1]


def row(name: str, directory: str) -> Row:
    """The counts of the transcripts in ``directory``."""
    out = Row(name, directory)
    for case_name in case_names(directory):
        case = load(directory, case_name)
        stream = bool(case.expect["stream"])
        out.total += 1
        out.streamed += stream
        out.whole += not stream
        notes = case.expect.get("notes") or []
        out.documented += any("https://" in note for note in notes)
        for kind in kinds_of(case.expect, case.body):
            out.kinds[kind][0 if stream else 1] += 1
    return out


def table() -> list[Row]:
    """A row per adapter, then a row per preset."""
    rows = [row(name, directory) for name, directory in ADAPTERS.items()]
    rows += [row(name, directory) for name, directory in sorted(PRESET_DIRECTORIES.items())]
    return rows


def render(rows: list[Row]) -> str:
    """The table as Markdown; each kind cell is ``streamed/whole``."""
    head = ["adapter / preset", "total", "stream/whole", "doc URL", *KINDS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r.name, str(r.total), f"{r.streamed}/{r.whole}", f"{r.documented}/{r.total}"]
        cells += [f"{r.kinds[k][0]}/{r.kinds[k][1]}" for k in KINDS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(table()))
