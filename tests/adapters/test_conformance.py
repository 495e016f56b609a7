"""The conformance kit, run against the Fake provider (the HTTP adapters bind it to their
recorded transcripts in their own test packages)."""

from __future__ import annotations

from typing import Any

import allm
from allm.providers.fake import error, finish, text, tool_call, usage
from allm.testing.conformance import CASES, AdapterConformance, Scenario


def test_the_kit_has_twelve_numbered_cases() -> None:
    assert AdapterConformance.case_count() == len(CASES) == 12
    names = [name for name in dir(AdapterConformance) if name.startswith("test_c")]
    assert sorted(int(name[6:8]) for name in names) == list(range(1, 13))


class TestFakeConformance(AdapterConformance):
    def scenario(self, name: str, chunking: str = "whole") -> Scenario | None:
        scripts: dict[str, list[Any]] = {
            "text": [
                text("Hello "),
                text("world"),
                usage(input_tokens=5, output_tokens=2, total_tokens=7),
                finish("stop"),
            ],
            "tool_call": [
                tool_call(id="c1", name="get_weather", arguments={"city": "Paris"}),
                finish("tool_calls"),
            ],
            "rate_limited": [error("rate_limited")],
            "mid_stream": [text("partial"), error("provider_unavailable")],
        }
        if name not in scripts:
            return None  # the Fake never truncates a stream
        cleanups: list[int] = []
        sent: list[Any] = []
        engine = allm.Engine(
            adapter="fake",
            adapter_opts={
                "script": scripts[name],
                "cleanup_observer": lambda: cleanups.append(1),
                "record": lambda request, call: sent.append(request),
            },
        )
        return Scenario(
            engine,
            expect_text={"text": "Hello world", "mid_stream": "partial"}.get(name),
            expect_tool="get_weather",
            expect_reason="rate_limited",
            closes=lambda: len(cleanups),
            sent=lambda: list(sent),
        )
