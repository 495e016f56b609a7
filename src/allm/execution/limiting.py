"""A call under client-side limits: a concurrency slot for the whole call, a booked request time
before every send, the provider's rate headers read after every answer."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any

from .. import keys
from ..adapters.http import HttpResult, HttpSend
from ..data.request import Request
from ..data.response import Response, Usage
from ..effects import Effect, Sleep
from ..engine import Engine
from ..events import Event, is_usage_chunk
from ..limits import EnterSlot, Limiter, announce_wait, limiter_for

__all__ = ["estimate_tokens", "limited", "limiter_of"]


def limiter_of(engine: Engine, adapter: Any, api_key: str | None) -> Limiter | None:
    """The shared limiter of the engine's provider and key, when the engine sets limits."""
    if engine.limits is None:
        return None
    provider = str(getattr(adapter, "name", None) or type(adapter).__name__)
    found = keys.get(str(getattr(adapter, "key_provider", None) or provider), api_key)
    return limiter_for(provider, None if found is None else found[0], engine.limits)


def estimate_tokens(request: Request) -> int:
    """A cheap upper-ish guess of a call's tokens: text length / 4, plus ``max_tokens``."""
    from ..adapters.base import text_of

    characters = sum(len(text_of(message.content)) for message in request.messages)
    return characters // 4 + 1 + (request.max_tokens or 0)


def _used(usage: Any) -> int | None:
    if isinstance(usage, dict):
        usage = Usage(**usage)
    if not isinstance(usage, Usage):
        return None
    if usage.total_tokens is not None:
        return usage.total_tokens
    if usage.input_tokens is None and usage.output_tokens is None:
        return None
    return (usage.input_tokens or 0) + (usage.output_tokens or 0)


def _wait(limiter: Limiter, request_id: str, tokens: int) -> Iterator[Sleep]:
    delay = limiter.reserve(tokens)
    if delay > 0:
        announce_wait(limiter, request_id, "rate", delay)
        yield Sleep(delay)


def limited(
    plan: Iterator[Event | Effect], limiter: Limiter, request_id: str, tokens: int
) -> Generator[Any, Any, Any]:
    """``plan`` under ``limiter``; returns the plan's own return value."""
    yield EnterSlot(limiter, request_id)
    try:
        yield from _wait(limiter, request_id, tokens)
        sends = 0
        settled = False
        reply: Any = None
        while True:
            try:
                item = plan.send(reply)  # type: ignore[attr-defined]
            except StopIteration as stop:
                if not settled and isinstance(stop.value, Response):
                    used = _used(stop.value.usage)
                    if used is not None:
                        limiter.settle_tokens(tokens, used)
                return stop.value
            reply = None
            if isinstance(item, HttpSend):
                sends += 1
                if sends > 1:  # a retry is one more request against the rate
                    yield from _wait(limiter, request_id, 0)
                reply = yield item
                if isinstance(reply, HttpResult):
                    limiter.observe(reply.status, reply.headers)
                continue
            if isinstance(item, Effect):
                reply = yield item
                continue
            if not settled and is_usage_chunk(item):
                used = _used(item.data[1])
                if used is not None:
                    limiter.settle_tokens(tokens, used)
                    settled = True
            yield item
    finally:
        try:
            plan.close()  # type: ignore[attr-defined]
        finally:
            limiter.leave()
