"""What every session store shares: the protocol, the stored form, versions, and the async twins.

A stored session is one record: ``id``, ``version`` (1 on the first save, +1 on each later save),
``schema_version`` (the version of the stored form, see ``SCHEMA_VERSION``), ``status`` (so a
listing needs no decoding), ``data`` (``allm.to_json(session)``, without the version) and two
timestamps. The version a caller holds travels in ``session.metadata["store_version"]``: ``load``
and ``save`` put it there, and ``save`` reads it to know which version the caller started from.
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any, Protocol, TypeVar, runtime_checkable

from .. import codec, validate
from ..data.results import Session, SessionStatus
from ..errors import (
    ConflictError,
    CorruptSessionError,
    SchemaVersionError,
    SessionNotFoundError,
    StoreError,
    ValidationError,
)

__all__ = [
    "MAX_PAGE",
    "SCHEMA_VERSION",
    "VERSION_KEY",
    "BlockingStore",
    "Page",
    "SessionInfo",
    "SessionStore",
    "decode_record",
    "new_session_id",
    "version_of",
]

#: Where a session carries the stored version it was loaded or saved as.
VERSION_KEY = "store_version"

#: The version of the stored form written today: the ``allm.to_json`` envelope of this allm.
#: A later allm that changes the form raises this and adds a migration from the old one, so
#: sessions stored today stay readable.
SCHEMA_VERSION = codec.SCHEMA_VERSION

#: Upgrades of the stored text, by the schema version they read (``n`` -> ``n + 1``).
MIGRATIONS: dict[int, Callable[[str | bytes], str | bytes]] = {}

#: The largest page ``list`` returns.
MAX_PAGE = 1000

_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """One entry of a listing: enough to pick sessions without loading them."""

    id: str
    version: int
    status: str
    updated_at: float


@dataclass(frozen=True, slots=True)
class Page:
    """A page of a listing, in ascending id order. Pass ``next_cursor`` to ``list`` for the next
    page; it is ``None`` on the last one."""

    items: tuple[SessionInfo, ...]
    next_cursor: str | None = None


@runtime_checkable
class SessionStore(Protocol):
    """Durable sessions with optimistic concurrency. Sync and async forms of each operation.

    ``save(session)`` stores the session and returns it as stored: with an id (a new one when it
    had none) and its new version in ``metadata["store_version"]``. Saving a session whose version
    is older than the stored one (someone else saved in between), or a new session under an id
    that is taken, raises ``ConflictError`` and writes nothing. ``load(id)`` returns the stored
    session or raises ``SessionNotFoundError``; a record that cannot be read back raises
    ``CorruptSessionError`` (``SchemaVersionError`` for a newer schema), naming the session.
    """

    def save(self, session: Session) -> Session:
        """Store ``session``; returns it with its id and new version."""
        ...

    def load(self, session_id: str) -> Session:
        """The stored session with this id."""
        ...

    def delete(self, session_id: str, *, version: int | None = None) -> bool:
        """Remove a session; ``False`` if there was none. With ``version``, only that version."""
        ...

    def list(self, *, limit: int = 100, cursor: str | None = None) -> Page:
        """A page of stored sessions in id order, starting after ``cursor``."""
        ...

    async def asave(self, session: Session) -> Session:
        """The async twin of ``save``."""
        ...

    async def aload(self, session_id: str) -> Session:
        """The async twin of ``load``."""
        ...

    async def adelete(self, session_id: str, *, version: int | None = None) -> bool:
        """The async twin of ``delete``."""
        ...

    async def alist(self, *, limit: int = 100, cursor: str | None = None) -> Page:
        """The async twin of ``list``."""
        ...

    def close(self) -> None:
        """Release the store's connections."""
        ...


def version_of(session: Session) -> int | None:
    """The stored version ``session`` was loaded or saved as; ``None`` for a session never stored."""
    value = session.metadata.get(VERSION_KEY)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def new_session_id() -> str:
    """A new session id: 32 hex digits, time-ordered (listings come out roughly oldest first)."""
    return f"{time.time_ns() // 1_000_000:012x}{os.urandom(10).hex()}"


def check_table_name(name: str) -> str:
    """``name`` if it is a plain SQL identifier (it is put into statements)."""
    if not isinstance(name, str) or not _TABLE_NAME.match(name):
        raise ValueError(f"table name must be a plain identifier, got {name!r}")
    return name


