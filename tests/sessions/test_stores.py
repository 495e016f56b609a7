"""One suite for every session store, run against a real SQLite file, a real PostgreSQL server and
a real Redis server: save / load / delete / list, versions and conflicts, bad input, update."""

from __future__ import annotations

import sqlite3
from typing import Any

import anyio
import pytest
from tests.sessions.support import Raw

import allm
from allm import sessions, stores
from allm.errors import (
    AdapterError,
    ConflictError,
    CorruptSessionError,
    SchemaVersionError,
    SessionError,
    SessionNotFoundError,
    StoreError,
    ValidationError,
)
from allm.stores import _base

CALL = allm.ToolCall("c1", "lookup", {"q": "x"}, '{"q":"x"}')


def rich_session(session_id: str | None = None) -> allm.Session:
    """A session using most of what a stored session can hold."""
    thread = allm.Thread(
        (
            allm.system("be brief"),
            allm.user([allm.TextPart("look"), allm.ImagePart.from_bytes(b"\x89PNG", "image/png")]),
            allm.Message(
                "assistant", "", tool_calls=(CALL,), metadata={"finish_reason": "tool_calls"}
            ),
            allm.tool_result("c1", {"found": ["a", "b"]}),
            allm.assistant("Which one?"),
        )
    )
    return allm.Session(
        id=session_id,
        thread=thread,
        status="awaiting_user",
        pending_question="Which one?",
        pending_tool_call_id="c9",
        context={"user": "ada", "tags": ("x", "y"), "n": 1.5},
        metadata={"ask_user_opts": {"choices": ["a", "b"]}, "error_seen": AdapterError("timeout")},
    )


# -- save / load ------------------------------------------------------------------------------


def test_save_assigns_an_id_and_version_one_and_load_returns_it(store) -> None:
    saved = store.save(rich_session())
    assert isinstance(saved.id, str) and len(saved.id) == 32
    assert stores.version_of(saved) == 1
    assert saved.metadata[stores.VERSION_KEY] == 1
    loaded = store.load(saved.id)
    assert loaded == saved
    assert loaded.thread.messages[2].tool_calls == (CALL,)
    assert loaded.context["tags"] == ("x", "y")


def test_each_save_raises_the_version(store) -> None:
    first = store.save(allm.Session(id="s-1"))
    second = store.save(sessions.append_user(first, "more"))
    third = store.save(second)
    assert [stores.version_of(s) for s in (first, second, third)] == [1, 2, 3]
    assert store.load("s-1") == third
    assert store.list().items[0].version == 3


def test_saving_an_old_version_is_a_conflict_and_writes_nothing(store, raw: Raw) -> None:
    v1 = store.save(allm.Session(id="s-1"))
    v2 = store.save(sessions.append_user(v1, "mine"))
    stale = sessions.append_user(v1, "theirs")
    with pytest.raises(ConflictError) as caught:
        store.save(stale)
    error = caught.value
    assert isinstance(error, SessionError) and error.reason == "version_conflict"
    assert error.session_id == "s-1"
    assert (error.metadata["expected_version"], error.metadata["stored_version"]) == (1, 2)
    assert "'s-1'" in error.message
    assert store.load("s-1") == v2
    assert raw.get("s-1", "version") == 2


def test_a_new_session_under_a_taken_id_is_a_conflict(store) -> None:
    kept = store.save(allm.Session(id="taken", metadata={"who": "first"}))
    with pytest.raises(ConflictError) as caught:
        store.save(allm.Session(id="taken", metadata={"who": "second"}))
    assert caught.value.metadata["stored_version"] == 1
    assert caught.value.metadata["expected_version"] is None
    assert store.load("taken") == kept


def test_saving_a_deleted_session_is_a_conflict(store) -> None:
    saved = store.save(allm.Session(id="gone"))
    assert store.delete("gone") is True
    with pytest.raises(ConflictError) as caught:
        store.save(saved)
    assert caught.value.metadata["stored_version"] is None
    assert "deleted" in caught.value.message


def test_loading_an_unknown_id_is_a_clear_not_found_error(store) -> None:
    with pytest.raises(SessionNotFoundError) as caught:
        store.load("nobody")
    assert isinstance(caught.value, LookupError)
    assert caught.value.reason == "session_not_found"
    assert caught.value.session_id == "nobody"
    with pytest.raises(ValueError):
        store.load("")


