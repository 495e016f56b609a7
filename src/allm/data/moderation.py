"""Moderation requests and results."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .messages import ImagePart, TextPart

__all__ = ["ModerationInput", "ModerationRequest", "ModerationResponse", "ModerationResult"]

# One input to classify: its parts (text and images), judged together.
ModerationInput = tuple[TextPart | ImagePart, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ModerationRequest:
    """One request to a moderation provider: each input is judged on its own, in order."""

    inputs: tuple[ModerationInput, ...]
    model: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        inputs = self.inputs
        if not isinstance(inputs, tuple) or any(not isinstance(i, tuple) for i in inputs):
            object.__setattr__(self, "inputs", tuple(tuple(item) for item in inputs))


@dataclass(frozen=True, slots=True)
class ModerationResult:
    """The verdict on one input: flagged or not, each category's flag and its score."""

    flagged: bool = False
    categories: dict[str, bool] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ModerationResponse:
    """One result per input, in the order of the inputs; ``.flagged`` if any input was."""

    results: tuple[ModerationResult, ...] = ()
    model: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.results, tuple):
            object.__setattr__(self, "results", tuple(self.results))

    @property
    def flagged(self) -> bool:
        """Whether any input was flagged."""
        return any(result.flagged for result in self.results)
