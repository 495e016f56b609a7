"""Provider options: the body fragment a call gives one provider, and how it lands in the body.

``provider_options={"openai": {...}, "anthropic": {...}}`` is keyed by adapter name. An adapter
reads its own name's entry, after the shared scopes it declares (``option_scopes``: every
``OpenAICompatible`` preset reads ``"openai_compatible"`` first); the entry is merged into the
finished body with ``deep_merge`` (``docs/requests.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._json import dumps

if TYPE_CHECKING:
    from . import Call

__all__ = ["deep_merge", "encode_body", "option_scopes", "scoped_options"]


def deep_merge(base: Any, over: Any, *, none_removes: bool = False) -> Any:
    """``over`` onto ``base``: mappings merge key by key, any other value replaces; with
    ``none_removes`` a ``None`` value removes the key (how a fragment lands in a body, so an
    option can take out a field the adapter writes). Neither argument is changed."""
    if not isinstance(over, Mapping):
        return over
    if not isinstance(base, Mapping):
        if not none_removes:
            return over
        base = {}
    merged = dict(base)
    for key, value in over.items():
        if value is None and none_removes:
            merged.pop(key, None)
        else:
            merged[key] = deep_merge(merged.get(key), value, none_removes=none_removes)
    return merged


def option_scopes(adapter: Any) -> tuple[str, ...]:
    """The ``provider_options`` entries ``adapter`` reads, most general first."""
    shared = tuple(getattr(adapter, "option_scopes", ()))
    own = getattr(adapter, "name", None)
    return (*shared, own) if isinstance(own, str) and own not in shared else shared


def scoped_options(adapter: Any, by_name: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The one body fragment ``adapter`` gets from options keyed by provider name."""
    fragment: dict[str, Any] = {}
    for scope in option_scopes(adapter):
        entry = by_name.get(scope)
        if entry:
            fragment = deep_merge(fragment, entry)
    return fragment


def encode_body(body: Mapping[str, Any], call: Call) -> bytes:
    """A JSON request body as sent: ``body`` with the call's provider options merged in."""
    if call.provider_options:
        body = deep_merge(body, call.provider_options, none_removes=True)
    return dumps(body if type(body) is dict else dict(body)).encode("utf-8")