def test_an_invalid_session_is_refused_and_nothing_is_written(store) -> None:
    broken = allm.Session(id="bad", status="awaiting_tools")
    with pytest.raises(ValidationError) as caught:
        store.save(broken)
    assert "'bad'" in caught.value.message
    assert caught.value.metadata["session_id"] == "bad"
    assert (("pending_tool_calls",), "required_for_status") in caught.value.errors
    with pytest.raises(TypeError):
        store.save(allm.Session(id="bad", context={"handle": object()}))
    with pytest.raises(ValidationError):
        store.save(allm.Session(id="bad", metadata={stores.VERSION_KEY: "seven"}))
    with pytest.raises(ValidationError):
        store.save("not a session")  # type: ignore[arg-type]
    assert store.list().items == ()


# -- delete / list --------------------------------------------------------------------------------


def test_delete_with_and_without_a_version(store) -> None:
    store.save(allm.Session(id="a"))
    v2 = store.save(store.load("a"))
    with pytest.raises(ConflictError):
        store.delete("a", version=1)
    assert store.load("a") == v2
    assert store.delete("a", version=2) is True
    assert store.delete("a") is False
    assert store.delete("a", version=2) is False


def test_list_pages_through_every_session_in_id_order(store) -> None:
    for name in ["e", "a", "c", "b", "d"]:
        store.save(allm.Session(id=name, status="completed" if name == "c" else "idle"))
    first = store.list(limit=2)
    assert [i.id for i in first.items] == ["a", "b"] and first.next_cursor == "b"
    second = store.list(limit=2, cursor=first.next_cursor)
    assert [i.id for i in second.items] == ["c", "d"]
    assert second.items[0].status == "completed" and second.items[0].version == 1
    last = store.list(limit=2, cursor=second.next_cursor)
    assert [i.id for i in last.items] == ["e"] and last.next_cursor is None
    assert store.list(limit=5).next_cursor is None
    assert all(isinstance(i.updated_at, float) for i in first.items)
    for bad in (0, stores.MAX_PAGE + 1, True):
        with pytest.raises(ValueError):
            store.list(limit=bad)
    with pytest.raises(ValueError):
        store.list(cursor=3)  # type: ignore[arg-type]


def test_the_schema_is_created_on_first_use(store_spec) -> None:
    opened = store_spec.open()
    try:
        assert opened.list() == stores.Page((), None)
        assert "Store" in repr(opened)
    finally:
        opened.close()
    reopened = store_spec.open()  # a second store on the same table finds it there
    try:
        saved = reopened.save(allm.Session(id="x"))
        assert reopened.load("x") == saved
    finally:
        reopened.close()


# -- async twins -----------------------------------------------------------------------------------


def test_the_async_twins_do_the_same(store) -> None:
    async def run() -> None:
        saved = await store.asave(allm.Session(id="as"))
        assert await store.aload("as") == saved
        again = await store.asave(sessions.append_user(saved, "x"))
        with pytest.raises(ConflictError):
            await store.asave(saved)
        page = await store.alist(limit=10)
        assert [(i.id, i.version) for i in page.items] == [("as", 2)]
        assert await store.adelete("as", version=2) is True
        with pytest.raises(SessionNotFoundError):
            await store.aload("as")
        assert stores.version_of(again) == 2

    anyio.run(run)


# -- bad stored input ----------------------------------------------------------------------------


def _two(store) -> tuple[allm.Session, allm.Session]:
    return store.save(allm.Session(id="victim")), store.save(allm.Session(id="bystander"))


def test_a_corrupt_record_is_a_clear_error_naming_the_session(store, raw: Raw) -> None:
    _, bystander = _two(store)
    raw.set("victim", "data", "{not json")
    with pytest.raises(CorruptSessionError) as caught:
        store.load("victim")
    assert caught.value.reason == "corrupt_session"
    assert caught.value.session_id == "victim"
    assert "'victim'" in caught.value.message
    assert isinstance(caught.value.cause, ValidationError)
    # nothing else changed: the record is as it was, the other session loads
    assert raw.get("victim", "data") == "{not json"
    assert store.load("bystander") == bystander
    assert [i.id for i in store.list().items] == ["bystander", "victim"]


def test_a_record_of_another_type_is_corrupt(store, raw: Raw) -> None:
    _two(store)
    raw.set("victim", "data", allm.to_json(allm.user("not a session")))
    with pytest.raises(CorruptSessionError):
        store.load("victim")
    raw.set("victim", "data", allm.to_json(allm.Session(id="someone-else")))
    with pytest.raises(CorruptSessionError) as caught:
        store.load("victim")
    assert "'someone-else'" in caught.value.message


