"""The event loop allm owns for MCP sessions: one daemon thread, started on first use and joined
when the last session closes, so sync code can use async transports and nothing outlives close.

Every session lives on this loop (anyio streams belong to the loop that made them); callers on
any thread or loop hand it coroutines and wait for the answer, blocking or awaiting.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["BackgroundLoop"]

T = TypeVar("T")


class BackgroundLoop:
    """An asyncio loop in a daemon thread, kept while anyone holds it (``hold`` / ``release``)."""

    def __init__(self, name: str = "allm-mcp") -> None:
        self._name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._holders = 0

    def hold(self) -> None:
        """Keep the loop running (starting it if needed) until the matching ``release``."""
        with self._lock:
            self._holders += 1
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()
                thread = threading.Thread(
                    target=self._run, args=(loop, ready), name=self._name, daemon=True
                )
                thread.start()
                ready.wait()
                self._loop, self._thread = loop, thread

    def release(self) -> None:
        """Drop one hold; the last one stops the loop and joins its thread."""
        with self._lock:
            self._holders -= 1
            if self._holders > 0 or self._loop is None:
                return
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run ``coro`` on the loop; the caller must hold the loop."""
        loop = self._loop
        if loop is None:  # a caller that does not hold the loop: a bug in this package
            coro.close()
            raise RuntimeError("the MCP event loop is not running")
        return asyncio.run_coroutine_threadsafe(coro, loop)

    def in_loop(self) -> bool:
        """Whether the caller runs on the loop's own thread (where it must never block)."""
        return self._thread is threading.current_thread()

    @staticmethod
    def _run(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        try:
            loop.run_forever()
        finally:
            try:
                pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
                for task in pending:
                    task.cancel()
                if pending:
                    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                loop.close()
