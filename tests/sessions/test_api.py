"""The public surface of ``allm.sessions`` and ``allm.stores``: twins, exports, ``connect``,
the optional drivers, and the CI rule for the service-backed tests."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest
from tests.sessions import conftest

import allm
from allm import sessions, stores
from allm.errors import ConflictError, CorruptSessionError, SchemaVersionError, SessionError

OPERATIONS = ["start", "reply", "resume", "step"]


@pytest.mark.parametrize("name", OPERATIONS + [f"stream_{op}" for op in OPERATIONS])
def test_every_operation_has_an_async_twin_with_the_same_parameters(name: str) -> None:
    sync, twin = getattr(sessions, name), getattr(sessions, "a" + name)
    assert inspect.signature(sync).parameters == inspect.signature(twin).parameters
    assert inspect.iscoroutinefunction(twin) and not inspect.iscoroutinefunction(sync)


@pytest.mark.parametrize("name", ["save", "load", "delete", "list"])
def test_every_store_method_has_an_async_twin(name: str) -> None:
    for cls in (stores.SQLiteStore, stores.PostgresStore, stores.RedisStore):
        sync, twin = getattr(cls, name), getattr(cls, "a" + name)
        assert list(inspect.signature(sync).parameters) == list(inspect.signature(twin).parameters)
        assert inspect.iscoroutinefunction(twin)
    assert list(inspect.signature(stores.update).parameters) == list(
        inspect.signature(stores.aupdate).parameters
    )


def test_the_package_exposes_sessions_stores_and_the_new_errors() -> None:
    assert allm.sessions is sessions and allm.stores is stores
    for error in (ConflictError, CorruptSessionError, SchemaVersionError):
        assert getattr(allm, error.__name__) is error
        assert issubclass(error, SessionError)
    assert issubclass(allm.SessionNotFoundError, LookupError)
    assert SessionError("version_conflict") == ConflictError()
    assert type(SessionError("unsupported_schema_version")) is SchemaVersionError
    for name in sessions.__all__:
        assert getattr(sessions, name) is not None
    for name in stores.__all__:
        assert getattr(stores, name) is not None


def test_errors_round_trip_with_the_session_id() -> None:
    error = ConflictError(None, "lost", metadata={"session_id": "s", "stored_version": 2})
    back = allm.from_json(allm.to_json(error))
    assert back == error and type(back) is ConflictError and back.session_id == "s"
    assert SessionError("corrupt_session").session_id is None


def test_import_allm_stores_loads_no_driver() -> None:
    code = (
        "import sys, allm, allm.stores, allm.sessions\n"
        "print(sorted(m for m in ('psycopg', 'redis') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "[]"


def test_stores_follow_the_protocol(tmp_path) -> None:
    store = stores.SQLiteStore(tmp_path / "s.db")
    assert isinstance(store, stores.SessionStore)
    assert store.path.endswith("s.db")
    store.close()
    store.close()  # twice is fine


def test_connect_picks_the_store_from_the_url(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert isinstance(stores.connect(), stores.SQLiteStore)
    assert stores.connect().path == stores.DEFAULT_PATH
    assert stores.connect("sqlite:///rel.db").path == "rel.db"
    assert stores.connect("sqlite:////abs/x.db").path == "/abs/x.db"
    assert stores.connect("sqlite://:memory:").path == ":memory:"
    assert stores.connect("sqlite://").path == stores.DEFAULT_PATH
    assert stores.connect(tmp_path / "p.db", table="other").table == "other"
    pg = stores.connect("postgresql://u@127.0.0.1:1/db", table="t1")
    assert isinstance(pg, stores.PostgresStore) and pg.table == "t1"
    assert isinstance(stores.connect("postgres://u@127.0.0.1:1/db"), stores.PostgresStore)
    rd = stores.connect("redis://127.0.0.1:1/0", prefix="p")
    assert isinstance(rd, stores.RedisStore) and rd.key("x") == "p:s:x"
    assert rd.index_key == "p:index"
    with pytest.raises(ValueError, match="mysql"):
        stores.connect("mysql://x")
    with pytest.raises(ValueError):
        stores.SQLiteStore(":memory:", table="bad name; drop")


def test_a_missing_driver_names_the_extra(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(ImportError, match=r"allm-py\[postgres\]"):
        stores.PostgresStore("postgresql://x")
    monkeypatch.setitem(sys.modules, "redis", None)
    with pytest.raises(ImportError, match=r"allm-py\[redis\]"):
        stores.RedisStore("redis://x")


def test_service_tests_skip_locally_but_fail_in_ci(monkeypatch) -> None:
    monkeypatch.delenv("ALLM_TEST_REDIS_URL", raising=False)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="ALLM_TEST_REDIS_URL"):
        conftest.service_url("redis")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        conftest.service_url("redis")
    monkeypatch.setenv("ALLM_TEST_REDIS_URL", "redis://127.0.0.1:1/0")
    assert conftest.service_url("redis") == "redis://127.0.0.1:1/0"


def test_sqlite_in_memory_and_close_then_reuse() -> None:
    store = stores.SQLiteStore(":memory:")
    saved = store.save(allm.Session(id="a"))
    assert store.load("a") == saved
    store.close()  # an in-memory database ends with its connection
    assert store.list().items == ()
