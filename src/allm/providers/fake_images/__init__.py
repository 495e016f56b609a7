"""FakeImages: a deterministic, scripted image adapter, for tests and offline examples.

Like the chat ``Fake`` it ignores the request and replays a script, here from the engine's (or
the call's) ``adapter_opts["image_script"]``. Each image call consumes one entry::

    ok(*images, usage=None, **fields)   ("ok", [images])  or  ("ok", [images], {"usage": ...})
    error("rate_limited", **fields)     ("error", ImageAdapterError(...))  or  ("error", "timeout")
    retry_until_call(n)                 ("retry_until_call", n)

``images`` are ``ImagePart``s or ``Image``s (``png()`` makes a small valid PNG). The default usage
is ``ImageUsage(images=len(images))``; ``fields`` may set ``id``, ``model``, ``raw`` and
``metadata``. An ``error`` entry fails that call (the façade retries the retryable reasons).
``retry_until_call(n)`` fails the next ``n - 1`` calls with ``rate_limited``
(``retry_after_ms=0``), then serves the entry after it. A call past the end of the script, or with
no script, fails with ``ImageAdapterError("unknown", metadata={"cause": "no_scripted_image"})``.

Other options: ``image_record`` (a list or a callable receiving ``(request, call)`` on every
call), ``image_script_cursor`` (a ``ScriptCursor`` to share between engines). Each engine has its
own cursor otherwise. ``FakeImages(operations=("generate",))`` supports only the operations
named (all three by default), to exercise the unsupported-operation path; an unsupported
operation is rejected before the script is read.
"""

from __future__ import annotations

from ..fake import ScriptCursor
from .adapter import FakeImages
from .script import (
    ALL_OPERATIONS,
    ImageEntry,
    ImageError,
    ImageOk,
    RetryUntilCall,
    error,
    ok,
    parse_image_script,
    png,
    retry_until_call,
)

__all__ = [
    "ALL_OPERATIONS",
    "FakeImages",
    "ImageError",
    "ImageOk",
    "RetryUntilCall",
    "ScriptCursor",
    "error",
    "ok",
    "parse_image_script",
    "png",
    "retry_until_call",
    "ImageEntry",
]
