"""Secrets allm has resolved (keys, secret header values), so that no text it keeps carries them.

``remember`` is called wherever a secret enters allm (``allm.keys`` when it resolves a key, the
HTTP kit for headers marked secret). ``scrub`` replaces every remembered secret, and the forms a
transport prints it in (``repr`` escapes such as ``\\n``, the pieces either side of a line break),
with ``[redacted]``. Every ``AllmError`` scrubs its text, metadata and cause when it is built, so an
error is clean whoever raised it (httpx, h11, the OS, a provider's body echoing the key).

Values shorter than ``MIN_SECRET_CHARS`` are not kept: no real key is that short, and scrubbing
``"test"`` out of every message would garble them. The book is bounded (oldest forgotten first).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["MIN_SECRET_CHARS", "REDACTED", "fragments", "remember", "scrub", "scrub_value"]

REDACTED = "[redacted]"
MIN_SECRET_CHARS = 6
_MAX_FRAGMENTS = 8192
# Words that lead a header value and are not secret themselves.
_SCHEMES = frozenset({"bearer", "basic", "token", "digest"})
_BREAKS = re.compile(r"[\s\x00-\x1f\x7f]+|\\(?:x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|[a-z\\'\"])")

_lock = threading.Lock()
_known: dict[str, None] = {}  # insertion-ordered: the oldest is forgotten first
_pattern: re.Pattern[str] | None = None


def fragments(value: str) -> set[str]:
    """The forms of ``value`` that may show up in error text: itself, its ``repr`` escapes, and
    each piece between line breaks, control characters and escapes."""
    forms = {value, value.strip(), repr(value)[1:-1]}
    try:
        forms.add(repr(value.encode("utf-8"))[2:-1])
    except UnicodeEncodeError:  # a lone surrogate
        pass
    for form in list(forms):
        forms.update(_BREAKS.split(form))
    return {
        form for form in forms if len(form) >= MIN_SECRET_CHARS and form.lower() not in _SCHEMES
    }


def remember(value: str | None) -> None:
    """Treat ``value`` (and its printed forms) as secret from now on."""
    global _pattern
    if not isinstance(value, str) or len(value.strip()) < MIN_SECRET_CHARS:
        return
    if value in _known:
        return
    with _lock:
        _known[value] = None
        while len(_known) > _MAX_FRAGMENTS:
            del _known[next(iter(_known))]
        _pattern = None


def _compiled() -> re.Pattern[str] | None:
    global _pattern
    pattern = _pattern
    if pattern is None and _known:
        with _lock:
            forms: set[str] = set()
            for value in _known:
                forms |= fragments(value)
            # Longest first, so a whole value wins over its pieces.
            ordered = sorted(forms, key=len, reverse=True)
            pattern = _pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None
    return pattern


def scrub(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` with every remembered secret (and each of ``extra``) replaced by ``[redacted]``."""
    extra_forms: set[str] = set()
    for value in extra:
        if isinstance(value, str):
            extra_forms |= fragments(value)
    for form in sorted(extra_forms, key=len, reverse=True):
        text = text.replace(form, REDACTED)
    pattern = _compiled()
    if pattern is None:
        return text
    return pattern.sub(REDACTED, text)


def contains_secret(text: str) -> bool:
    """Whether ``text`` carries a remembered secret."""
    pattern = _compiled()
    return pattern is not None and pattern.search(text) is not None


def scrub_value(value: Any) -> Any:
    """``value`` with secrets scrubbed from every string inside (mappings, lists, tuples); an
    exception that prints a secret becomes its scrubbed text. Other values are returned as is,
    and so is a container with nothing to scrub."""
    if _compiled() is None:
        return value
    return _scrub(value, 0)[0]


def _scrub(value: Any, depth: int) -> tuple[Any, bool]:
    if depth > 32:
        return value, False
    if isinstance(value, str):
        clean = scrub(value)
        return (clean, True) if clean != value else (value, False)
    if isinstance(value, Mapping):
        pairs = [(key, _scrub(item, depth + 1)) for key, item in value.items()]
        if not any(changed for _, (_, changed) in pairs):
            return value, False
        return {key: item for key, (item, _) in pairs}, True
    if isinstance(value, list | tuple) and not hasattr(value, "_fields"):
        items = [_scrub(item, depth + 1) for item in value]
        if not any(changed for _, changed in items):
            return value, False
        cleaned = [item for item, _ in items]
        return (cleaned if isinstance(value, list) else tuple(cleaned)), True
    if isinstance(value, BaseException) and not hasattr(value, "reason"):
        text = f"{type(value).__name__}: {value}"
        if contains_secret(text) or contains_secret(repr(value)):
            return scrub(text), True
    return value, False
