"""Which Bedrock models take which neutral field: Claude's thinking, Nova 2's reasoning, prompt
caching and its one-hour TTL. The one table the request builder and the pre-flight read
(docs/one-request.md says what each row sends)."""

from __future__ import annotations

import re
from dataclasses import dataclass

# A Claude model id, bare or behind an inference profile (``us.``, ``global.``, an ARN's tail).
_CLAUDE = re.compile(r"(?:^|[./])anthropic\.(claude-[A-Za-z0-9.:\-]+)$")
# Amazon Nova 2 (Lite, Sonic, ...), bare or behind a profile.
_NOVA_2 = re.compile(r"(?:^|[./])amazon\.nova-2-")
# https://docs.aws.amazon.com/bedrock/latest/userguide/prompt-caching.html: the models with
# explicit cache checkpoints (Claude in system, messages and tools; Nova in system and messages).
_CLAUDE_CACHING = re.compile(
    r"^claude-(3-5-haiku|3-5-sonnet-20241022-v2|3-7-sonnet|(opus|sonnet|haiku)-[4-9])"
)
_NOVA_CACHING = re.compile(
    r"(?:^|[./])amazon\.nova-(micro|lite|pro|premier)-v1|amazon\.nova-2-lite"
)
# The one-hour ``ttl`` (CachePointBlock ``ttl: "1h"``): Claude Opus, Sonnet and Haiku 4.5 on.
_LONG_TTL = re.compile(r"^claude-(opus|sonnet|haiku)-(4-[5-9]|[5-9])")


@dataclass(frozen=True, slots=True)
class Caching:
    """Where a model takes ``cachePoint`` blocks: always ``system`` and ``messages``; ``tools``
    on Claude; ``long`` when it takes the one-hour ``ttl``."""

    tools: bool
    long: bool


def claude_name(model: str) -> str | None:
    """The Anthropic name of a Claude model id on Bedrock (``claude-sonnet-4-5-...``), else
    None."""
    found = _CLAUDE.search(model)
    return found.group(1) if found else None


def is_nova_2(model: str) -> bool:
    """Whether ``model`` is an Amazon Nova 2 model (``reasoningConfig``)."""
    return _NOVA_2.search(model) is not None


def caching(model: str) -> Caching | None:
    """How ``model`` takes prompt caching, or None when Bedrock documents none for it."""
    claude = claude_name(model)
    if claude is not None:
        if not _CLAUDE_CACHING.match(claude):
            return None
        return Caching(tools=True, long=_LONG_TTL.match(claude) is not None)
    if _NOVA_CACHING.search(model):
        return Caching(tools=False, long=False)
    return None
