"""Fixtures for the image tests (helpers live in ``support.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.images.support import ImageDriver, TelemetryLog

from allm import telemetry


@pytest.fixture(params=["sync", "async"])
def images(request: pytest.FixtureRequest) -> ImageDriver:
    """Each test using it runs once through the sync API and once through the async API."""
    return ImageDriver(request.param)


@pytest.fixture
def telemetry_log() -> Iterator[TelemetryLog]:
    """A handler attached to every telemetry event for the duration of one test."""
    log = TelemetryLog()
    handler_id = telemetry.attach(log)
    try:
        yield log
    finally:
        telemetry.detach(handler_id)
