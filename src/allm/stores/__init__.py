"""Durable session stores: SQLite by default, PostgreSQL or Redis for many workers.

Every store has the same operations, sync and async (``SessionStore``)::

    store = stores.SQLiteStore("sessions.sqlite3")       # or stores.connect(url)
    session = store.save(session)                        # an id if it had none, version 1
    session = store.load(session.id)                     # SessionNotFoundError if absent
    page = store.list(limit=50)                          # page.items, page.next_cursor
    store.delete(session.id)

Optimistic concurrency: a stored session has a version (1, 2, ...), carried in
``session.metadata["store_version"]`` (``stores.version_of(session)``). Saving a session loaded as
version N succeeds only while the store still holds N; otherwise ``ConflictError`` is raised and
nothing is written. ``update`` does load, change, save, and starts over on a conflict::

    session, result = stores.update(store, sid, lambda s: sessions.reply(engine, s, "yes"))

The stored form is ``allm.to_json(session)`` with a schema version, so a later allm can read the
sessions stored today. A record that cannot be read back raises ``CorruptSessionError`` (a newer
schema: ``SchemaVersionError``), naming the session; nothing else in the store is touched.

``PostgresStore`` needs the ``postgres`` extra (psycopg 3) and ``RedisStore`` the ``redis`` extra;
each driver is imported when such a store is made, never by ``import allm``.
"""

from __future__ import annotations

import os
from typing import Any

from ._base import (
    MAX_PAGE,
    SCHEMA_VERSION,
    VERSION_KEY,
    BlockingStore,
    Page,
    SessionInfo,
    SessionStore,
    version_of,
)
from ._postgres import PostgresStore
from ._redis import RedisStore
from ._sqlite import DEFAULT_PATH, SQLiteStore
from ._update import aupdate, update

__all__ = [
    "DEFAULT_PATH",
    "MAX_PAGE",
    "SCHEMA_VERSION",
    "VERSION_KEY",
    "BlockingStore",
    "Page",
    "PostgresStore",
    "RedisStore",
    "SQLiteStore",
    "SessionInfo",
    "SessionStore",
    "aupdate",
    "connect",
    "update",
    "version_of",
]


def connect(url: str | os.PathLike[str] | None = None, **options: Any) -> BlockingStore:
    """A store for ``url``: ``postgresql://`` / ``postgres://`` -> ``PostgresStore``;
    ``redis://`` / ``rediss://`` / ``unix://`` -> ``RedisStore``; ``sqlite:///path`` or a plain
    path -> ``SQLiteStore``; nothing -> ``SQLiteStore()`` (``allm_sessions.sqlite3`` in the
    working directory). ``options`` go to the store's constructor."""
    if url is None:
        return SQLiteStore(**options)
    text = os.fspath(url)
    scheme, sep, rest = text.partition("://")
    scheme = scheme.lower() if sep else ""
    if scheme in ("postgresql", "postgres"):
        return PostgresStore(text, **options)
    if scheme in ("redis", "rediss", "unix"):
        return RedisStore(text, **options)
    if scheme == "sqlite":
        # sqlite:///relative.db, sqlite:////absolute/path.db, sqlite://:memory:
        path = rest[1:] if rest.startswith("/") else rest
        return SQLiteStore(path or DEFAULT_PATH, **options)
    if sep:
        raise ValueError(f"no session store for {scheme}:// URLs ({text!r})")
    return SQLiteStore(text, **options)
