"""Retry policy: which failures are retried, how long to wait, and the retry loop as pure steps.

The loop never sleeps itself: it yields ``Sleep`` effects, so the same code serves the sync and
async drivers. It first yields a ``Deadline`` effect, which bounds every HTTP exchange of the drive
by the policy's ``deadline_ms`` (or lifts the bound an earlier request set).
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, Generic, TypeVar

from . import codec, telemetry
from .effects import Deadline, Effect, Sleep
from .errors import AllmError, ConfigurationError

__all__ = [
    "DEFAULT_POLICY",
    "Fail",
    "Ok",
    "Retry",
    "RetryPolicy",
    "policy_from",
    "retrying",
    "widened",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How to retry. ``max_attempts`` counts the first try; 0 or 1 means no retry.

    A server's ``Retry-After`` is honoured up to ``max_retry_after_ms``; beyond it the error is
    returned at once (its ``retry_after_ms`` says when to come back). ``deadline_ms`` bounds the
    whole call: every attempt, every wait and a slow stream (``None``: no bound).
    """

    max_attempts: int = 3
    base_delay_ms: int = 500
    max_delay_ms: int = 30_000
    retry_on: tuple[int | str, ...] = (429, 500, 502, 503, 504, "timeout", "network_error")
    jitter_ms: int = 250
    respect_retry_after: bool = True
    max_retry_after_ms: int | None = 60_000
    deadline_ms: int | None = None

    def matches(self, error: Any) -> bool:
        """Whether ``error`` (an HTTP status, a reason string or an error) is retryable."""
        if isinstance(error, AllmError):
            status = getattr(error, "status", None)
            if error.reason == "quota_exhausted":
                return False  # waiting does not refill a quota
            return error.reason in self.retry_on or (status is not None and status in self.retry_on)
        return error in self.retry_on

    def delay_ms(self, attempt: int, suggested_ms: int | None, jitter: float) -> int:
        """The wait after failed ``attempt`` (1-based), given a server-suggested delay."""
        jitter_ms = round(jitter * self.jitter_ms)
        if self.respect_retry_after and suggested_ms is not None and suggested_ms > 0:
            return suggested_ms + jitter_ms
        backoff: int = min(self.max_delay_ms, self.base_delay_ms * 2 ** (attempt - 1)) + jitter_ms
        return max(suggested_ms or 0, backoff)

    def waits_too_long(self, suggested_ms: int | None) -> bool:
        """Whether a server asks for a longer wait than ``max_retry_after_ms`` allows."""
        return (
            self.respect_retry_after
            and self.max_retry_after_ms is not None
            and suggested_ms is not None
            and suggested_ms > self.max_retry_after_ms
        )


codec.register(RetryPolicy)


DEFAULT_POLICY = RetryPolicy()
NO_RETRY = RetryPolicy(max_attempts=1)
_FIELDS = frozenset(f.name for f in fields(RetryPolicy))


def widened(policy: RetryPolicy, statuses: tuple[int | str, ...]) -> RetryPolicy:
    """``policy`` retrying ``statuses`` (statuses or error reasons) too."""
    try:
        return _widened(policy, statuses)
    except TypeError:  # a policy built with a list somewhere is not hashable
        return _widened.__wrapped__(policy, statuses)


@functools.lru_cache(maxsize=64)
def _widened(policy: RetryPolicy, statuses: tuple[int | str, ...]) -> RetryPolicy:
    # Policies are few and frozen: each widening is built once.
    extra = tuple(s for s in statuses if s not in policy.retry_on)
    return replace(policy, retry_on=(*policy.retry_on, *extra)) if extra else policy


def policy_from(setting: Any) -> RetryPolicy:
    """A policy from an engine's ``retry``: ``"default"``, ``False``, a dict of overrides, a policy."""
    if isinstance(setting, RetryPolicy):
        return setting
    if setting == "default" or setting is True or setting is None:
        return DEFAULT_POLICY
    if setting is False:
        return NO_RETRY
    if isinstance(setting, Mapping):
        problems = [f"unknown retry key {key!r}" for key in setting if key not in _FIELDS]
        values = dict(setting)
        for name in ("max_attempts", "base_delay_ms", "max_delay_ms", "jitter_ms"):
            value = values.get(name, 0)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                problems.append(f"{name} must be a non-negative int, got {value!r}")
        for name in ("max_retry_after_ms", "deadline_ms"):
            value = values.get(name)
            if value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or value <= 0
            ):
                problems.append(f"{name} must be a positive int or None, got {value!r}")
        if "retry_on" in values:
            values["retry_on"] = tuple(values["retry_on"])
        if problems:
            raise ConfigurationError("invalid_retry_policy", problems=problems)
        return RetryPolicy(**values)
    raise ConfigurationError(
        "invalid_retry_policy",
        problems=[f'retry must be "default", False, a dict or a RetryPolicy, got {setting!r}'],
    )


@dataclass(frozen=True, slots=True)
class Ok(Generic[T]):
    """The attempt succeeded."""

    value: T


@dataclass(frozen=True, slots=True)
class Retry:
    """The attempt failed in a way that may succeed later (after ``delay_ms`` if the server said)."""

    error: Any
    delay_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Fail:
    """The attempt failed for good."""

    error: Any


Outcome = Ok[T] | Retry | Fail
Attempt = Callable[[int], Generator[Effect, Any, "Outcome[T]"]]


def retrying(
    policy: RetryPolicy,
    metadata: Mapping[str, Any],
    attempt: Attempt[T],
    jitter: Callable[[], float] = random.random,
) -> Generator[Effect, Any, Outcome[T]]:
    """Run ``attempt(1)``, ``attempt(2)``, ... until one succeeds or the policy says stop.

    Emits ``allm.adapter.retry`` before each wait. Returns the last outcome, at once when the
    server asks for a wait over ``max_retry_after_ms`` or the wait would end past the deadline.
    """
    seconds = None if policy.deadline_ms is None else policy.deadline_ms / 1000
    deadline = yield Deadline(seconds)
    number = 1
    while True:
        outcome = yield from attempt(number)
        if not isinstance(outcome, Retry):
            return outcome
        if number >= max(policy.max_attempts, 1) or not policy.matches(outcome.error):
            return outcome
        if policy.waits_too_long(outcome.delay_ms):
            return outcome
        delay = policy.delay_ms(number, outcome.delay_ms, jitter())
        if deadline is not None and time.monotonic() + delay / 1000 >= deadline:
            return outcome
        reason = getattr(outcome.error, "reason", outcome.error)
        telemetry.execute(
            "allm.adapter.retry",
            {"system_time": time.time_ns()},
            {**metadata, "attempt": number, "delay_ms": delay, "reason": reason},
        )
        yield Sleep(delay / 1000)
        number += 1
