"""The adapter contract, and adapter lookup by name.

An adapter translates one ``Request`` into provider traffic and the answer back into events. It
never does I/O itself: ``stream`` returns a generator of events and effects (see ``allm.effects``)
that a sync or an async driver runs, so one adapter serves both APIs.

``stream(request, call)`` runs its pre-flight checks when called and raises on failure; the
generator it returns must be lazy (no effect before the first ``next``) and must emit only adapter
events (``allm.events.ADAPTER_EVENT_TYPES``), ending in ``MessageCompleted`` or ``ErrorEvent``.
Usage travels as ``RawChunk(("usage", {...}))`` with ``Usage`` field names. Failures after the
generator started are ``ErrorEvent``s, never exceptions. A ``finally`` in the generator is the
cleanup hook; it runs exactly once, however the consumer leaves.

``generate(request, call)`` is the optional non-streaming path: a generator of effects that returns
a ``Response`` (or raises the ``AdapterError`` it ended with), retried under ``call.retry``.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ..errors import ConfigurationError

if TYPE_CHECKING:
    from ..data.request import Request
    from ..data.response import Response
    from ..effects import Effect
    from ..engine import Engine
    from ..events import Event
    from ..retry import RetryPolicy

__all__ = [
    "Adapter",
    "Call",
    "StreamAdapter",
    "TRANSPORT_KEYS",
    "name_of",
    "register_adapter",
    "registered_names",
    "resolve_adapter",
]

# Transport settings: read by adapters from their options, never sent in a request body.
TRANSPORT_KEYS = frozenset(
    {
        "base_url",
        "headers",
        "timeout",
        "request_timeout",
        "receive_timeout",
        "pool_timeout",
        "stream_timeout",
        "http_client",
        "async_http_client",
        "endpoint",
        "max_sse_line_bytes",
    }
)


@dataclass(frozen=True, slots=True)
class Call:
    """Everything an adapter gets besides the request: resolved once per call by the runner.

    ``params`` are provider parameters (engine params and unknown call keywords); ``adapter_opts``
    the engine's adapter options overlaid by the call's (transport keywords included). The key is
    not resolved here: adapters call ``allm.keys.fetch(provider, call.api_key)`` after their own
    checks, so a request that fails locally never needs a key.
    """

    request_id: str
    engine: Engine
    params: Mapping[str, Any] = field(default_factory=dict)
    adapter_opts: Mapping[str, Any] = field(default_factory=dict)
    api_key: str | None = field(default=None, repr=False)
    retry: RetryPolicy | None = None

    def opt(self, name: str, default: Any = None) -> Any:
        """An adapter option by name."""
        return self.adapter_opts.get(name, default)


@runtime_checkable
class StreamAdapter(Protocol):
    """An adapter that can stream (every bundled adapter can)."""

    name: str

    def stream(self, request: Request, call: Call) -> Iterator[Event | Effect]:
        """Pre-flight now; return a lazy generator of events and effects."""
        ...


@runtime_checkable
class Adapter(Protocol):
    """An adapter with a non-streaming path."""

    name: str

    def generate(self, request: Request, call: Call) -> Generator[Effect, Any, Response]:
        """Pre-flight now; return a generator of effects whose return value is the response."""
        ...


_lock = threading.Lock()
_registry: dict[str, str | type[Any]] = {
    "fake": "allm.providers.fake:Fake",
    "openai": "allm.providers.openai:OpenAI",
    "openai_compatible": "allm.providers.openai:OpenAICompatible",
    "anthropic": "allm.providers.anthropic:Anthropic",
    "gemini": "allm.providers.gemini:Gemini",
    "openai_images": "allm.providers.openai_images:OpenAIImages",
    "fake_images": "allm.providers.fake_images:FakeImages",
    "openai_speech": "allm.providers.openai_audio:OpenAISpeech",
    "fake_speech": "allm.providers.fake_audio:FakeSpeech",
    "openai_transcription": "allm.providers.openai_audio:OpenAITranscription",
    "gemini_transcription": "allm.providers.gemini_transcription:GeminiTranscription",
    "fake_transcription": "allm.providers.fake_audio:FakeTranscription",
}
_default_instances: dict[type[Any], Any] = {}


def register_adapter(name: str, adapter: str | type[Any]) -> None:
    """Make ``name`` resolve to ``adapter`` (a class or a ``"module:Class"`` import path)."""
    with _lock:
        _registry[name] = adapter


def registered_names() -> frozenset[str]:
    """Every name an engine may use for its adapter."""
    return frozenset(_registry)


def _load(ref: str | type[Any]) -> type[Any]:
    if isinstance(ref, type):
        return ref
    module_name, _, qualname = ref.partition(":")
    target: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        target = getattr(target, part)
    assert isinstance(target, type)
    return target


def resolve_adapter(ref: Any) -> Any:
    """The adapter object for an engine's ``adapter`` value (class, instance or name), or None.

    A class or name resolves to one shared instance per class, as a module would in Elixir.
    """
    if ref is None:
        return None
    if isinstance(ref, str):
        target = _registry.get(ref)
        if target is None:
            raise ConfigurationError(
                "invalid_adapter",
                problems=[f"unknown adapter name {ref!r}; registered: {sorted(_registry)}"],
            )
        ref = _load(target)
    if isinstance(ref, type):
        instance = _default_instances.get(ref)
        if instance is None:
            with _lock:
                instance = _default_instances.setdefault(ref, ref())
        return instance
    return ref


def name_of(adapter: Any, callable_ref: Callable[[Any, str], str]) -> str:
    """How an engine stores ``adapter`` in JSON: a registered name, else an import path."""
    if isinstance(adapter, str):
        return adapter
    cls = adapter if isinstance(adapter, type) else type(adapter)
    for name, target in _registry.items():
        if target is cls or (
            isinstance(target, str) and target == f"{cls.__module__}:{cls.__qualname__}"
        ):
            return name
    return callable_ref(
        cls if not callable(adapter) or isinstance(adapter, type) else adapter, "adapter"
    )
