"""Every test starts with no shared limiter left over from another."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from allm.limits import reset_limiters


@pytest.fixture(autouse=True)
def fresh_limiters() -> Iterator[None]:
    reset_limiters()
    yield
    reset_limiters()
