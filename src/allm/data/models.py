"""Model references resolved through a catalog."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["ModelRef"]


@dataclass(frozen=True, slots=True)
class ModelRef:
    """A model as a catalog knows it: provider, id, capabilities, limits and prices.

    ``pricing`` is in currency units per million tokens, keyed ``input``, ``cached_input``,
    ``cache_write`` and ``output``.
    """

    provider: str
    id: str
    capabilities: dict[str, Any] = field(default_factory=dict)
    limits: dict[str, Any] = field(default_factory=dict)
    pricing: dict[str, Any] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.provider}:{self.id}"
