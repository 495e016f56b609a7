"""``update`` / ``aupdate``: load, change, save, and start over when someone else saved first."""

from __future__ import annotations

import inspect
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

from ..data.results import Session
from ..errors import ConflictError
from ._base import SessionStore

__all__ = ["aupdate", "update"]

R = TypeVar("R")

DEFAULT_RETRIES = 8
_BASE_DELAY = 0.002  # seconds; doubled per attempt, with full jitter


def _delay(attempt: int) -> float:
    return random.uniform(0, _BASE_DELAY * (2**attempt))


def _split(outcome: Any) -> tuple[Session, tuple[Any, ...] | None]:
    if isinstance(outcome, Session):
        return outcome, None
    if isinstance(outcome, tuple) and outcome and isinstance(outcome[0], Session):
        return outcome[0], outcome[1:]
    raise TypeError(
        "the update function must return a Session or a tuple starting with one "
        f"(as every allm.sessions operation does), got {type(outcome).__name__}"
    )


def _check_retries(retries: int) -> None:
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        raise ValueError(f"retries must be an int >= 0, got {retries!r}")


@overload
def update(
    store: SessionStore,
    session_id: str,
    fn: Callable[[Session], tuple[Session, R]],
    *,
    retries: int = ...,
) -> tuple[Session, R]: ...


@overload
def update(
    store: SessionStore,
    session_id: str,
    fn: Callable[[Session], Session],
    *,
    retries: int = ...,
) -> Session: ...


def update(
    store: SessionStore,
    session_id: str,
    fn: Callable[[Session], Any],
    *,
    retries: int = DEFAULT_RETRIES,
) -> Any:
    """Load the session, apply ``fn``, save; on ``ConflictError`` (another worker saved first) load
    the new version and apply ``fn`` again, up to ``retries`` more times::

        session, result = stores.update(store, sid, lambda s: sessions.reply(engine, s, "yes"))

    ``fn`` returns a session, or a tuple that starts with one (what every ``allm.sessions``
    operation returns); ``update`` returns the same shape with the session as stored. ``fn`` may
    run more than once, so it must be safe to repeat: a model call in it is made again. The last
    ``ConflictError`` is raised when every attempt lost.
    """
    _check_retries(retries)
    attempt = 0
    while True:
        session, rest = _split(fn(store.load(session_id)))
        try:
            saved = store.save(session)
        except ConflictError:
            if attempt >= retries:
                raise
            attempt += 1
            time.sleep(_delay(attempt))
            continue
        return saved if rest is None else (saved, *rest)


@overload
async def aupdate(
    store: SessionStore,
    session_id: str,
    fn: Callable[[Session], Awaitable[tuple[Session, R]]] | Callable[[Session], tuple[Session, R]],
    *,
    retries: int = ...,
) -> tuple[Session, R]: ...


@overload
async def aupdate(
    store: SessionStore,
    session_id: str,
    fn: Callable[[Session], Awaitable[Session]] | Callable[[Session], Session],
    *,
    retries: int = ...,
) -> Session: ...


async def aupdate(
    store: SessionStore,
    session_id: str,
    fn: Callable[[Session], Any],
    *,
    retries: int = DEFAULT_RETRIES,
) -> Any:
    """The async twin of ``update``. ``fn`` may return an awaitable, as
    ``lambda s: sessions.areply(engine, s, "yes")`` does."""
    import anyio

    _check_retries(retries)
    attempt = 0
    while True:
        outcome = fn(await store.aload(session_id))
        if inspect.isawaitable(outcome):
            outcome = await outcome
        session, rest = _split(outcome)
        try:
            saved = await store.asave(session)
        except ConflictError:
            if attempt >= retries:
                raise
            attempt += 1
            await anyio.sleep(_delay(attempt))
            continue
        return saved if rest is None else (saved, *rest)
