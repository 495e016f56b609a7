"""Fixtures for the session tests: the sync/async driver, and one store per backend.

PostgreSQL and Redis are real servers named by ``ALLM_TEST_POSTGRES_URL`` / ``ALLM_TEST_REDIS_URL``
(``eval "$(bash .ci/services.sh)"`` starts both on loopback). Without a URL those tests skip, but
under ``CI=true`` they fail: CI must never pass by skipping the stores it is meant to test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.sessions.support import Raw, SessionAPI, StoreSpec

from allm import stores

SERVICE_ENV = {"postgres": "ALLM_TEST_POSTGRES_URL", "redis": "ALLM_TEST_REDIS_URL"}
STORE_KINDS = ["sqlite", "postgres", "redis"]


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def service_url(kind: str) -> str:
    """The URL of the ``kind`` server: skip without one, but fail under CI."""
    name = SERVICE_ENV[kind]
    url = os.environ.get(name, "").strip()
    if not url:
        message = f"{name} is not set: no {kind} server to test the {kind} store against"
        if in_ci():
            pytest.fail(message + ' (CI runs eval "$(bash .ci/services.sh)" first)')
        pytest.skip(message)
    return url


@pytest.fixture(params=["sync", "async"])
def api(request: pytest.FixtureRequest) -> SessionAPI:
    """Each test using it runs once through the sync API and once through the async API."""
    return SessionAPI(request.param)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _spec(kind: str, tmp_path: Path) -> StoreSpec:
    if kind == "sqlite":
        return StoreSpec("sqlite", str(tmp_path / "sessions.sqlite3"))
    return StoreSpec(kind, service_url(kind))


@pytest.fixture(params=STORE_KINDS)
def store_spec(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreSpec]:
    """One store of each kind (a fresh table or key prefix), removed afterwards."""
    spec = _spec(request.param, tmp_path)
    yield spec
    Raw(spec).drop()


@pytest.fixture
def store(store_spec: StoreSpec) -> Iterator[stores.BlockingStore]:
    """An open store of each kind."""
    opened = store_spec.open()
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def raw(store_spec: StoreSpec) -> Raw:
    """Direct access to the records of ``store``."""
    return Raw(store_spec)
