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

An adapter with ``stand_in = True`` (the fakes) plays every provider: an engine on it keeps every
call on it whatever provider a model reference names, and it reads the engine's options always.

``generate(request, call)`` is the optional non-streaming path: a generator of effects that returns
a ``Response`` (or raises the ``AdapterError`` it ended with), retried under ``call.retry``.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ..config import TRANSPORT_KEYS
from ..registry import name_of, register_adapter, registered_names, resolve_adapter

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


@dataclass(frozen=True, slots=True)
class Call:
    """Everything an adapter gets besides the request: resolved once per call by the runner.

    ``params`` are provider parameters (engine and configured ``params``, and the call keywords a
    provider reads itself, such as ``reasoning_effort``); ``provider_options`` the body fragment
    of this provider's ``provider_options`` entries (``allm.adapters.options``), which
    ``HttpAdapter.json_request`` deep-merges into the finished body; ``adapter_opts``
    the engine's adapter options (only when they belong to this adapter: the engine names it or
    its model selects it) overlaid by the call's (transport keywords included);
    ``provider_settings`` this provider's ``allm.configure(providers=...)`` entry, which ranks
    below the adapter's own constructor settings. The key is not resolved here: adapters call
    ``HttpSettings.api_key(call)`` after their own checks (so a request that fails locally never
    needs a key), which also refuses a key that cannot be sent. ``raw_chunks`` is the call's
    ``include_raw_chunks``: a streaming adapter then hands out each provider event it decodes
    as a ``RawChunk`` too (nothing is done per event when it is off).
    """

    request_id: str
    engine: Engine
    params: Mapping[str, Any] = field(default_factory=dict)
    provider_options: Mapping[str, Any] = field(default_factory=dict)
    adapter_opts: Mapping[str, Any] = field(default_factory=dict)
    api_key: str | None = field(default=None, repr=False)
    retry: RetryPolicy | None = None
    provider_settings: Mapping[str, Any] = field(default_factory=dict, repr=False)
    raw_chunks: bool = False

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
