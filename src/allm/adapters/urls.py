"""Names that enter a URL path (a model, a deployment), checked before they do.

A model name sent in a path could otherwise walk it: ``../../v1/other`` on a host that also gets the
key. Every adapter that puts a name in a URL calls ``path_segment`` (in its pre-flight ``check``
and where it builds the URL), so a bad name is a ``ValidationError`` before any key or I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from ..errors import ValidationError

__all__ = ["path_segment", "path_segment_problem"]

_FORBIDDEN = re.compile(r"[\x00-\x20\x7f?#%\\]")


def path_segment_problem(
    name: Any, *, prefixes: Sequence[str] = (), encoded_slashes: bool = False
) -> str | None:
    """Why ``name`` cannot enter a URL path, or None. One of ``prefixes`` (``"models/"``) may
    lead it; elsewhere no ``/`` is allowed (unless ``encoded_slashes``: the whole name is sent
    percent-encoded, ``/`` as ``%2F``, as Bedrock takes ARNs), nor ``.`` / ``..`` segments,
    whitespace, control characters, ``?``, ``#``, ``%`` or ``\\``."""
    if not isinstance(name, str) or not name:
        return "empty_model_name"
    rest = name
    for prefix in prefixes:
        if name.startswith(prefix):
            rest = name[len(prefix) :]
            break
    if not rest:
        return "empty_model_name"
    if _FORBIDDEN.search(name) or not name.isprintable():
        return "unsafe_characters_in_model_name"
    if "/" in rest and not encoded_slashes:
        return "slash_in_model_name"
    if rest in (".", "..") or ".." in rest:
        return "dot_segment_in_model_name"
    return None


def path_segment(
    name: Any, *, provider: str, prefixes: Sequence[str] = (), encoded_slashes: bool = False
) -> str:
    """``name`` quoted for a URL path; raises ``ValidationError("invalid_request")`` with the path
    ``("model",)`` when it cannot go there. With ``encoded_slashes`` every reserved character
    (``/`` and ``:`` included) is percent-encoded, so the name is one segment whatever it holds."""
    problem = path_segment_problem(name, prefixes=prefixes, encoded_slashes=encoded_slashes)
    if problem is not None:
        raise ValidationError(
            "invalid_request",
            f"model {name!r} cannot be sent to {provider} in a URL path: {problem}",
            errors=[(("model",), problem)],
        )
    return quote(str(name), safe="" if encoded_slashes else "/:@")