def check_page(limit: int, cursor: str | None) -> None:
    """Refuse a page size or cursor that can never work."""
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be an int from 1 to {MAX_PAGE}, got {limit!r}")
    if cursor is not None and not isinstance(cursor, str):
        raise ValueError(f"cursor must be a str or None, got {cursor!r}")


def check_id(session_id: Any) -> str:
    """``session_id`` if it is a usable id: a non-empty string."""
    if not isinstance(session_id, str) or not session_id:
        raise ValueError(f"a session id is a non-empty str, got {session_id!r}")
    return session_id


# -- the stored form --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Record:
    """A session ready to write: its id, text and status, and the version the caller holds."""

    session: Session
    id: str
    data: str
    status: str
    expected: int | None
    schema_version: int

    def stored(self, version: int) -> Session:
        """The session as it now is in the store."""
        return replace(self.session, metadata={**self.session.metadata, VERSION_KEY: version})


def encode_record(session: Session) -> Record:
    """Check and encode ``session`` for writing. Raises before anything is written: a
    ``ValidationError`` naming the session when it breaks the status invariants, ``TypeError``
    when its context or metadata hold something JSON cannot."""
    if not isinstance(session, Session):
        raise ValidationError("invalid_session", errors=[(("session",), "invalid_type")])
    raw_version = session.metadata.get(VERSION_KEY)
    expected = version_of(session)
    if raw_version is not None and (expected is None or expected < 1):
        raise ValidationError(
            "invalid_session",
            f"session {session.id!r}: metadata[{VERSION_KEY!r}] must be a positive int, "
            f"got {raw_version!r}",
            errors=[(("metadata", VERSION_KEY), "invalid_type")],
            metadata={"session_id": session.id},
        )
    if session.id is None:  # never stored: a new id, and nothing to be newer than
        session, expected = replace(session, id=new_session_id()), None
    session_id = check_id(session.id)
    metadata = {key: value for key, value in session.metadata.items() if key != VERSION_KEY}
    bare = replace(session, metadata=metadata)
    problems = validate.errors_session(bare)
    if problems:
        error = ValidationError("invalid_session", errors=problems)
        raise ValidationError(
            "invalid_session",
            f"session {session_id!r} cannot be saved: {error.message}",
            errors=problems,
            metadata={"session_id": session_id},
        )
    return Record(
        session=session,
        id=session_id,
        data=codec.to_json(bare),
        status=SessionStatus(bare.status).value,
        expected=expected,
        schema_version=SCHEMA_VERSION,
    )


def decode_record(session_id: str, data: Any, version: Any, schema_version: Any) -> Session:
    """The session a stored record holds, with its version; a clear error naming the session when
    the record cannot be read back. Nothing is written either way."""
    if (
        not isinstance(schema_version, int)
        or isinstance(schema_version, bool)
        or schema_version < 1
    ):
        raise CorruptSessionError(
            None,
            f"stored session {session_id!r} has no valid schema version ({schema_version!r})",
            metadata={"session_id": session_id, "schema_version": repr(schema_version)},
        )
    if schema_version > SCHEMA_VERSION:
        raise SchemaVersionError(
            None,
            f"stored session {session_id!r} has schema version {schema_version}; this allm reads "
            f"up to {SCHEMA_VERSION}: upgrade allm to read it",
            metadata={
                "session_id": session_id,
                "schema_version": schema_version,
                "supported": SCHEMA_VERSION,
            },
        )
    for step in range(schema_version, SCHEMA_VERSION):
        migrate = MIGRATIONS.get(step)
        if migrate is None:
            raise SchemaVersionError(
                None,
                f"stored session {session_id!r}: no migration from schema version {step}",
                metadata={"session_id": session_id, "schema_version": schema_version},
            )
        data = migrate(data)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise CorruptSessionError(
            None,
            f"stored session {session_id!r} has no valid version ({version!r})",
            metadata={"session_id": session_id, "version": repr(version)},
        )
    try:
        session: Session = codec.from_json(data, as_=Session)
    except Exception as exc:  # any failure to decode stored data is the record's fault
        detail = getattr(exc, "message", None) or str(exc)
        raise CorruptSessionError(
            None,
            f"stored session {session_id!r} cannot be decoded: {detail}",
            metadata={"session_id": session_id, "version": version},
            cause=exc,
        ) from exc
    if session.id != session_id:
        raise CorruptSessionError(
            None,
            f"stored session {session_id!r} holds a session with id {session.id!r}",
            metadata={"session_id": session_id, "version": version},
        )
    problems = validate.errors_session(session)
    if problems:
        listed = ValidationError("invalid_session", errors=problems).message
        raise CorruptSessionError(
            None,
            f"stored session {session_id!r} is invalid: {listed}",
            metadata={"session_id": session_id, "version": version, "errors": tuple(problems)},
        )
    return replace(session, metadata={**session.metadata, VERSION_KEY: version})


