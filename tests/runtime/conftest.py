"""Fixtures for the Layer B runtime tests: a telemetry recorder and a recording Fake engine."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

import allm
from allm import telemetry
from allm.providers.fake import finish, text


class TelemetryLog:
    """Every telemetry event delivered while the fixture is active, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any], dict[str, Any]]] = []

    def __call__(
        self, name: str, measurements: Mapping[str, Any], metadata: Mapping[str, Any]
    ) -> None:
        self.events.append((name, dict(measurements), dict(metadata)))

    @property
    def names(self) -> list[str]:
        return [name for name, _, _ in self.events]

    def named(self, name: str) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
        return [event for event in self.events if event[0] == name]


@pytest.fixture
def telemetry_log() -> Iterator[TelemetryLog]:
    """A handler attached to every telemetry event for the duration of one test."""
    log = TelemetryLog()
    handler_id = telemetry.attach(log)
    try:
        yield log
    finally:
        telemetry.detach(handler_id)


@pytest.fixture
def recorded() -> list[Any]:
    """The list a Fake engine's ``record`` option appends ``(request, call)`` to."""
    return []


@pytest.fixture
def make_engine(recorded: list[Any]) -> Any:
    """``make_engine(**engine_fields)``: a Fake engine answering "ok" and recording each call."""

    def build(script: Any = None, adapter_opts: Mapping[str, Any] | None = None, **fields: Any):
        opts = {"script": script or [text("ok"), finish("stop")], "record": recorded}
        opts.update(adapter_opts or {})
        fields.setdefault("adapter", "fake")
        return allm.Engine(adapter_opts=opts, **fields)

    return build
