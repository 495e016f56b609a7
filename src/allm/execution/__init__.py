"""The runner, the chat loop and the image façade: the surfaces that run calls.

``generate`` is the fold of ``stream_generate``; ``StreamCollector`` is that fold, public;
``EventStream`` / ``AsyncEventStream`` are the streams the calls return. These names load on
first use, like the package's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_names

if TYPE_CHECKING:
    from ..collector import StreamCollector
    from .api import agenerate, astream_generate, generate, stream_generate, unwrap
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
    "AsyncEventStream": "allm.execution.streams",
    "EventStream": "allm.execution.streams",
    "StreamCollector": "allm.collector",
    "agenerate": "allm.execution.api",
    "astream_generate": "allm.execution.api",
    "generate": "allm.execution.api",
    "stream_generate": "allm.execution.api",
    "unwrap": "allm.execution.api",
}


__getattr__ = lazy_names(globals(), _WHERE)


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})
