"""``update`` / ``aupdate``: load, change, save, and start over when someone else saved first.

Between attempts ``update`` sleeps a random time ("full jitter") under a bound that doubles per
lost race, starting from ``backoff`` or from how long the last attempt took, whichever is longer:
writers that collided spread out instead of colliding again, and a slow ``fn`` (a model call)
backs off in proportion to its own length. See docs/design/sessions.md, "Many writers".
"""

from __future__ import annotations

import inspect
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

from ..data.results import Session
from ..errors import ConflictError
from ._base import SessionStore

__all__ = ["DEFAULT_BACKOFF", "DEFAULT_RETRIES", "aupdate", "backoff_delay", "update"]

R = TypeVar("R")

#: Attempts after the first before the last ``ConflictError`` is raised.
DEFAULT_RETRIES = 30
#: The smallest first wait bound, in seconds.
DEFAULT_BACKOFF = 0.005
#: The wait bound stops doubling here (or at 8 times the last attempt, if that is longer).
MAX_BACKOFF = 1.0


def backoff_delay(
    lost: int, backoff: float, last_attempt: float, uniform: Callable[[float, float], float]
) -> float:
    """Seconds to wait after the ``lost``-th lost race (1, 2, ...): uniform in ``[0, bound]``."""
    base = max(backoff, last_attempt)
    ceiling = max(MAX_BACKOFF, 8 * last_attempt)
    return uniform(0.0, min(ceiling, base * 2 ** (lost - 1)))


def _split(outcome: Any) -> tuple[Session, tuple[Any, ...] | None]:
    if isinstance(outcome, Session):
        return outcome, None
    if isinstance(outcome, tuple) and outcome and isinstance(outcome[0], Session):
        return outcome[0], outcome[1:]
    raise TypeError(
        "the update function must return a Session or a tuple starting with one "
        f"(as every allm.sessions operation does), got {type(outcome).__name__}"
    )


def _check(retries: int, backoff: float) -> None:
    problems = []
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        problems.append(f"retries must be an int >= 0, got {retries!r}")
    if (
        not isinstance(backoff, int | float)
        or isinstance(backoff, bool)
        or not 0 <= backoff <= MAX_BACKOFF * 60
    ):
        problems.append(f"backoff must be seconds from 0 to {MAX_BACKOFF * 60:g}, got {backoff!r}")
    if problems:
        raise ValueError("; ".join(problems))


@overload
def update(
    store: SessionStore,
    session_id: str,
    fn: Callable[[Session], tuple[Session, R]],
    *,
    retries: int = ...,
    backoff: float = ...,
) -> tuple[Session, R]: ...


@overload
def update(
    store: SessionStore,
    session_id: str,
    fn: Callable[[Session], Session],
    *,
    retries: int = ...,
    backoff: float = ...,
) -> Session: ...


def update(
    store: SessionStore,
    session_id: str,
    fn: Callable[[Session], Any],
    *,
    retries: int = DEFAULT_RETRIES,
    backoff: float = DEFAULT_BACKOFF,
) -> Any:
    """Load the session, apply ``fn``, save; on ``ConflictError`` (another worker saved first)
    wait a jittered, growing time, load the new version and apply ``fn`` again, up to ``retries``
    more times::

        session, result = stores.update(store, sid, lambda s: sessions.reply(engine, s, "yes"))

    ``fn`` returns a session, or a tuple that starts with one (what every ``allm.sessions``
    operation returns); ``update`` returns the same shape with the session as stored. ``fn`` may
    run more than once, so it must be safe to repeat: a model call in it is made again. The last
    ``ConflictError`` is raised when every attempt lost; a store that cannot be reached raises
    ``StoreError`` at once (nothing is retried against a database that is down).
    ``backoff`` is the first wait's upper bound in seconds.
    """
    _check(retries, backoff)
    lost = 0
    while True:
        started = time.monotonic()
        session, rest = _split(fn(store.load(session_id)))
        try:
            saved = store.save(session)
        except ConflictError:
            if lost >= retries:
                raise
            lost += 1
            time.sleep(backoff_delay(lost, backoff, time.monotonic() - started, random.uniform))
            continue
        return saved if rest is None else (saved, *rest)


@overload
async def aupdate(
    store: SessionStore,
    session_id: str,
    fn: Callable[[Session], Awaitable[tuple[Session, R]]] | Callable[[Session], tuple[Session, R]],
    *,
    retries: int = ...,
    backoff: float = ...,
) -> tuple[Session, R]: ...


@overload
async def aupdate(
    store: SessionStore,
    session_id: str,
    fn: Callable[[Session], Awaitable[Session]] | Callable[[Session], Session],
    *,
    retries: int = ...,
    backoff: float = ...,
) -> Session: ...


async def aupdate(
    store: SessionStore,
    session_id: str,
    fn: Callable[[Session], Any],
    *,
    retries: int = DEFAULT_RETRIES,
    backoff: float = DEFAULT_BACKOFF,
) -> Any:
    """The async twin of ``update``. ``fn`` may return an awaitable, as
    ``lambda s: sessions.areply(engine, s, "yes")`` does."""
    import anyio

    _check(retries, backoff)
    lost = 0
    while True:
        started = time.monotonic()
        outcome = fn(await store.aload(session_id))
        if inspect.isawaitable(outcome):
            outcome = await outcome
        session, rest = _split(outcome)
        try:
            saved = await store.asave(session)
        except ConflictError:
            if lost >= retries:
                raise
            lost += 1
            await anyio.sleep(
                backoff_delay(lost, backoff, time.monotonic() - started, random.uniform)
            )
            continue
        return saved if rest is None else (saved, *rest)
