"""A request body sent as several parts (``HttpRequest.parts``): never joined into one copy,
written in runs of about ``PART_RUN`` bytes, iterable again for every attempt."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

__all__ = ["PART_RUN", "AsyncParts", "Parts", "runs"]

# Parts are written in runs of about this many bytes: one write per small part would cost a
# system call each, one write of the whole body a copy of it.
PART_RUN = 64 * 1024


def runs(parts: tuple[bytes, ...]) -> Iterator[bytes]:
    """``parts`` joined into runs of about ``PART_RUN`` bytes (a large part goes as it is)."""
    run: list[bytes] = []
    size = 0
    for part in parts:
        if len(part) >= PART_RUN:
            if run:
                yield b"".join(run)
                run, size = [], 0
            yield part
            continue
        run.append(part)
        size += len(part)
        if size >= PART_RUN:
            yield b"".join(run)
            run, size = [], 0
    if run:
        yield b"".join(run)


class Parts:
    """A body of several parts for the blocking client; iterable again for every attempt."""

    __slots__ = ("parts",)

    def __init__(self, parts: tuple[bytes, ...]) -> None:
        self.parts = parts

    def __iter__(self) -> Iterator[bytes]:
        return runs(self.parts)


class AsyncParts:
    """The same for the async client, which sends async iterables only (so no ``__iter__``)."""

    __slots__ = ("parts",)

    def __init__(self, parts: tuple[bytes, ...]) -> None:
        self.parts = parts

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for run in runs(self.parts):
            yield run