def conflict(session_id: str, expected: int | None, stored: int | None) -> ConflictError:
    """The error for a save (or delete) that lost the race."""
    if stored is None:
        detail = "it was deleted meanwhile"
    elif expected is None:
        detail = f"a session with this id is already stored (version {stored})"
    else:
        detail = f"version {expected} was loaded, the store holds version {stored}"
    return ConflictError(
        None,
        f"session {session_id!r} was changed by someone else: {detail}; load it again",
        metadata={"session_id": session_id, "expected_version": expected, "stored_version": stored},
    )


def not_found(session_id: str) -> SessionNotFoundError:
    """The error for an id that is not stored."""
    return SessionNotFoundError(
        None, f"no stored session with id {session_id!r}", metadata={"session_id": session_id}
    )


# -- outages ------------------------------------------------------------------------------------

SCRUBBED = "***"


def url_secrets(url: str) -> builtins.list[str]:
    """The password of a connection URL (``scheme://user:password@host``) or libpq key/value
    string (``password=...``), as written and percent-decoded: the texts to scrub."""
    from urllib.parse import unquote, urlsplit

    found: builtins.list[str] = []
    try:
        password = urlsplit(url).password if "://" in url else None
    except ValueError:  # a malformed URL (an open IPv6 bracket): take the userinfo by hand
        password = None
    if password is None and "://" in url:
        userinfo = url.split("://", 1)[1].rsplit("@", 1)
        if len(userinfo) == 2 and ":" in userinfo[0]:
            password = userinfo[0].split(":", 1)[1]
    if password:
        found += [password, unquote(password)]
    for match in re.finditer(r"password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", url):
        value = match.group(1).split("&")[0]  # in a URL's query, the next parameter follows
        found += [value, value.strip("'"), unquote(value)]
    return [text for text in found if text]


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret replaced by ``***`` (the longest first)."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        text = text.replace(secret, SCRUBBED)
    return text


def scrub_exception(exc: BaseException, secrets: Iterable[str]) -> BaseException:
    """``exc`` with every secret scrubbed from its arguments, and from those of the errors it was
    raised from (``__cause__``, ``__context__``); changed in place, and returned."""
    secrets = builtins.list(secrets)
    seen: set[int] = set()
    current: BaseException | None = exc
    while secrets and current is not None and id(current) not in seen:
        seen.add(id(current))
        current.args = tuple(
            scrub(arg, secrets) if isinstance(arg, str) else arg for arg in current.args
        )
        current = current.__cause__ or current.__context__
    return exc


def unavailable(
    store: object,
    operation: str,
    session_id: str | None,
    exc: BaseException,
    secrets: Iterable[str] = (),
) -> StoreError:
    """The error for a database that is down or refused ``operation``; ``exc`` (the driver's
    error, scrubbed of ``secrets``) is its cause."""
    secrets = builtins.list(secrets)
    cause = scrub_exception(exc, secrets)
    detail = scrub(str(cause), secrets).strip() or "no detail"
    about = f" session {session_id!r}" if session_id is not None else ""
    name = type(store).__name__
    metadata: dict[str, Any] = {"operation": operation, "store": name}
    if session_id is not None:
        metadata["session_id"] = session_id
    return StoreError(
        None,
        f"{name} could not {operation}{about}: the database is unavailable or refused it "
        f"({type(cause).__name__}: {detail}); nothing stored before is lost, retry when it is back",
        metadata=metadata,
        cause=cause,
    )


# -- the shared implementation --------------------------------------------------------------


