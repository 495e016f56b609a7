"""Middleware: request rewrites before a call and event transforms after it.

An item of ``Engine(middleware=(...))`` may define ``transform_request(request, ctx) -> Request``
(run once the final request is built, before it is validated) and ``wrap_events(events, ctx) ->
events``, a plain iterator transform over the call's events, which serves the sync and the async
API alike. The built-ins are frozen dataclasses, so engines carrying them stay serializable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_names
from .chain import MiddlewareContext, transform_request, wrap_plan

if TYPE_CHECKING:
    from .builtins import (
        DefaultOptions,
        ExtractReasoning,
        LogRequests,
        Redact,
        default_options,
        extract_reasoning,
        log_requests,
        redact,
    )

__all__ = [
    "DefaultOptions",
    "ExtractReasoning",
    "LogRequests",
    "MiddlewareContext",
    "Redact",
    "default_options",
    "extract_reasoning",
    "log_requests",
    "redact",
    "transform_request",
    "wrap_plan",
]

# The built-ins load on first use: a call on an engine without middleware never needs them.
_BUILTINS = frozenset(__all__) - {"MiddlewareContext", "transform_request", "wrap_plan"}
__getattr__ = lazy_names(globals(), dict.fromkeys(_BUILTINS, "allm.middleware.builtins"))
