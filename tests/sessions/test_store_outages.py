"""Many writers on one session, and databases that are down or refuse writes (API.md W9).

``stores.update`` backs off with jitter, so 20 concurrent writers all succeed at the defaults; a
database that is down or refuses a write raises ``StoreError`` (never a bare driver error, never a
password), and what was saved before is still there when it comes back.
"""

from __future__ import annotations

import pickle
import shutil
import signal
import socket
import sqlite3
import subprocess
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio
import pytest
from tests.sessions.conftest import in_ci, service_url
from tests.sessions.outage import Relay
from tests.sessions.support import StoreSpec, open_store

import allm
from allm import stores
from allm.errors import ConflictError, SessionError, StoreError
from allm.stores import _update
from allm.stores._base import scrub_exception, url_secrets

WRITERS, UPDATES = 20, 50
ASYNC_UPDATES = 20  # the async twin shares the backoff; fewer rounds keep the test short


def bump(session: allm.Session, writer: int) -> allm.Session:
    """One writer's change: its own counter, one up. Lost updates show as a short count."""
    time.sleep(0.001)  # the window in which another writer can save first
    key = f"w{writer}"
    return replace(session, metadata={**session.metadata, key: session.metadata.get(key, 0) + 1})


def counts(session: allm.Session) -> dict[str, Any]:
    return {k: v for k, v in session.metadata.items() if k.startswith("w")}


# -- many writers ----------------------------------------------------------------------------


def test_twenty_writers_on_one_session_all_succeed_at_the_defaults(store_spec: StoreSpec) -> None:
    workers = [store_spec.open() for _ in range(WRITERS)]  # a connection each, as processes have
    workers[0].save(allm.Session(id="hot"))
    failures: list[BaseException] = []

    def write(writer: int) -> None:
        try:
            for _ in range(UPDATES):
                stores.update(workers[writer], "hot", lambda s: bump(s, writer))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert failures == []
        stored = workers[0].load("hot")
        assert counts(stored) == {f"w{n}": UPDATES for n in range(WRITERS)}
        assert stores.version_of(stored) == WRITERS * UPDATES + 1
    finally:
        for worker in workers:
            worker.close()


def test_twenty_async_writers_on_one_session_all_succeed_at_the_defaults(store) -> None:
    store.save(allm.Session(id="hot"))

    async def bump_later(session: allm.Session, writer: int) -> allm.Session:
        await anyio.sleep(0.001)
        return bump(session, writer)

    async def write(writer: int) -> None:
        for _ in range(ASYNC_UPDATES):
            await stores.aupdate(store, "hot", lambda s: bump_later(s, writer))

    async def run() -> None:
        async with anyio.create_task_group() as group:
            for n in range(WRITERS):
                group.start_soon(write, n)

    anyio.run(run)
    stored = store.load("hot")
    assert counts(stored) == {f"w{n}": ASYNC_UPDATES for n in range(WRITERS)}
    assert stores.version_of(stored) == WRITERS * ASYNC_UPDATES + 1


def test_the_backoff_is_jittered_grows_and_scales_with_a_slow_attempt() -> None:
    top = lambda low, high: high  # noqa: E731 - the bound itself
    delays = [_update.backoff_delay(n, 0.005, 0.0, top) for n in range(1, 12)]
    assert delays[:3] == [0.005, 0.01, 0.02]
    assert delays[-1] == _update.MAX_BACKOFF  # doubling stops at the cap
    assert _update.backoff_delay(1, 0.005, 0.05, top) == 0.05  # never below the last attempt
    assert _update.backoff_delay(20, 0.005, 0.5, top) == 4.0  # a slow fn: the cap grows too
    seen = {_update.backoff_delay(3, 0.005, 0.0, __import__("random").uniform) for _ in range(50)}
    assert len(seen) > 40 and all(0 <= d <= 0.02 for d in seen)


def test_update_takes_retries_and_backoff_and_refuses_bad_ones(store) -> None:
    store.save(allm.Session(id="b"))
    rival = store.load("b")

    def lose_once(session: allm.Session) -> allm.Session:
        if stores.version_of(session) == 1:
            store.save(rival)  # someone else saves first
        return bump(session, 0)

    saved = stores.update(store, "b", lose_once, retries=1, backoff=0)
    assert stores.version_of(saved) == 3 and counts(saved) == {"w0": 1}
    with pytest.raises(ValueError, match=r"retries must be an int >= 0.*backoff must be seconds"):
        stores.update(store, "b", lose_once, retries=-1, backoff=-1.0)
    with pytest.raises(ValueError, match="backoff"):
        anyio.run(lambda: stores.aupdate(store, "b", lose_once, backoff="fast"))  # type: ignore[arg-type]
    always = lambda s: (store.save(store.load("b")), bump(s, 1))[1]  # noqa: E731
    with pytest.raises(ConflictError):
        stores.update(store, "b", always, retries=2, backoff=0.001)


