"""The answer of ``allm.classify``."""

from __future__ import annotations

from dataclasses import dataclass, field

from .response import Response

__all__ = ["Classification"]


@dataclass(frozen=True, slots=True)
class Classification:
    """One classification: the chosen ``label``, a confidence in [0, 1] per label in ``scores``
    (normalized to sum to 1; with ``score=True`` also ``scores["score"]``, a rating in [0, 1]
    outside that sum), and the model call's ``response`` (usage, costs, the raw answer)."""

    label: str
    scores: dict[str, float] = field(default_factory=dict)
    response: Response | None = None
