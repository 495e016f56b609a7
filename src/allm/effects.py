"""Effects: what adapter code asks a driver to do, so that the adapter itself never does I/O.

An adapter's stream is a generator of events and effects. The sync driver performs an effect with
blocking calls, the async driver with awaits; each sends the result back into the generator.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

__all__ = ["Effect", "Sleep"]


class Effect:
    """Base of every effect; the drivers tell effects from events by this class.

    ``run_sync`` and ``run_async`` perform it; their result is sent back into the generator.
    """

    __slots__ = ()

    def run_sync(self) -> Any:
        """Perform the effect, blocking."""
        raise NotImplementedError

    async def run_async(self) -> Any:
        """Perform the effect, awaiting."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Sleep(Effect):
    """Wait ``seconds`` before going on."""

    seconds: float

    def run_sync(self) -> None:
        if self.seconds > 0:
            time.sleep(self.seconds)

    async def run_async(self) -> None:
        import anyio

        await anyio.sleep(max(self.seconds, 0))
