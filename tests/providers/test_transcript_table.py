"""Every wave-2 adapter has at least twelve recorded transcripts and every preset at least four,
and between them, streamed and whole, they exercise text, tool calls, reasoning (every one of
these services has it), usage, the provider's own error document and a 429; each adapter and
preset has a stream the server cut, and each transcript names the documentation it follows
(counted by tests/providers/transcript_table.py)."""

from __future__ import annotations

from typing import Any

import pytest

from .transcript_table import ADAPTERS, KINDS, Row, kinds_of, render, row, table
from .wire import load

ROWS = {r.name: r for r in table()}
BOTH_WAYS = [k for k in KINDS if k != "cut"]


@pytest.mark.parametrize("name", sorted(ROWS))
def test_enough_transcripts_streamed_and_whole(name: str) -> None:
    found = ROWS[name]
    assert found.total >= (12 if name in ADAPTERS else 4), render([found])
    for kind in BOTH_WAYS:
        assert found.count(kind, stream=True) >= 1, (name, kind, "streamed")
        assert found.count(kind, stream=False) >= 1, (name, kind, "whole")
    assert found.count("cut", stream=True) >= 1, (name, "cut")


@pytest.mark.parametrize("name", sorted(ROWS))
def test_every_transcript_names_its_documentation(name: str) -> None:
    found = ROWS[name]
    assert found.documented == found.total, (name, found.documented, found.total)


def test_the_kinds_are_read_from_the_transcript() -> None:
    ok = {"stream": True, "http": {"status": 200}, "output_text": "Hi", "usage": {"x": 1}}
    assert kinds_of(ok, b"") == {"text", "usage"}
    cut = {**ok, "error": {"kind": "stream_interrupted"}}
    assert kinds_of(cut, b"") == {"usage", "cut"}
    limited = {"stream": False, "http": {"status": 429}, "error": {"kind": "rate_limit"}}
    assert kinds_of(limited, b'{"error": {}}') == {"error", "429"}
    assert kinds_of(limited, b"<html>busy</html>") == {"429"}  # not the provider's document
    html = {"stream": True, "http": {"status": 200}, "error": {"kind": "malformed_response"}}
    assert kinds_of(html, b"<html/>") == set()
    calls = {**ok, "output_text": "", "tool_calls": [{"name": "f"}], "reasoning_text": "r"}
    assert kinds_of(calls, b"") == {"tools", "reasoning", "usage"}


def test_the_table_renders_every_row() -> None:
    rows = table()
    text = render(rows)
    assert text.count("\n") == len(rows) + 1
    assert isinstance(row("azure", "azure"), Row) and "| azure | " in text


def _composed() -> list[tuple[str, str, tuple[Any, Any, Any]]]:
    from . import compose_logprobs
    from .azure import compose_azure
    from .mistral import compose_mistral
    from .ollama import compose_ollama
    from .servers import compose_presets
    from .vertex import compose_vertex

    found = [(d, n, c) for d, cases in compose_vertex.cases().items() for n, c in cases.items()]
    for directory, module in (
        ("azure", compose_azure),
        ("mistral", compose_mistral),
        ("ollama", compose_ollama),
    ):
        found += [(directory, n, c) for n, c in module.cases().items()]
    found += [(d, n, c) for (d, n), c in compose_logprobs.cases().items()]
    for preset in compose_presets.DOCS:
        composed = compose_presets.Composer(preset).cases()
        found += [(f"presets/{preset}", n, c) for n, c in composed.items()]
    return found


def test_the_files_on_disk_are_what_the_compose_scripts_write() -> None:
    for directory, name, (request, body, expected) in _composed():
        case = load(directory, name)
        raw = body if isinstance(body, bytes) else body.encode("utf-8")
        assert (case.request, case.body, case.expect) == (request, raw, expected), name
