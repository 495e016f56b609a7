"""Client-side limits: concurrency, request and token rates, and the providers' own rate headers.

One ``Limiter`` exists per provider and key in the process (the registry keys it by the
provider's name and a hash of the key, never the key itself), so every engine naming the same
provider and key shares it, in every thread and event loop. Waiting is an effect the drivers
perform: ``EnterSlot`` blocks on a condition (threads) or awaits a future (asyncio); rate waits
are plain ``Sleep`` effects. Nothing polls.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import codec, telemetry
from .effects import Effect, Scope
from .errors import ConfigurationError

__all__ = ["EnterSlot", "Limiter", "Limits", "limiter_for", "reset_limiters"]


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


@dataclass(frozen=True, slots=True)
class Limits:
    """Client-side limits for one provider and key; ``None`` means no limit of that kind."""

    requests_per_minute: float | None = None
    tokens_per_minute: int | None = None
    max_concurrency: int | None = None

    def __post_init__(self) -> None:
        problems = [
            f"limits.{name} must be a positive number, got {value!r}"
            for name in ("requests_per_minute", "tokens_per_minute")
            if (value := getattr(self, name)) is not None and not _positive(value)
        ]
        slots = self.max_concurrency
        if slots is not None and (not isinstance(slots, int) or not _positive(slots)):
            problems.append(f"limits.max_concurrency must be a positive int, got {slots!r}")
        if problems:
            raise ConfigurationError("invalid_option", problems=problems)


codec.register(Limits)

_DURATION_PART = re.compile(r"([0-9]*\.?[0-9]+)(ms|h|m|s)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def reset_seconds(value: str | None, now: float | None = None) -> float | None:
    """A reset header as seconds from now: OpenAI's ``"6m0s"``/``"20ms"``/``"1.5"``, or
    Anthropic's RFC 3339 instant. ``None`` when absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(float(text), 0.0)
    except ValueError:
        pass
    parts = _DURATION_PART.findall(text)
    if parts and "".join(number + unit for number, unit in parts) == text:
        return sum(float(number) * _UNITS[unit] for number, unit in parts)
    try:
        instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if instant.tzinfo is None:
        return None
    wall = time.time() if now is None else now
    return max(instant.timestamp() - wall, 0.0)


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(float(value))
    except ValueError:
        return None


# (remaining, reset) header pairs per kind, OpenAI's then Anthropic's spelling.
_HEADER_PAIRS = {
    "requests": (
        ("x-ratelimit-remaining-requests", "x-ratelimit-reset-requests"),
        ("anthropic-ratelimit-requests-remaining", "anthropic-ratelimit-requests-reset"),
    ),
    "tokens": (
        ("x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens"),
        ("anthropic-ratelimit-tokens-remaining", "anthropic-ratelimit-tokens-reset"),
        ("anthropic-ratelimit-input-tokens-remaining", "anthropic-ratelimit-input-tokens-reset"),
        ("anthropic-ratelimit-output-tokens-remaining", "anthropic-ratelimit-output-tokens-reset"),
    ),
}


def server_pause(status: int, headers: Mapping[str, str]) -> float | None:
    """How long the server asks new requests to wait: until an exhausted window resets, or, on
    a 429, ``retry-after`` or the reset of the window it names."""
    pause: float | None = None
    resets: list[float] = []
    for pairs in _HEADER_PAIRS.values():
        for remaining_name, reset_name in pairs:
            reset = reset_seconds(headers.get(reset_name))
            if reset is None:
                continue
            resets.append(reset)
            if _int_header(headers, remaining_name) == 0:
                pause = max(pause or 0.0, reset)
    if status == 429:
        retry_after = reset_seconds(headers.get("retry-after"))
        if retry_after is not None:
            pause = max(pause or 0.0, retry_after)
        elif pause is None and resets:
            pause = min(resets)
    return pause


class _Waiter:
    __slots__ = ("event", "future", "granted", "loop")

    def __init__(self, loop: Any = None, future: Any = None) -> None:
        self.granted = False
        self.loop = loop
        self.future = future
        self.event = threading.Event() if loop is None else None

    def wake(self) -> None:
        if self.event is not None:
            self.event.set()
        else:
            self.loop.call_soon_threadsafe(_resolve, self.future)


def _resolve(future: Any) -> None:
    if not future.done():
        future.set_result(None)


