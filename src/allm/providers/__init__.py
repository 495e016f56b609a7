"""Bundled providers. Each is imported on first use, so ``import allm`` stays light."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .fake import Fake

__all__ = ["Fake"]

_LAZY = {"Fake": ("allm.providers.fake", "Fake")}


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'allm.providers' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(target[0]), target[1])
    globals()[name] = value
    return value
