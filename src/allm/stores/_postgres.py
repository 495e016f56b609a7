"""``PostgresStore``: sessions in PostgreSQL (psycopg 3, the ``postgres`` extra), for many
workers on many machines."""

from __future__ import annotations

import builtins
import threading
import zlib
from typing import Any

from ._base import BlockingStore, Record, SessionInfo, check_table_name, info, url_secrets

__all__ = ["PostgresStore"]


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:
        raise ImportError("PostgresStore needs psycopg 3: pip install 'allm-py[postgres]'") from exc
    return psycopg


class PostgresStore(BlockingStore):
    """Sessions in one PostgreSQL table (``table``, default ``allm_sessions``), created on first
    use. ``conninfo`` is a libpq URL or key/value string, e.g.
    ``"postgresql://user:secret@db.internal:5432/app"``.

    Each save is one transaction: an ``UPDATE ... WHERE version = <the version you loaded>`` (or an
    ``INSERT ... ON CONFLICT DO NOTHING`` for a new session), so of two workers that loaded the same
    version exactly one succeeds and the other gets ``ConflictError``. A worker killed in the middle
    leaves the previous version. One connection per store, shared by threads under a lock; it is
    reopened after it breaks. ``connect_kwargs`` go to ``psycopg.connect``. A server that is down
    or refuses a statement raises ``StoreError``, its password scrubbed from the text.
    """

    def __init__(
        self, conninfo: str, *, table: str = "allm_sessions", **connect_kwargs: Any
    ) -> None:
        self._psycopg = _psycopg()
        self._driver_errors = (self._psycopg.Error,)
        self.conninfo = conninfo
        self.table = check_table_name(table)
        self._connect_kwargs = connect_kwargs
        self._connection: Any = None
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"PostgresStore(table={self.table!r})"

    def _secrets(self) -> builtins.list[str]:
        password = self._connect_kwargs.get("password")
        return url_secrets(self.conninfo) + ([str(password)] if password else [])

    def _conn(self) -> Any:
        conn = self._connection
        if conn is not None and (conn.closed or conn.broken):
            conn.close()
            conn = self._connection = None
        if conn is None:
            conn = self._psycopg.connect(self.conninfo, autocommit=True, **self._connect_kwargs)
            try:
                self._create_schema(conn)
            except BaseException:
                conn.close()
                raise
            self._connection = conn
        return conn

    def _create_schema(self, conn: Any) -> None:
        # CREATE TABLE IF NOT EXISTS is not safe against itself in two sessions at once: an
        # advisory lock (keyed by the table name) makes the workers take turns.
        key = zlib.crc32(f"allm.stores:{self.table}".encode())
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (key,))
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} ("
                ' id TEXT COLLATE "C" PRIMARY KEY,'
                " version BIGINT NOT NULL,"
                " schema_version INTEGER NOT NULL,"
                " status TEXT NOT NULL,"
                " data TEXT NOT NULL,"
                " created_at DOUBLE PRECISION NOT NULL,"
                " updated_at DOUBLE PRECISION NOT NULL)"
            )

    def _stored_version(self, conn: Any, session_id: str) -> int | None:
        row = conn.execute(
            f"SELECT version FROM {self.table} WHERE id = %s", (session_id,)
        ).fetchone()
        return None if row is None else int(row[0])

    def _write(self, record: Record, now: float) -> tuple[bool, int | None]:
        table = self.table
        with self._lock:
            conn = self._conn()
            with conn.transaction():
                if record.expected is None:
                    row = conn.execute(
                        f"INSERT INTO {table} (id, version, schema_version, status, data,"
                        " created_at, updated_at) VALUES (%s, 1, %s, %s, %s, %s, %s)"
                        " ON CONFLICT (id) DO NOTHING RETURNING version",
                        (record.id, record.schema_version, record.status, record.data, now, now),
                    ).fetchone()
                else:
                    row = conn.execute(
                        f"UPDATE {table} SET version = version + 1, schema_version = %s,"
                        " status = %s, data = %s, updated_at = %s"
                        " WHERE id = %s AND version = %s RETURNING version",
                        (
                            record.schema_version,
                            record.status,
                            record.data,
                            now,
                            record.id,
                            record.expected,
                        ),
                    ).fetchone()
                if row is None:
                    return False, self._stored_version(conn, record.id)
                self._commit_point()
        return True, int(row[0])

    def _read(self, session_id: str) -> tuple[Any, Any, Any] | None:
        with self._lock:
            row = (
                self._conn()
                .execute(
                    f"SELECT data, version, schema_version FROM {self.table} WHERE id = %s",
                    (session_id,),
                )
                .fetchone()
            )
        return None if row is None else (row[0], row[1], row[2])

    def _remove(self, session_id: str, version: int | None) -> tuple[bool, int | None]:
        query = f"DELETE FROM {self.table} WHERE id = %s"
        params: tuple[Any, ...] = (session_id,)
        if version is not None:
            query += " AND version = %s"
            params = (session_id, version)
        with self._lock:
            conn = self._conn()
            with conn.transaction():
                row = conn.execute(query + " RETURNING version", params).fetchone()
                if row is None:
                    return False, self._stored_version(conn, session_id)
        return True, int(row[0])

    def _page(self, after: str | None, limit: int) -> builtins.list[SessionInfo]:
        query = f"SELECT id, version, status, updated_at FROM {self.table}"
        params: tuple[Any, ...] = (limit,)
        if after is not None:
            query += " WHERE id > %s"
            params = (after, limit)
        with self._lock:
            rows = self._conn().execute(query + " ORDER BY id LIMIT %s", params).fetchall()
        return [info(*row) for row in rows]

    def close(self) -> None:
        """Close the connection (a later call opens a new one)."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