class Limiter:
    """The shared state of one provider and key: slots in use, the next free request time, a
    token bucket and the server's pause. Every method is thread-safe and never blocks long."""

    def __init__(self, provider: str, limits: Limits) -> None:
        self.provider = provider
        self.limits = limits
        self._lock = threading.Lock()
        self._waiters: deque[_Waiter] = deque()
        self.in_flight = 0
        self._next_request = 0.0
        self._tokens = float(limits.tokens_per_minute or 0)
        self._tokens_at = time.monotonic()
        self._paused_until = 0.0

    # -- concurrency --------------------------------------------------------------------------

    def _free(self) -> bool:
        cap = self.limits.max_concurrency
        return cap is None or self.in_flight < cap

    def try_enter(self, waiter: _Waiter | None = None) -> bool:
        """Take a slot now, or queue ``waiter`` (woken with the slot handed over) and say no."""
        with self._lock:
            if not self._waiters and self._free():
                self.in_flight += 1
                return True
            if waiter is not None:
                self._waiters.append(waiter)
            return False

    def leave(self) -> None:
        """Give a slot back; the longest waiter gets it."""
        with self._lock:
            self.in_flight -= 1
            self._hand_over()

    def _hand_over(self) -> None:
        while self._waiters and self._free():
            waiter = self._waiters.popleft()
            waiter.granted = True
            self.in_flight += 1
            waiter.wake()

    def abandon(self, waiter: _Waiter) -> None:
        """A waiter gave up (its task was cancelled): drop it, or pass on a slot it was given."""
        with self._lock:
            if waiter.granted:
                self.in_flight -= 1
                self._hand_over()
            else:
                self._waiters.remove(waiter)

    # -- rates ----------------------------------------------------------------------------------

    def reserve(self, tokens: int = 0) -> float:
        """Book the next request (of about ``tokens`` tokens); seconds to wait before sending."""
        limits = self.limits
        with self._lock:
            now = time.monotonic()
            start = max(now, self._paused_until)
            rpm = limits.requests_per_minute
            if rpm is not None:
                start = max(start, self._next_request)
                self._next_request = start + 60.0 / rpm
            tpm = limits.tokens_per_minute
            if tpm is not None:
                self._refill(now, tpm)
                need = min(float(tokens), float(tpm))
                if self._tokens < need:
                    start = max(start, now + (need - self._tokens) * 60.0 / tpm)
                self._tokens -= need
            return max(start - now, 0.0)

    def _refill(self, now: float, tpm: int) -> None:
        self._tokens = min(float(tpm), self._tokens + (now - self._tokens_at) * tpm / 60.0)
        self._tokens_at = now

    def settle_tokens(self, estimated: int, used: int) -> None:
        """Correct the bucket once a call's real token count is known."""
        if self.limits.tokens_per_minute is None:
            return
        with self._lock:
            self._tokens -= used - estimated

    def observe(self, status: int, headers: Mapping[str, str]) -> float | None:
        """Read the provider's rate headers; an exhausted window or a 429 pauses new requests."""
        pause = server_pause(status, headers)
        if pause is not None and pause > 0:
            with self._lock:
                self._paused_until = max(self._paused_until, time.monotonic() + pause)
        return pause


@dataclass(frozen=True, slots=True)
class EnterSlot(Effect):
    """Wait for a concurrency slot of ``limiter``; answers the seconds waited."""

    limiter: Limiter
    request_id: str | None = None

    def _announce(self) -> float:
        telemetry.execute(
            "allm.limit.wait",
            {"system_time": time.time_ns(), "delay_ms": None},
            {
                "provider": self.limiter.provider,
                "request_id": self.request_id,
                "kind": "concurrency",
                "in_flight": self.limiter.in_flight,
            },
        )
        return time.monotonic()

    def run_sync(self, scope: Scope) -> float:
        waiter = _Waiter()
        if self.limiter.try_enter(waiter):
            return 0.0
        started = self._announce()
        assert waiter.event is not None
        waiter.event.wait()
        return time.monotonic() - started

    async def run_async(self, scope: Scope) -> float:
        import asyncio

        loop = asyncio.get_running_loop()
        waiter = _Waiter(loop, loop.create_future())
        if self.limiter.try_enter(waiter):
            return 0.0
        started = self._announce()
        try:
            await waiter.future
        except BaseException:
            self.limiter.abandon(waiter)
            raise
        return time.monotonic() - started


def announce_wait(limiter: Limiter, request_id: str | None, kind: str, seconds: float) -> None:
    """The ``allm.limit.wait`` event for a rate wait about to be slept."""
    telemetry.execute(
        "allm.limit.wait",
        {"system_time": time.time_ns(), "delay_ms": math.ceil(seconds * 1000)},
        {"provider": limiter.provider, "request_id": request_id, "kind": kind},
    )


_registry_lock = threading.Lock()
_registry: dict[tuple[str, str], Limiter] = {}


def key_digest(key: str | None) -> str:
    """What the registry keeps of a key: a short SHA-256 digest (``""`` for no key)."""
    if not key:
        return ""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]


def limiter_for(provider: str, key: str | None, limits: Limits) -> Limiter:
    """The process's limiter for ``provider`` and ``key``; the latest ``limits`` given apply."""
    slot = (provider, key_digest(key))
    with _registry_lock:
        found = _registry.get(slot)
        if found is None:
            found = _registry[slot] = Limiter(provider, limits)
        elif found.limits != limits:
            with found._lock:
                found.limits = limits
                found._hand_over()
        return found


def reset_limiters() -> None:
    """Forget every limiter (tests)."""
    with _registry_lock:
        _registry.clear()