# -- outages: every store -----------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def assert_store_error(caught: pytest.ExceptionInfo[StoreError], *secrets: str) -> None:
    error = caught.value
    assert isinstance(error, SessionError) and error.reason == "store_unavailable"
    assert isinstance(error.cause, Exception) and not isinstance(error.cause, allm.AllmError)
    assert error.__cause__ is error.cause
    assert error.metadata["operation"] in ("save", "load", "delete", "list")
    again = pickle.loads(pickle.dumps(error))
    assert again == error and type(again.cause) is type(error.cause)
    decoded = allm.from_json(allm.to_json(error))
    assert type(decoded) is StoreError
    assert decoded == StoreError(**{**error.to_state(), "cause": repr(error.cause)})
    texts = [str(error), repr(error), str(error.cause), repr(error.cause), allm.to_json(error)]
    for secret in secrets:
        assert all(secret not in text for text in texts)
        assert secret.encode() not in pickle.dumps(error)


def assert_write_refused(store: stores.BlockingStore, saved: allm.Session, words: str) -> None:
    """A save of ``saved`` is a ``StoreError`` mentioning ``words``; reading it goes on."""
    with pytest.raises(StoreError) as caught:
        store.save(saved)
    assert_store_error(caught)
    assert words in str(caught.value)
    assert caught.value.metadata == {
        "operation": "save",
        "store": type(store).__name__,
        "session_id": saved.id,
    }
    assert store.load(saved.id or "") == saved


def exercise_outage(store: stores.BlockingStore, *secrets: str) -> None:
    """Every operation, sync and async, and update: ``StoreError``."""
    session = allm.Session(id="x")
    for call in (
        lambda: store.save(session),
        lambda: store.load("x"),
        lambda: store.delete("x"),
        lambda: store.list(),
        lambda: stores.update(store, "x", lambda s: s),
        lambda: anyio.run(store.asave, session),
        lambda: anyio.run(store.aload, "x"),
        lambda: anyio.run(lambda: stores.aupdate(store, "x", lambda s: s)),
    ):
        with pytest.raises(StoreError) as caught:
            call()
        assert_store_error(caught, *secrets)


@pytest.mark.parametrize("kind", ["postgres", "redis"])
def test_a_server_on_a_closed_port_is_a_store_error_without_the_password(kind: str) -> None:
    url = {
        "postgres": f"postgresql://allm:pa%40ss-w0rd@127.0.0.1:{closed_port()}/db",
        "redis": f"redis://:pa%40ss-w0rd@127.0.0.1:{closed_port()}/0",
    }[kind]
    opts: dict[str, Any] = {"connect_timeout": 2} if kind == "postgres" else {}
    store = stores.connect(url, **opts)
    try:
        exercise_outage(store, "pa%40ss-w0rd", "pa@ss-w0rd")
    finally:
        store.close()


def test_a_password_the_driver_echoes_is_scrubbed() -> None:
    # libpq echoes a malformed connection string, password and all.
    store = stores.PostgresStore("host=127.0.0.1 password=hunter22 dbname='open")
    with pytest.raises(StoreError) as caught:
        store.load("x")
    assert_store_error(caught, "hunter22")
    store = stores.PostgresStore("postgresql://u:bad pass@127.0.0.1:1/db")
    with pytest.raises(StoreError) as caught:
        store.load("x")
    assert_store_error(caught, "bad pass")


def test_secrets_are_found_in_urls_and_scrubbed_along_a_cause_chain() -> None:
    assert set(url_secrets("postgresql://u:p%2Fw@h/db")) == {"p%2Fw", "p/w"}
    assert set(url_secrets("postgresql://u:p@w@h:bad/db")) == {"p@w"}  # a port that is no port
    assert set(url_secrets("postgresql://u:pw@[::1/db")) == {"pw"}  # a URL urlsplit refuses
    assert url_secrets("redis://user@h/0") == []
    assert "s1" in url_secrets("postgresql://h/db?password=s1&sslmode=off")
    assert "two words" in url_secrets("host=h password='two words'")
    assert url_secrets("redis://h:1/0") == [] and url_secrets("/tmp/x.db") == []
    try:
        try:
            raise OSError("inner sekret")
        except OSError as inner:
            raise RuntimeError("outer sekret", 3) from inner
    except RuntimeError as outer:
        scrubbed = scrub_exception(outer, ["sekret"])
    assert scrubbed.args == ("outer ***", 3) and scrubbed.__cause__.args == ("inner ***",)


