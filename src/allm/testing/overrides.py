"""``override`` and ``capture``: testing code that builds its own engines.

``override(engine_or_adapter)`` makes every allm call inside it (chat, images, embeddings,
moderation, speech, transcription) run with the given engine, whichever engine the code under
test passed. Given an adapter instead (a class, an instance or a registered name), only the slot
that adapter serves is replaced (``embedding_adapter`` for an adapter with ``embed``,
``moderation_adapter`` for one with ``moderate``, ``speech_adapter`` / ``transcription_adapter``
for one with ``synthesize`` / ``transcribe``, ``image_adapter`` for an image adapter, else the
chat ``adapter``), keeping
the rest of the caller's engine. It is a context manager and a decorator (of plain and async
functions); it holds for the thread or task that entered it and the workers allm starts from it.
Nested overrides combine: the inner one applies on top of the outer one.

``capture()`` collects every request an adapter is asked to send while it is open, in order:
chat ``Request``s (each turn of a chat loop), ``ImageRequest``s, one ``EmbeddingRequest`` /
``ModerationRequest`` per batch, and ``SpeechRequest`` / ``TranscriptionRequest``s.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
from collections.abc import Callable
from dataclasses import replace
from types import TracebackType
from typing import Any, TypeVar

from .. import _hooks

__all__ = ["Capture", "capture", "override"]

F = TypeVar("F", bound=Callable[..., Any])


def _slot_of(adapter: Any) -> str:
    if callable(getattr(adapter, "embed", None)):
        return "embedding_adapter"
    if callable(getattr(adapter, "moderate", None)):
        return "moderation_adapter"
    if callable(getattr(adapter, "synthesize", None)):
        return "speech_adapter"
    if callable(getattr(adapter, "transcribe", None)):
        return "transcription_adapter"
    if callable(getattr(adapter, "supported_operations", None)):
        return "image_adapter"
    return "adapter"


def _replacement(target: Any) -> Callable[[Any], Any]:
    from ..adapters import resolve_adapter
    from ..engine import Engine

    if isinstance(target, Engine):
        return lambda engine: target
    adapter = resolve_adapter(target)
    if adapter is None:
        raise TypeError("override() needs an Engine or an adapter, got None")
    slot = _slot_of(adapter)

    def swap(engine: Any) -> Any:
        if not isinstance(engine, Engine) or getattr(engine, slot) is adapter:
            return engine
        return replace(engine, **{slot: adapter})

    return swap


class override:  # lower case: it reads like a function, ``with override(engine):``
    """Run every allm call inside with ``target`` (see the module doc)."""

    def __init__(self, target: Any) -> None:
        self._replace = _replacement(target)
        self._tokens: list[contextvars.Token[Any]] = []

    def __enter__(self) -> override:
        outer = _hooks.override.get()
        own = self._replace
        if outer is None:
            chosen = own
        else:

            def chosen(engine: Any) -> Any:  # nested overrides apply inside out
                return own(outer(engine))

        self._tokens.append(_hooks.override.set(chosen))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _hooks.override.reset(self._tokens.pop())

    def __call__(self, function: F) -> F:
        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with self:
                    return await function(*args, **kwargs)

            return run_async  # type: ignore[return-value]

        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            with self:
                return function(*args, **kwargs)

        return run  # type: ignore[return-value]


class Capture:
    """An open ``capture()`` block: ``requests`` lists what adapters were asked to send."""

    def __init__(self) -> None:
        self._sink = _hooks.Sink()
        self._token: contextvars.Token[Any] | None = None

    @property
    def requests(self) -> list[Any]:
        """Every request so far, in order (a copy)."""
        return list(self._sink.items)

    def __enter__(self) -> Capture:
        self._token = _hooks.sinks.set((*_hooks.sinks.get(), self._sink))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._token is not None:
            _hooks.sinks.reset(self._token)
            self._token = None


def capture() -> Capture:
    """A context manager collecting every request adapters are asked to send inside it."""
    return Capture()
