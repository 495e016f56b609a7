"""How much a model should think, and what a provider may cache: neutral request values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "CACHE_RETENTIONS",
    "REASONING_EFFORTS",
    "REASONING_SUMMARIES",
    "CachePoint",
    "PromptCache",
    "Reasoning",
]

ReasoningEffort = Literal["none", "minimal", "low", "medium", "high", "xhigh"]
REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")
REASONING_SUMMARIES = ("auto", "concise", "detailed")
CacheRetention = Literal["short", "long"]
CACHE_RETENTIONS = ("short", "long")


@dataclass(frozen=True, slots=True)
class Reasoning:
    """The reasoning a call asks for: an ``effort`` level, a token ``budget_tokens``, a
    ``summary`` of the thinking (``"auto"``, ``"concise"``, ``"detailed"``). Each wire
    translates what it can and refuses the rest before any I/O (``docs/requests.md``)."""

    effort: ReasoningEffort | None = None
    budget_tokens: int | None = None
    summary: str | None = None


@dataclass(frozen=True, slots=True)
class PromptCache:
    """Prompt caching for a call: a cache routing ``key`` (OpenAI) and a ``retention``
    (``"short"``, or ``"long"``: Anthropic's one-hour TTL, OpenAI's 24-hour retention)."""

    key: str | None = None
    retention: CacheRetention = "short"


@dataclass(frozen=True, slots=True)
class CachePoint:
    """A content part marking a cache breakpoint: the block before it ends a cached prefix."""

    retention: CacheRetention = "short"
