"""Effects: what adapter code asks a driver to do, so that the adapter itself never does I/O.

An adapter's stream is a generator of events and effects. The sync driver performs an effect with
blocking calls, the async driver with awaits; each sends the result back into the generator.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["Deadline", "Effect", "Scope", "Sleep", "relay"]


class Scope:
    """What effects opened during one drive (HTTP responses, ...). The driver closes whatever is
    still open when the drive ends, however it ends, exactly once.

    ``deadline`` (a ``time.monotonic()`` instant, or None) bounds every HTTP exchange of the
    drive: set by the ``Deadline`` effect a retry loop yields when a model request starts."""

    __slots__ = ("_next", "deadline", "resources")

    def __init__(self) -> None:
        self.resources: dict[int, Any] = {}
        self._next = 0
        self.deadline: float | None = None

    def add(self, resource: Any) -> int:
        """Keep ``resource`` (it has ``close()`` or ``aclose()``); returns its handle."""
        self._next += 1
        self.resources[self._next] = resource
        return self._next

    def get(self, handle: int) -> Any:
        """The resource behind ``handle``."""
        return self.resources[handle]

    def close(self, handle: int) -> None:
        """Close one resource now (sync); later closes of the same handle do nothing."""
        resource = self.resources.pop(handle, None)
        if resource is not None:
            resource.close()

    async def aclose(self, handle: int) -> None:
        """Close one resource now (async); later closes of the same handle do nothing."""
        resource = self.resources.pop(handle, None)
        if resource is not None:
            await resource.aclose()

    def close_all(self) -> None:
        """Close everything still open (sync driver)."""
        while self.resources:
            self.close(next(iter(self.resources)))

    async def aclose_all(self) -> None:
        """Close everything still open (async driver)."""
        while self.resources:
            await self.aclose(next(iter(self.resources)))


class Effect:
    """Base of every effect; the drivers tell effects from events by this class.

    ``run_sync`` and ``run_async`` perform it; their result is sent back into the generator.
    """

    __slots__ = ()

    def run_sync(self, scope: Scope) -> Any:
        """Perform the effect, blocking."""
        raise NotImplementedError

    async def run_async(self, scope: Scope) -> Any:
        """Perform the effect, awaiting."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Sleep(Effect):
    """Wait ``seconds`` before going on."""

    seconds: float

    def run_sync(self, scope: Scope) -> None:
        if self.seconds > 0:
            time.sleep(self.seconds)

    async def run_async(self, scope: Scope) -> None:
        import anyio

        await anyio.sleep(max(self.seconds, 0))


@dataclass(frozen=True, slots=True)
class Deadline(Effect):
    """From now on, HTTP exchanges of this drive end ``seconds`` from now (``None``: no bound).
    Answers with the deadline as a ``time.monotonic()`` instant, or ``None``."""

    seconds: float | None

    def _set(self, scope: Scope) -> float | None:
        scope.deadline = None if self.seconds is None else time.monotonic() + self.seconds
        return scope.deadline

    def run_sync(self, scope: Scope) -> float | None:
        return self._set(scope)

    async def run_async(self, scope: Scope) -> float | None:
        return self._set(scope)


def relay(
    plan: Iterator[Any], on_event: Callable[[Any], Iterable[Any]]
) -> Generator[Any, Any, Any]:
    """Run a nested plan inside another: its effects go out (their results back in), each of its
    events becomes what ``on_event`` returns; the plan is closed exactly once, and its return
    value is returned."""
    send = plan.send  # type: ignore[attr-defined]
    reply: Any = None
    try:
        while True:
            try:
                item = send(reply)
            except StopIteration as stop:
                return stop.value
            reply = None
            if isinstance(item, Effect):
                reply = yield item
            else:
                yield from on_event(item)
    finally:
        plan.close()  # type: ignore[attr-defined]