@pytest.mark.parametrize("kind", ["postgres", "redis"])
def test_a_server_that_goes_down_gives_store_errors_and_loses_nothing(kind: str) -> None:
    relay = Relay(service_url(kind))
    spec = StoreSpec(kind, relay.url)
    opts: dict[str, Any] = {"connect_timeout": 2} if kind == "postgres" else {}
    store = open_store(kind, relay.url, spec.name) if not opts else None
    store = store or stores.PostgresStore(relay.url, table=spec.name, **opts)
    try:
        saved = store.save(allm.Session(id="x", metadata={"w0": 1}))
        relay.down()  # mid-test: the open connections break, new ones are refused
        exercise_outage(store)
        relay.up()
        assert store.load("x") == saved  # the store reconnects by itself
        assert [i.id for i in store.list().items] == ["x"]
        stored = stores.update(store, "x", lambda s: bump(s, 0))
        assert counts(stored) == {"w0": 2} and stores.version_of(stored) == 2
    finally:
        relay.down()
        store.close()
        with open_store(kind, service_url(kind), spec.name) as cleanup:
            cleanup.delete("x")


def test_a_killed_redis_server_restarted_from_its_log_keeps_what_was_saved(tmp_path) -> None:
    server = shutil.which("redis-server")
    if server is None:
        message = "redis-server is not installed"
        pytest.fail(message) if in_ci() else pytest.skip(message)
    port = closed_port()
    args = [server, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp_path)]
    args += ["--appendonly", "yes", "--appendfsync", "always", "--save", ""]

    def start() -> subprocess.Popen[bytes]:
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            # A PING, not a bare connect: the server accepts connections while it still replays
            # its append-only log, and answers LOADING until the data is back.
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as probe:
                    probe.sendall(b"PING\r\n")
                    if probe.recv(64).startswith(b"+PONG"):
                        return process
            except OSError:
                pass
            time.sleep(0.02)
        process.kill()
        raise AssertionError("redis-server did not start")

    process = start()
    store = stores.RedisStore(f"redis://127.0.0.1:{port}/0")
    try:
        saved = store.save(allm.Session(id="k", metadata={"w0": 1}))
        process.send_signal(signal.SIGKILL)  # no shutdown, no final save
        process.wait()
        exercise_outage(store)
        process = start()
        assert store.load("k") == saved
    finally:
        store.close()
        process.kill()
        process.wait()


def test_redis_refusing_writes_is_a_store_error_and_reads_go_on() -> None:
    url = service_url("redis")
    import redis

    admin = redis.Redis.from_url(url)
    store = stores.RedisStore(url, prefix=StoreSpec("redis", url).name)
    saved = store.save(allm.Session(id="r"))
    admin.config_set("min-replicas-to-write", 1)  # no replica: every write is refused
    try:
        assert_write_refused(store, saved, "NOREPLICAS")
    finally:
        admin.config_set("min-replicas-to-write", 0)
        admin.close()
    store.delete("r")
    store.close()


def test_postgres_refusing_writes_is_a_store_error_and_reads_go_on() -> None:
    url = service_url("postgres")
    name = StoreSpec("postgres", url).name
    writer = stores.PostgresStore(url, table=name)
    saved = writer.save(allm.Session(id="r"))
    reader = stores.PostgresStore(url, table=name)
    assert reader.load("r") == saved
    reader._connection.execute("SET default_transaction_read_only = on")  # a read-only replica
    try:
        assert_write_refused(reader, saved, "read-only transaction")
    finally:
        reader.close()
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {name}")
        writer.close()


def test_a_locked_sqlite_file_is_a_store_error_and_loses_nothing(tmp_path) -> None:
    path = tmp_path / "s.db"
    store = stores.SQLiteStore(path, timeout=0.05)
    saved = store.save(allm.Session(id="l", metadata={"w0": 1}))
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock past the timeout
    try:
        with pytest.raises(StoreError) as caught:
            stores.update(store, "l", lambda s: bump(s, 0))
        assert_store_error(caught)
        assert "locked" in str(caught.value)
    finally:
        locker.rollback()
        locker.close()
    assert store.load("l") == saved
    assert counts(stores.update(store, "l", lambda s: bump(s, 0))) == {"w0": 2}
    store.close()


def test_a_read_only_sqlite_database_is_a_store_error_and_reads_go_on(tmp_path) -> None:
    store = stores.SQLiteStore(tmp_path / "ro.db")
    saved = store.save(allm.Session(id="ro"))
    store._conn().execute("PRAGMA query_only = ON")  # as a file the process may not write
    try:
        assert_write_refused(store, saved, "readonly")
    finally:
        store.close()
    assert stores.version_of(stores.SQLiteStore(tmp_path / "ro.db").save(saved)) == 2


def test_a_missing_directory_is_a_store_error(tmp_path: Path) -> None:
    store = stores.SQLiteStore(tmp_path / "no" / "such" / "dir.db")
    exercise_outage(store)
