"""Token log probabilities on the wire, shared by the providers that return them: what a request
asks for, and each wire's token list read as ``TokenLogprob`` values (docs/requests.md).

Only a call that asked gets a list: every reader here returns ``()`` for a body without one, so
an answer that carries none costs nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..data.response import TokenLogprob

__all__ = ["asked", "gemini_tokens", "openai_tokens", "top_alternatives"]


def asked(request: Any) -> bool:
    """Whether ``request.logprobs`` asks for log probabilities (``True`` or a count; ``0`` is a
    count of no alternatives, ``False`` and ``None`` ask for nothing)."""
    value = getattr(request, "logprobs", None)
    return value is not None and value is not False


def top_alternatives(request: Any) -> int | None:
    """The number of alternatives per token the request names, or None (``True``: none named)."""
    value = getattr(request, "logprobs", None)
    return None if value is None or isinstance(value, bool) else int(value)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _openai_token(entry: Any, nested: bool) -> TokenLogprob | None:
    if type(entry) is not dict:
        return None
    token: Any = entry.get("token")
    logprob: Any = entry.get("logprob")
    if not isinstance(token, str) or not _number(logprob):
        return None
    raw = entry.get("bytes")
    data = None
    if isinstance(raw, list) and all(type(b) is int and 0 <= b < 256 for b in raw):
        data = bytes(raw)
    top: tuple[TokenLogprob, ...] = ()
    alternatives = entry.get("top_logprobs")
    if nested and isinstance(alternatives, list) and alternatives:
        top = tuple(
            item for item in (_openai_token(a, False) for a in alternatives) if item is not None
        )
    return TokenLogprob(token, float(logprob), data, top)


def openai_tokens(entries: Any) -> tuple[TokenLogprob, ...]:
    """OpenAI's token list (Chat ``choices[].logprobs.content``, Responses ``output_text``
    ``logprobs`` and ``response.output_text.delta`` ``logprobs``, Ollama's ``logprobs``): each
    ``{token, logprob, bytes, top_logprobs}``; an entry without a token or a number is skipped."""
    if not isinstance(entries, list) or not entries:
        return ()
    return tuple(item for item in (_openai_token(e, True) for e in entries) if item is not None)


def _gemini_token(candidate: Any) -> TokenLogprob | None:
    # proto3 JSON leaves out default values: a missing logProbability is 0.0 (probability 1),
    # a missing token the empty string.
    if not isinstance(candidate, Mapping):
        return None
    token: Any = candidate.get("token", "")
    logprob: Any = candidate.get("logProbability", 0.0)
    if not isinstance(token, str) or not _number(logprob):
        return None
    return TokenLogprob(token, float(logprob))


def gemini_tokens(result: Any) -> tuple[TokenLogprob, ...]:
    """Gemini's ``logprobsResult``: ``chosenCandidates[i]`` is the token of step ``i`` and
    ``topCandidates[i].candidates`` its alternatives (sorted, most likely first)."""
    if not isinstance(result, Mapping):
        return ()
    chosen = result.get("chosenCandidates")
    if not isinstance(chosen, list) or not chosen:
        return ()
    tops = result.get("topCandidates")
    tops = tops if isinstance(tops, list) else []
    out: list[TokenLogprob] = []
    for index, candidate in enumerate(chosen):
        item = _gemini_token(candidate)
        if item is None:
            continue
        step = tops[index] if index < len(tops) else None
        alternatives = step.get("candidates") if isinstance(step, Mapping) else None
        if isinstance(alternatives, list) and alternatives:
            top = tuple(t for t in (_gemini_token(a) for a in alternatives) if t is not None)
            item = TokenLogprob(item.token, item.logprob, None, top)
        out.append(item)
    return tuple(out)