def test_an_unknown_schema_version_is_a_clear_error(store, raw: Raw) -> None:
    _, bystander = _two(store)
    raw.set("victim", "schema_version", 99)
    with pytest.raises(SchemaVersionError) as caught:
        store.load("victim")
    assert isinstance(caught.value, CorruptSessionError)
    assert caught.value.reason == "unsupported_schema_version"
    assert caught.value.session_id == "victim"
    assert caught.value.metadata["schema_version"] == 99
    assert store.load("bystander") == bystander
    assert raw.get("victim", "schema_version") == 99
    raw.set("victim", "schema_version", 0)
    with pytest.raises(CorruptSessionError) as caught:
        store.load("victim")
    assert caught.value.reason == "corrupt_session"


def test_a_stored_session_whose_status_and_pending_fields_disagree(store, raw: Raw) -> None:
    _, bystander = _two(store)
    lying = allm.Session(id="victim", status="awaiting_tools")  # nothing pending
    raw.set("victim", "data", allm.to_json(lying))
    with pytest.raises(CorruptSessionError) as caught:
        store.load("victim")
    assert caught.value.session_id == "victim"
    assert (("pending_tool_calls",), "required_for_status") in caught.value.metadata["errors"]
    assert "required_for_status" in caught.value.message
    assert store.load("bystander") == bystander


def test_a_bad_version_column_is_corrupt(store, raw: Raw) -> None:
    _two(store)
    raw.set("victim", "version", 0)
    with pytest.raises(CorruptSessionError) as caught:
        store.load("victim")
    assert "version" in caught.value.message


def test_old_schema_versions_are_migrated_on_load(store, monkeypatch) -> None:
    saved = store.save(allm.Session(id="old"))  # written as schema 1

    def to_v2(data: Any) -> Any:
        session = allm.from_json(data)
        return allm.to_json(sessions.append_user(session, "migrated"))

    monkeypatch.setattr(_base, "SCHEMA_VERSION", 2)
    monkeypatch.setitem(_base.MIGRATIONS, 1, to_v2)
    loaded = store.load("old")
    assert [m.content for m in loaded.thread.messages] == ["migrated"]
    assert stores.version_of(loaded) == stores.version_of(saved)
    resaved = store.save(loaded)  # written as schema 2 now
    monkeypatch.delitem(_base.MIGRATIONS, 1)
    assert store.load("old") == resaved

    monkeypatch.setattr(_base, "SCHEMA_VERSION", 3)
    with pytest.raises(SchemaVersionError) as caught:
        store.load("old")
    assert "no migration" in caught.value.message


# -- update: load, change, save, retry -------------------------------------------------------------


def test_update_applies_a_change_and_returns_the_stored_session(store) -> None:
    store.save(allm.Session(id="u"))
    saved = stores.update(store, "u", lambda s: sessions.append_user(s, "one"))
    assert stores.version_of(saved) == 2
    assert store.load("u") == saved
    session, extra = stores.update(store, "u", lambda s: (sessions.append_user(s, "two"), "note"))
    assert extra == "note"
    assert [m.content for m in store.load("u").thread.messages] == ["one", "two"]
    assert stores.version_of(session) == 3


def test_update_retries_after_a_conflict_and_keeps_both_changes(store) -> None:
    store.save(allm.Session(id="u"))
    attempts: list[int] = []

    def change(session: allm.Session) -> allm.Session:
        attempts.append(stores.version_of(session) or 0)
        if len(attempts) == 1:  # someone else saves in between, once
            store.save(sessions.append_user(store.load("u"), "theirs"))
        return sessions.append_user(session, "mine")

    saved = stores.update(store, "u", change)
    assert attempts == [1, 2]
    assert [m.content for m in saved.thread.messages] == ["theirs", "mine"]
    assert stores.version_of(saved) == 3


def test_update_gives_up_after_its_retries(store) -> None:
    store.save(allm.Session(id="u"))

    def always_loses(session: allm.Session) -> allm.Session:
        store.save(store.load("u"))
        return session

    with pytest.raises(ConflictError):
        stores.update(store, "u", always_loses, retries=2)
    assert stores.version_of(store.load("u")) == 4  # three attempts, each lost
    with pytest.raises(ValueError):
        stores.update(store, "u", lambda s: s, retries=-1)
    with pytest.raises(TypeError):
        stores.update(store, "u", lambda s: "nope")  # type: ignore[arg-type,return-value]
    with pytest.raises(SessionNotFoundError):
        stores.update(store, "missing", lambda s: s)


