"""``RedisStore``: sessions in Redis (redis-py, the ``redis`` extra), for many workers."""

from __future__ import annotations

import builtins
from typing import Any

from ._base import BlockingStore, Record, SessionInfo, info, url_secrets

__all__ = ["RedisStore"]

# KEYS: the session's hash, the id index. ARGV: expected version ("" for a new session), data,
# schema version, status, now, id. Returns {1, new_version} or {0[, stored_version]}.
# A script runs atomically: no other command runs between the version check and the write, and a
# client that dies before the server has the whole command changes nothing.
SAVE_SCRIPT = """
local stored = redis.call('HGET', KEYS[1], 'version')
if ARGV[1] == '' then
  if stored then return {0, stored} end
elseif stored ~= ARGV[1] then
  if stored then return {0, stored} end
  return {0}
end
local version = 1
if stored then version = tonumber(stored) + 1 end
redis.call('HSET', KEYS[1], 'version', version, 'schema_version', ARGV[3], 'status', ARGV[4],
           'data', ARGV[2], 'updated_at', ARGV[5])
redis.call('HSETNX', KEYS[1], 'created_at', ARGV[5])
redis.call('ZADD', KEYS[2], 0, ARGV[6])
return {1, version}
"""

# KEYS: the session's hash, the id index. ARGV: version ("" for any), id.
DELETE_SCRIPT = """
local stored = redis.call('HGET', KEYS[1], 'version')
if not stored then return {0} end
if ARGV[1] ~= '' and stored ~= ARGV[1] then return {0, stored} end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
return {1, stored}
"""


def _redis() -> Any:
    try:
        import redis
    except ImportError as exc:
        raise ImportError("RedisStore needs redis-py: pip install 'allm-py[redis]'") from exc
    return redis


def _int_or_raw(value: Any) -> Any:
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


class RedisStore(BlockingStore):
    """Sessions in Redis: one hash per session (``<prefix>:s:<id>`` with ``version``,
    ``schema_version``, ``status``, ``data``, ``created_at``, ``updated_at``) and a sorted set
    ``<prefix>:index`` of ids for listing.

    Saves and deletes are Lua scripts, so the version check and the write are one atomic step: of
    two workers that loaded the same version exactly one succeeds. Pass ``url`` (``redis://``,
    ``rediss://``, ``unix://``) or a ready ``client`` (a ``redis.Redis``). Durability is the
    server's: configure AOF (``appendonly yes``) if sessions must survive a Redis restart. A server
    that is down or refuses a command (``READONLY``, ``OOM``) raises ``StoreError``, its password
    scrubbed from the text.
    """

    def __init__(
        self,
        url: str = "redis://localhost:6379/0",
        *,
        prefix: str = "allm:session",
        client: Any = None,
    ) -> None:
        redis = _redis()
        self.prefix = prefix
        self._driver_errors = (redis.RedisError,)
        self._url = url if client is None else ""
        self._client = client if client is not None else redis.Redis.from_url(url)
        self._save = self._client.register_script(SAVE_SCRIPT)
        self._delete = self._client.register_script(DELETE_SCRIPT)

    def __repr__(self) -> str:
        return f"RedisStore(prefix={self.prefix!r})"

    def _secrets(self) -> builtins.list[str]:
        pool = getattr(self._client, "connection_pool", None)
        password = getattr(pool, "connection_kwargs", {}).get("password")
        return url_secrets(self._url) + ([str(password)] if password else [])

    @property
    def index_key(self) -> str:
        """The sorted set of stored ids."""
        return f"{self.prefix}:index"

    def key(self, session_id: str) -> str:
        """The hash holding one session."""
        return f"{self.prefix}:s:{session_id}"

    def save_command(
        self, record: Record, now: float
    ) -> tuple[builtins.list[str], builtins.list[Any]]:
        """The keys and arguments of the save script for ``record``."""
        expected = "" if record.expected is None else str(record.expected)
        args = [expected, record.data, record.schema_version, record.status, repr(now), record.id]
        return [self.key(record.id), self.index_key], args

    def _write(self, record: Record, now: float) -> tuple[bool, int | None]:
        keys, args = self.save_command(record, now)
        reply = self._save(keys=keys, args=args)
        ok = int(reply[0]) == 1
        version = int(reply[1]) if len(reply) > 1 else None
        return ok, version

    def _read(self, session_id: str) -> tuple[Any, Any, Any] | None:
        data, version, schema_version = self._client.hmget(
            self.key(session_id), ["data", "version", "schema_version"]
        )
        if data is None and version is None:
            return None
        return data, _int_or_raw(version), _int_or_raw(schema_version)

    def _remove(self, session_id: str, version: int | None) -> tuple[bool, int | None]:
        args = ["" if version is None else str(version), session_id]
        reply = self._delete(keys=[self.key(session_id), self.index_key], args=args)
        return int(reply[0]) == 1, int(reply[1]) if len(reply) > 1 else None

    def _page(self, after: str | None, limit: int) -> builtins.list[SessionInfo]:
        low = "-" if after is None else "(" + after
        ids = self._client.zrangebylex(self.index_key, low, "+", start=0, num=limit)
        if not ids:
            return []
        pipe = self._client.pipeline(transaction=False)
        for raw_id in ids:
            name = raw_id.decode("utf-8") if isinstance(raw_id, bytes) else str(raw_id)
            pipe.hmget(self.key(name), ["version", "status", "updated_at"])
        rows = pipe.execute()
        return [
            info(raw_id, *row)
            for raw_id, row in zip(ids, rows, strict=True)
            if row[0] is not None  # deleted between the two reads
        ]

    def close(self) -> None:
        """Close the client's connections."""
        self._client.close()
