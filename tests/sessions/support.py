"""Plain helpers for the session tests: Fake engines, tools, a driver over the sync and async API,
and the stores (specs a subprocess can rebuild, raw access for corrupting records)."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sqlite3
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio

import allm
from allm import sessions, stores
from allm.providers.fake import finish, text, tool_call

OPEN_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}


def make_tool(name: str, handler: Callable[..., Any] | None = None, *, manual: bool = False):
    """A tool with an open schema."""
    return allm.tool(
        name=name,
        description=f"the {name} tool",
        schema=OPEN_SCHEMA,
        handler=handler,
        manual=manual,
    )


def make_engine(
    *scripts: Sequence[Any],
    tools: Sequence[allm.Tool] = (),
    context: dict[str, Any] | None = None,
    **adapter_opts: Any,
) -> allm.Engine:
    """A fresh Fake engine (its own script cursor) replaying ``scripts``, one list per call."""
    return allm.Engine(
        adapter="fake",
        tools=tuple(tools),
        context=context or {},
        adapter_opts={"scripts": [list(script) for script in scripts], **adapter_opts},
    )


def says(words: str) -> list[Any]:
    """A model turn answering ``words`` and stopping."""
    return [text(words), finish("stop")]


def calls(*triples: tuple[str, str, dict[str, Any]]) -> list[Any]:
    """A model turn asking for ``(id, name, arguments)`` tool calls."""
    return [tool_call(id=i, name=n, arguments=a) for i, n, a in triples] + [finish("tool_calls")]


def ask_user_handler(arguments: dict[str, Any]) -> Any:
    """Asks the user to confirm (used across processes: a module-level function)."""
    return allm.AskUser(f"Book {arguments.get('flight', '?')}?", choices=["yes", "no"])


def contents(session_or_thread: Any) -> list[tuple[str, Any]]:
    """``(role, content)`` of every message."""
    thread = getattr(session_or_thread, "thread", session_or_thread)
    return [(str(m.role), m.content) for m in thread.messages]


# -- the same operation through the sync or the async API ------------------------------------


class SessionAPI:
    """Runs a session operation through the sync or the async API, returning plain values."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name

    @property
    def is_async(self) -> bool:
        return self.name == "async"

    def _call(self, op: str, *args: Any, **opts: Any) -> Any:
        if not self.is_async:
            return getattr(sessions, op)(*args, **opts)
        return anyio.run(functools.partial(getattr(sessions, "a" + op), *args, **opts))

    def start(self, engine: Any, value: Any, **opts: Any) -> tuple[allm.Session, Any]:
        return self._call("start", engine, value, **opts)

    def reply(self, engine: Any, session: Any, text_: Any, **opts: Any) -> tuple[Any, Any]:
        return self._call("reply", engine, session, text_, **opts)

    def resume(self, engine: Any, session: Any, message: Any = None, **opts: Any):
        return self._call("resume", engine, session, message, **opts)

    def step(self, engine: Any, session: Any, **opts: Any) -> tuple[allm.Session, Any]:
        return self._call("step", engine, session, **opts)

    def open(self, op: str, *args: Any, **opts: Any) -> Any:
        """Open ``stream_<op>`` (refusals raise here, as at the call)."""
        if not self.is_async:
            return getattr(sessions, "stream_" + op)(*args, **opts)

        async def run() -> Any:
            return await getattr(sessions, "astream_" + op)(*args, **opts)

        return anyio.run(run)

    def stream(self, op: str, *args: Any, **opts: Any) -> tuple[list[Any], Any, Any, Any]:
        """Every event of ``stream_<op>``, then ``finalize()``: (events, opened-on session,
        session, result)."""
        if not self.is_async:
            with getattr(sessions, "stream_" + op)(*args, **opts) as stream:
                events = list(stream)
                session, result = stream.finalize()
            return events, stream.session, session, result

        async def run() -> tuple[list[Any], Any, Any, Any]:
            stream = await getattr(sessions, "astream_" + op)(*args, **opts)
            async with stream:
                events = [event async for event in stream]
                session, result = await stream.finalize()
            return events, stream.session, session, result

        return anyio.run(run)

    def stream_until(self, op: str, stop: Callable[[Any], bool], *args: Any, **opts: Any):
        """Read ``stream_<op>`` up to the first event ``stop`` accepts, leave, finalize."""
        if not self.is_async:
            stream = getattr(sessions, "stream_" + op)(*args, **opts)
            for event in stream:
                if stop(event):
                    break
            return stream.finalize()

        async def run() -> Any:
            stream = await getattr(sessions, "astream_" + op)(*args, **opts)
            async for event in stream:
                if stop(event):
                    break
            return await stream.finalize()

        return anyio.run(run)