def test_aupdate_takes_async_and_sync_functions(store) -> None:
    store.save(allm.Session(id="u"))

    async def run() -> None:
        seen: list[int] = []

        async def change(session: allm.Session) -> tuple[allm.Session, str]:
            seen.append(1)
            if len(seen) == 1:
                await store.asave(sessions.append_user(await store.aload("u"), "theirs"))
            return sessions.append_user(session, "mine"), "done"

        saved, note = await stores.aupdate(store, "u", change)
        assert note == "done" and len(seen) == 2
        assert [m.content for m in saved.thread.messages] == ["theirs", "mine"]
        plain = await stores.aupdate(store, "u", lambda s: sessions.append_user(s, "sync"))
        assert stores.version_of(plain) == 4

        async def loses(session: allm.Session) -> allm.Session:
            await store.asave(await store.aload("u"))
            return session

        with pytest.raises(ConflictError):
            await stores.aupdate(store, "u", loses, retries=0)

    anyio.run(run)


def test_update_with_a_session_operation_is_one_line(store) -> None:
    from tests.sessions.support import make_engine, says

    engine = make_engine(says("hello"), says("again"))
    first, _ = sessions.start(
        engine, allm.Session(id="chat", thread=allm.Thread((allm.user("hi"),)))
    )
    store.save(first)
    session, result = stores.update(store, "chat", lambda s: sessions.reply(engine, s, "more"))
    assert result.text == "again"
    assert store.load("chat") == session
    assert len(session.thread) == 4


# PostgreSQL's integer column refuses such a value itself.
@pytest.mark.parametrize("store_spec", ["sqlite", "redis"], indirect=True)
def test_a_schema_version_that_is_not_a_number_is_corrupt(store, raw: Raw) -> None:
    _two(store)
    raw.set("victim", "schema_version", "abc")
    with pytest.raises(CorruptSessionError) as caught:
        store.load("victim")
    assert "schema version" in caught.value.message


# -- failures inside a save, connections ---------------------------------------------------------


# A Redis save is one script: it has no commit point to fail at.
@pytest.mark.parametrize("store_spec", ["sqlite", "postgres"], indirect=True)
def test_a_failure_inside_a_save_rolls_it_back(store) -> None:
    before = store.save(allm.Session(id="f"))

    def fail() -> None:
        raise RuntimeError("disk on fire")

    store._commit_point = fail  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="disk on fire"):
        store.save(sessions.append_user(before, "lost"))
    with pytest.raises(RuntimeError):
        store.save(allm.Session(id="new"))
    del store._commit_point
    assert store.load("f") == before
    assert [i.id for i in store.list().items] == ["f"]
    assert stores.version_of(store.save(store.load("f"))) == 2  # the store still works


def test_stores_are_context_managers_sync_and_async(store_spec) -> None:
    with store_spec.open() as opened:
        opened.save(allm.Session(id="cm"))

    async def run() -> None:
        async with store_spec.open() as again:
            assert (await again.aload("cm")).id == "cm"

    anyio.run(run)
    with store_spec.open() as third:
        assert third.load("cm").id == "cm"


@pytest.mark.parametrize("store_spec", ["postgres"], indirect=True)
def test_postgres_reconnects_after_its_connection_is_lost(store, monkeypatch) -> None:
    saved = store.save(allm.Session(id="p"))
    store._connection.close()  # closed under the store's feet
    assert store.load("p") == saved
    import psycopg

    with pytest.raises(psycopg.errors.AdminShutdown):  # the server ends the session
        store._connection.execute("SELECT pg_terminate_backend(pg_backend_pid())")
    assert store._connection.broken
    assert store.load("p") == saved  # the next call reconnects
    store.close()

    def refuse(conn: Any) -> None:
        raise RuntimeError("no schema today")

    monkeypatch.setattr(store, "_create_schema", refuse)
    with pytest.raises(RuntimeError, match="no schema today"):
        store.load("p")
    assert store._connection is None


def test_sqlite_refuses_a_file_that_is_not_a_database(tmp_path) -> None:
    path = tmp_path / "garbage.db"
    path.write_bytes(b"this is not a database file, not at all" * 100)
    store = stores.SQLiteStore(path)
    with pytest.raises(StoreError) as caught:
        store.list()
    assert isinstance(caught.value.cause, sqlite3.DatabaseError)
    assert store._connection is None
    assert path.read_bytes().startswith(b"this is not")
