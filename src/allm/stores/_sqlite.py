"""``SQLiteStore``: sessions in one SQLite file (stdlib ``sqlite3``, WAL). Nothing to set up."""

from __future__ import annotations

import builtins
import os
import sqlite3
import threading
import weakref
from typing import Any

from ._base import BlockingStore, Record, SessionInfo, check_table_name, info

__all__ = ["DEFAULT_PATH", "SQLiteStore"]

DEFAULT_PATH = "allm_sessions.sqlite3"


class SQLiteStore(BlockingStore):
    """Sessions in one SQLite file, in WAL mode: readers never wait for a writer, and several
    processes on one machine can share the file (a writer waits up to ``timeout`` seconds for
    another). ``path=":memory:"`` keeps them in memory, for tests.

    The table (``table``, default ``allm_sessions``) is created on first use. A save is one
    ``BEGIN IMMEDIATE`` transaction (read the version, write, commit), so a process killed in the
    middle leaves the previous version in place. A file that cannot be opened, read or written
    (missing directory, read-only, locked past ``timeout``, not a database) raises ``StoreError``.
    """

    _driver_errors = (sqlite3.Error,)

    def __init__(
        self,
        path: str | os.PathLike[str] = DEFAULT_PATH,
        *,
        table: str = "allm_sessions",
        timeout: float = 30.0,
    ) -> None:
        self.path = os.fspath(path)
        self.table = check_table_name(table)
        self.timeout = timeout
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r}, table={self.table!r})"

    def _conn(self) -> sqlite3.Connection:
        conn = self._connection
        if conn is None:
            # Autocommit mode: every transaction below is explicit.
            conn = sqlite3.connect(
                self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
            )
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                # With WAL, NORMAL loses no committed transaction when a process dies; only a
                # power cut can undo the last ones.
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute(
                    f"CREATE TABLE IF NOT EXISTS {self.table} ("
                    " id TEXT PRIMARY KEY,"
                    " version INTEGER NOT NULL,"
                    " schema_version INTEGER NOT NULL,"
                    " status TEXT NOT NULL,"
                    " data TEXT NOT NULL,"
                    " created_at REAL NOT NULL,"
                    " updated_at REAL NOT NULL)"
                )
            except BaseException:
                conn.close()
                raise
            self._connection = conn
            # A store dropped without close() still closes its connection (3.13 warns otherwise).
            weakref.finalize(self, conn.close)
        return conn

    def _write(self, record: Record, now: float) -> tuple[bool, int | None]:
        table = self.table
        with self._lock:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")  # the write lock, taken before the version is read
            try:
                row = conn.execute(f"SELECT version FROM {table} WHERE id = ?", (record.id,))
                found = row.fetchone()
                # Closing resets the cached statement: on Python 3.10 a statement left active
                # fails its next bind ("Error binding parameter 0") after a rollback.
                row.close()
                stored: int | None = found[0] if found is not None else None
                if stored != record.expected:
                    conn.rollback()
                    return False, stored
                if stored is None:
                    version = 1
                    conn.execute(
                        f"INSERT INTO {table} (id, version, schema_version, status, data,"
                        " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (
                            record.id,
                            version,
                            record.schema_version,
                            record.status,
                            record.data,
                            now,
                            now,
                        ),
                    )
                else:
                    version = stored + 1
                    conn.execute(
                        f"UPDATE {table} SET version = ?, schema_version = ?, status = ?,"
                        " data = ?, updated_at = ? WHERE id = ?",
                        (
                            version,
                            record.schema_version,
                            record.status,
                            record.data,
                            now,
                            record.id,
                        ),
                    )
                self._commit_point()
                conn.execute("COMMIT")
            except BaseException:
                conn.rollback()  # a no-op if the failure already ended the transaction
                raise
        return True, version

    def _read(self, session_id: str) -> tuple[Any, Any, Any] | None:
        with self._lock:
            row = self._conn().execute(
                f"SELECT data, version, schema_version FROM {self.table} WHERE id = ?",
                (session_id,),
            )
            found = row.fetchone()
            row.close()
        return None if found is None else (found[0], found[1], found[2])

    def _remove(self, session_id: str, version: int | None) -> tuple[bool, int | None]:
        query = f"DELETE FROM {self.table} WHERE id = ?"
        params: tuple[Any, ...] = (session_id,)
        if version is not None:
            query += " AND version = ?"
            params = (session_id, version)
        with self._lock:
            conn = self._conn()
            if conn.execute(query, params).rowcount:  # one statement: atomic on its own
                return True, None
            row = conn.execute(f"SELECT version FROM {self.table} WHERE id = ?", (session_id,))
            found = row.fetchone()
            row.close()
        return False, None if found is None else int(found[0])

    def _page(self, after: str | None, limit: int) -> builtins.list[SessionInfo]:
        query = f"SELECT id, version, status, updated_at FROM {self.table}"
        params: tuple[Any, ...] = (limit,)
        if after is not None:
            query += " WHERE id > ?"
            params = (after, limit)
        with self._lock:
            rows = self._conn().execute(query + " ORDER BY id LIMIT ?", params).fetchall()
        return [info(*row) for row in rows]

    def close(self) -> None:
        """Close the connection (a later call opens a new one)."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