class BlockingStore:
    """A store over a blocking driver. Subclasses implement four primitives, each atomic:

    * ``_write(record, now) -> (ok, version)``: store ``record`` if the stored version is still
      ``record.expected`` (``None``: no record yet); ``(True, new_version)``, or
      ``(False, stored_version_or_None)`` having written nothing;
    * ``_read(id) -> (data, version, schema_version) | None``;
    * ``_remove(id, version) -> (removed, stored_version_or_None)`` (the stored version matters
      only when nothing was removed: it tells a version mismatch from an absent session);
    * ``_page(after, limit) -> list[SessionInfo]`` in id order.

    The async twins run the blocking method in a worker thread, so a store is not tied to one
    event loop and the drivers' own async clients are not needed.

    A driver error (one of ``_driver_errors``) raised by a primitive becomes ``StoreError``, scrubbed
    of ``_secrets()``; every other error passes through as it is.
    """

    _driver_errors: tuple[type[BaseException], ...] = ()

    def _secrets(self) -> builtins.list[str]:
        """Texts (passwords) that must never appear in an error."""
        return []

    @contextlib.contextmanager
    def _outage(self, operation: str, session_id: str | None = None) -> Iterator[None]:
        try:
            yield
        except self._driver_errors as exc:
            raise unavailable(self, operation, session_id, exc, self._secrets()) from exc

    def _write(self, record: Record, now: float) -> tuple[bool, int | None]:
        raise NotImplementedError

    def _read(self, session_id: str) -> tuple[Any, Any, Any] | None:
        raise NotImplementedError

    def _remove(self, session_id: str, version: int | None) -> tuple[bool, int | None]:
        raise NotImplementedError

    def _page(self, after: str | None, limit: int) -> builtins.list[SessionInfo]:
        raise NotImplementedError

    def _commit_point(self) -> None:
        """Called inside a save's transaction, after the write and before the commit (a seam for
        crash tests; does nothing)."""

    def close(self) -> None:
        """Release the store's connections."""

    # -- sync -----------------------------------------------------------------------------------

    def save(self, session: Session) -> Session:
        """Store ``session``; returns it with its id and new version (see ``SessionStore``)."""
        record = encode_record(session)
        with self._outage("save", record.id):
            ok, version = self._write(record, time.time())
        if not ok:
            raise conflict(record.id, record.expected, version)
        assert version is not None
        return record.stored(version)

    def load(self, session_id: str) -> Session:
        """The stored session, or ``SessionNotFoundError``."""
        with self._outage("load", check_id(session_id)):
            row = self._read(session_id)
        if row is None:
            raise not_found(session_id)
        data, version, schema_version = row
        return decode_record(session_id, data, version, schema_version)

    def delete(self, session_id: str, *, version: int | None = None) -> bool:
        """Remove a session; ``False`` if there was none. With ``version``, a stored session of
        another version raises ``ConflictError`` and stays."""
        with self._outage("delete", check_id(session_id)):
            removed, stored = self._remove(session_id, version)
        if not removed and stored is not None:
            raise conflict(session_id, version, stored)
        return removed

    def list(self, *, limit: int = 100, cursor: str | None = None) -> Page:
        """A page of stored sessions in id order, starting after ``cursor``."""
        check_page(limit, cursor)
        with self._outage("list"):
            rows = self._page(cursor, limit + 1)
        if len(rows) > limit:
            rows = rows[:limit]
            return Page(tuple(rows), rows[-1].id)
        return Page(tuple(rows), None)

    # -- async ----------------------------------------------------------------------------------

    async def _thread(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        import anyio.to_thread

        return await anyio.to_thread.run_sync(functools.partial(function, *args, **kwargs))

    async def asave(self, session: Session) -> Session:
        """The async twin of ``save``."""
        return await self._thread(self.save, session)

    async def aload(self, session_id: str) -> Session:
        """The async twin of ``load``."""
        return await self._thread(self.load, session_id)

    async def adelete(self, session_id: str, *, version: int | None = None) -> bool:
        """The async twin of ``delete``."""
        return await self._thread(self.delete, session_id, version=version)

    async def alist(self, *, limit: int = 100, cursor: str | None = None) -> Page:
        """The async twin of ``list``."""
        return await self._thread(self.list, limit=limit, cursor=cursor)

    async def aclose(self) -> None:
        """The async twin of ``close``."""
        await self._thread(self.close)

    def __enter__(self: T) -> T:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self: T) -> T:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def info(session_id: Any, version: Any, status: Any, updated_at: Any) -> SessionInfo:
    """A listing entry from raw column values (bytes from Redis are decoded)."""

    def text(value: Any) -> str:
        return value.decode("utf-8") if isinstance(value, bytes) else str(value)

    return SessionInfo(text(session_id), int(version), text(status), float(updated_at))
