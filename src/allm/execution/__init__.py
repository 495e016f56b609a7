"""Layer C, stateless execution: ``generate`` is the fold of ``stream_generate``.

``StreamCollector`` is that fold, public; ``EventStream`` / ``AsyncEventStream`` are the streams
the calls return. Names load on first use, like the package's.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import agenerate, astream_generate, generate, stream_generate, unwrap
    from .collector import StreamCollector
    from .streams import AsyncEventStream, EventStream

__all__ = [
    "AsyncEventStream",
    "EventStream",
    "StreamCollector",
    "agenerate",
    "astream_generate",
    "generate",
    "stream_generate",
    "unwrap",
]

_WHERE = {
    "AsyncEventStream": "streams",
    "EventStream": "streams",
    "StreamCollector": "collector",
    "agenerate": "api",
    "astream_generate": "api",
    "generate": "api",
    "stream_generate": "api",
    "unwrap": "api",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})