# -- stores ------------------------------------------------------------------------------------


@dataclass
class StoreSpec:
    """How to open one store: enough for a subprocess to open the same one (``to_json``)."""

    kind: str
    url: str
    name: str = field(default_factory=lambda: "t_" + uuid.uuid4().hex[:12])

    def open(self) -> stores.BlockingStore:
        return open_store(self.kind, self.url, self.name)

    def to_json(self) -> str:
        return json.dumps({"kind": self.kind, "url": self.url, "name": self.name})

    @classmethod
    def from_json(cls, text_: str) -> StoreSpec:
        return cls(**json.loads(text_))


def open_store(kind: str, url: str, name: str) -> stores.BlockingStore:
    """A store of ``kind`` at ``url``, in its own table (SQL) or key prefix (Redis)."""
    if kind == "sqlite":
        return stores.SQLiteStore(url, table=name)
    if kind == "postgres":
        return stores.PostgresStore(url, table=name)
    return stores.RedisStore(url, prefix=name)


class Raw:
    """Direct access to a store's records, around the store (to corrupt one, or read it back)."""

    def __init__(self, spec: StoreSpec) -> None:
        self.spec = spec

    def set(self, session_id: str, column: str, value: Any) -> None:
        kind, url, name = self.spec.kind, self.spec.url, self.spec.name
        if kind == "sqlite":
            # sqlite3's own context manager commits but never closes: closing() does both here.
            with contextlib.closing(sqlite3.connect(url, isolation_level=None)) as conn:
                conn.execute(f"UPDATE {name} SET {column} = ? WHERE id = ?", (value, session_id))
        elif kind == "postgres":
            import psycopg

            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(
                    f"UPDATE {name} SET {column} = %s WHERE id = %s",
                    (value, session_id),
                )
        else:
            import redis

            client = redis.Redis.from_url(url)
            client.hset(f"{name}:s:{session_id}", column, value)
            client.close()

    def get(self, session_id: str, column: str) -> Any:
        kind, url, name = self.spec.kind, self.spec.url, self.spec.name
        if kind == "sqlite":
            with contextlib.closing(sqlite3.connect(url)) as conn:
                row = conn.execute(
                    f"SELECT {column} FROM {name} WHERE id = ?", (session_id,)
                ).fetchone()
            return None if row is None else row[0]
        if kind == "postgres":
            import psycopg

            with psycopg.connect(url, autocommit=True) as conn:
                row = conn.execute(
                    f"SELECT {column} FROM {name} WHERE id = %s",
                    (session_id,),
                ).fetchone()
            return None if row is None else row[0]
        import redis

        client = redis.Redis.from_url(url)
        try:
            value = client.hget(f"{name}:s:{session_id}", column)
        finally:
            client.close()
        if value is None:
            return None
        text_ = value.decode("utf-8")
        return int(text_) if column in ("version", "schema_version") and text_.isdigit() else text_

    def drop(self) -> None:
        """Remove everything the store wrote."""
        kind, url, name = self.spec.kind, self.spec.url, self.spec.name
        if kind == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                try:
                    os.remove(url + suffix)
                except FileNotFoundError:
                    pass
        elif kind == "postgres":
            import psycopg

            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f"DROP TABLE IF EXISTS {name}")
        else:
            import redis

            client = redis.Redis.from_url(url)
            keys = list(client.scan_iter(match=f"{name}:*"))
            if keys:
                client.delete(*keys)
            client.close()
