"""Retry policy: defaults, delays, Retry-After, telemetry before each sleep, settings (42-43)."""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import fields
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import allm
from allm import telemetry
from allm.effects import Deadline, Sleep
from allm.errors import AdapterError, ConfigurationError
from allm.retry import (
    DEFAULT_POLICY,
    Fail,
    Ok,
    Retry,
    RetryPolicy,
    policy_from,
    retrying,
)


def _attempts(outcomes: Sequence[Any], numbers: list[int]) -> Callable[[int], Generator]:
    """An attempt function returning ``outcomes[n - 1]`` for attempt ``n``, noting each number."""

    def attempt(number: int) -> Generator[Any, Any, Any]:
        numbers.append(number)
        return outcomes[number - 1]
        yield  # pragma: no cover - makes this a generator

    return attempt


def _drive(
    policy: RetryPolicy,
    outcomes: Sequence[Any],
    jitter: float = 0.0,
    log: list[Any] | None = None,
    metadata: dict[str, Any] | None = None,
) -> tuple[Any, list[Sleep], list[int]]:
    """Run ``retrying`` by hand: iterate the generator, sending None back for every effect."""
    numbers: list[int] = []
    sleeps: list[Sleep] = []
    plan = _started(retrying(policy, metadata or {}, _attempts(outcomes, numbers), lambda: jitter))
    reply = None
    while True:
        try:
            effect = plan.send(reply)
        except StopIteration as stop:
            return stop.value, sleeps, numbers
        assert isinstance(effect, Sleep)
        sleeps.append(effect)
        if log is not None:
            log.append(("sleep", effect.seconds))
        reply = None


def _started(plan: Generator[Any, Any, Any], seconds: float | None = None) -> Any:
    """The loop first sets the drive's deadline (none by default)."""
    assert next(plan) == Deadline(seconds)
    return plan


def _timeout() -> AdapterError:
    return AdapterError("timeout", provider="fake")


@pytest.fixture
def retry_log() -> Any:
    """Records ``allm.adapter.retry`` events as ``("retry", metadata)`` in one list."""
    log: list[Any] = []
    handler_id = telemetry.attach(
        lambda name, measurements, metadata: log.append(("retry", dict(metadata), measurements)),
        events=["allm.adapter.retry"],
    )
    yield log
    telemetry.detach(handler_id)


# -- 42: defaults and delays ---------------------------------------------------------------------


def test_f042_default_policy_values():
    policy = RetryPolicy()

    assert policy == DEFAULT_POLICY
    assert policy.max_attempts == 3
    assert policy.base_delay_ms == 500
    assert policy.max_delay_ms == 30_000
    assert policy.retry_on == (429, 500, 502, 503, 504, "timeout", "network_error")
    assert policy.jitter_ms == 250
    assert policy.respect_retry_after is True
    assert policy.max_retry_after_ms == 60_000
    assert policy.deadline_ms is None
    assert allm.Engine().retry_policy() == DEFAULT_POLICY
    assert policy_from("default") == policy_from(True) == policy_from(None) == DEFAULT_POLICY


def test_f042_backoff_doubles_from_500_ms_and_caps_at_30_s():
    policy = RetryPolicy()

    assert [policy.delay_ms(n, None, 0.0) for n in range(1, 9)] == [
        500,
        1000,
        2000,
        4000,
        8000,
        16000,
        30000,
        30000,
    ]
    assert policy.delay_ms(1, None, 1.0) == 750
    assert policy.delay_ms(20, None, 1.0) == 30_250


@given(attempt=st.integers(min_value=1, max_value=40), jitter=st.floats(0.0, 1.0))
def test_f042_delay_is_the_backoff_plus_jitter_in_0_to_250(attempt, jitter):
    delay = DEFAULT_POLICY.delay_ms(attempt, None, jitter)
    backoff = min(30_000, 500 * 2 ** (attempt - 1))

    assert backoff <= delay <= backoff + 250


def test_f042_random_jitter_stays_in_range():
    numbers: list[int] = []
    delays = set()
    for _ in range(200):
        plan = retrying(DEFAULT_POLICY, {}, _attempts([Retry(_timeout()), Ok(1)], numbers))
        effect = _started(plan).send(None)
        delays.add(round(effect.seconds * 1000))
        with pytest.raises(StopIteration):
            plan.send(None)

    assert all(500 <= delay <= 750 for delay in delays)
    assert len(delays) > 1  # the jitter actually varies


def test_f042_retry_after_overrides_the_backoff():
    policy = RetryPolicy()

    assert policy.delay_ms(1, 2_000, 0.0) == 2_000
    assert policy.delay_ms(3, 2_000, 1.0) == 2_250  # suggested delay + jitter, not the backoff
    assert policy.delay_ms(1, 0, 0.0) == 500  # a zero suggestion falls back to the backoff


def test_f042_without_respect_retry_after_the_longer_of_the_two_wins():
    policy = RetryPolicy(respect_retry_after=False)

    assert policy.delay_ms(1, 2_000, 0.0) == 2_000
    assert policy.delay_ms(4, 2_000, 0.0) == 4_000


def test_f042_suggested_delay_is_honoured_by_the_loop():
    error = AdapterError("rate_limited", status=429, retry_after_ms=3_000)

    outcome, sleeps, numbers = _drive(
        RetryPolicy(), [Retry(error, delay_ms=3_000), Ok("done")], jitter=0.5
    )

    assert outcome == Ok("done")
    assert numbers == [1, 2]
    assert sleeps == [Sleep(3.125)]


def test_f042_three_attempts_with_growing_sleeps(retry_log):
    outcomes = [Retry(_timeout()), Retry(_timeout()), Ok("third time")]

    outcome, sleeps, numbers = _drive(RetryPolicy(), outcomes)

    assert outcome == Ok("third time")
    assert numbers == [1, 2, 3]
    assert [s.seconds for s in sleeps] == [0.5, 1.0]
    assert [entry[1]["attempt"] for entry in retry_log] == [1, 2]


def test_f042_telemetry_before_each_sleep_and_none_after_the_final_attempt(retry_log):
    meta = {"provider": "fake", "request_id": "req-42"}
    outcomes = [Retry(_timeout()), Retry(_timeout()), Retry(_timeout())]

    outcome, sleeps, numbers = _drive(RetryPolicy(), outcomes, log=retry_log, metadata=meta)

    assert isinstance(outcome, Retry)
    assert outcome.error.reason == "timeout"
    assert numbers == [1, 2, 3]
    assert [entry[0] for entry in retry_log] == ["retry", "sleep", "retry", "sleep"]
    first, second = retry_log[0][1], retry_log[2][1]
    assert first == {
        "provider": "fake",
        "request_id": "req-42",
        "attempt": 1,
        "delay_ms": 500,
        "reason": "timeout",
    }
    assert (second["attempt"], second["delay_ms"]) == (2, 1000)
    assert "system_time" in retry_log[0][2]
    assert len(sleeps) == 2


def test_f042_status_codes_and_reasons_match_retry_on():
    policy = RetryPolicy()

    assert policy.matches(429) and policy.matches(503) and policy.matches("timeout")
    assert not policy.matches(400) and not policy.matches("invalid_request")
    assert policy.matches(AdapterError("provider_unavailable", status=503))
    assert policy.matches(AdapterError("timeout"))
    assert not policy.matches(AdapterError("invalid_request", status=400))
    assert not policy.matches(AdapterError("authentication_failed", status=401))


def test_f042_a_non_matching_error_returns_at_once(retry_log):
    error = AdapterError("invalid_request", status=400)

    outcome, sleeps, numbers = _drive(RetryPolicy(), [Retry(error), Ok("never")])

    assert outcome == Retry(error)
    assert (sleeps, numbers, retry_log) == ([], [1], [])


def test_f042_fail_returns_at_once(retry_log):
    error = AdapterError("timeout")

    outcome, sleeps, numbers = _drive(RetryPolicy(), [Fail(error), Ok("never")])

    assert outcome == Fail(error)
    assert (sleeps, numbers, retry_log) == ([], [1], [])


def test_f042_exceptions_from_the_attempt_are_never_retried(retry_log):
    numbers: list[int] = []

    def attempt(number: int) -> Generator[Any, Any, Any]:
        numbers.append(number)
        raise AdapterError("timeout")
        yield  # pragma: no cover

    with pytest.raises(AdapterError):
        _started(retrying(RetryPolicy(), {}, attempt)).send(None)

    assert numbers == [1]
    assert retry_log == []


def test_f042_effects_of_an_attempt_pass_through_and_receive_replies():
    received: list[Any] = []

    def attempt(number: int) -> Generator[Any, Any, Any]:
        received.append((yield Sleep(0.25)))
        return Ok(number)

    plan = _started(retrying(RetryPolicy(), {}, attempt))
    assert plan.send(None) == Sleep(0.25)
    with pytest.raises(StopIteration) as stop:
        plan.send("reply")

    assert stop.value.value == Ok(1)
    assert received == ["reply"]


def test_f042_quota_exhausted_is_never_retried(retry_log):
    error = AdapterError("quota_exhausted", status=429)
    policy = RetryPolicy(retry_on=(429, "quota_exhausted"))

    outcome, sleeps, numbers = _drive(policy, [Retry(error), Ok("never")])

    assert not policy.matches(error)
    assert outcome == Retry(error)
    assert (sleeps, numbers, retry_log) == ([], [1], [])


def test_f042_engine_retry_policy_drives_the_non_streaming_path(make_engine, recorded, retry_log):
    engine = make_engine(
        adapter_opts={"retry_until_call": 3},
        retry={"base_delay_ms": 1, "jitter_ms": 0},
    )

    response = allm.generate(engine, [allm.user("hi")], streaming=False, request_id="req-e")

    assert response.text == "ok"
    assert response.finish_reason == "stop"
    assert [entry[1]["attempt"] for entry in retry_log] == [1, 2]
    assert [entry[1]["delay_ms"] for entry in retry_log] == [1, 2]
    assert {entry[1]["request_id"] for entry in retry_log} == {"req-e"}
    assert {entry[1]["provider"] for entry in retry_log} == {"fake"}
    assert recorded[0][1].retry == RetryPolicy(base_delay_ms=1, jitter_ms=0)


def test_f042_engine_retry_gives_up_after_max_attempts(make_engine, retry_log):
    engine = make_engine(
        adapter_opts={"retry_until_call": 5},
        retry={"base_delay_ms": 1, "jitter_ms": 0},
    )

    response = allm.generate(engine, [allm.user("hi")], streaming=False)

    assert response.finish_reason == "error"
    assert response.error.reason == "timeout"
    assert len(retry_log) == 2  # three attempts, two waits, nothing after the last


# -- 43: settings --------------------------------------------------------------------------------


def test_f043_retry_false_makes_one_attempt(retry_log):
    policy = policy_from(False)

    outcome, sleeps, numbers = _drive(policy, [Retry(_timeout()), Ok("never")])

    assert policy.max_attempts == 1
    assert isinstance(outcome, Retry)
    assert (sleeps, numbers, retry_log) == ([], [1], [])


def test_f043_retry_false_on_an_engine(make_engine, retry_log):
    engine = make_engine(adapter_opts={"retry_until_call": 2}, retry=False)

    response = allm.generate(engine, [allm.user("hi")], streaming=False)

    assert response.finish_reason == "error"
    assert response.error.reason == "timeout"
    assert retry_log == []


def test_f043_max_attempts_zero_disables_retry(retry_log):
    policy = policy_from({"max_attempts": 0})

    outcome, sleeps, numbers = _drive(policy, [Retry(_timeout()), Ok("never")])

    assert isinstance(outcome, Retry)
    assert (sleeps, numbers, retry_log) == ([], [1], [])


def test_f043_a_dict_overrides_the_defaults():
    policy = policy_from({"max_attempts": 5, "retry_on": [429, "rate_limited"]})

    assert policy.max_attempts == 5
    assert policy.retry_on == (429, "rate_limited")
    assert policy.base_delay_ms == DEFAULT_POLICY.base_delay_ms
    assert policy.jitter_ms == DEFAULT_POLICY.jitter_ms


def test_f043_a_policy_passes_through():
    policy = RetryPolicy(max_attempts=7)

    assert policy_from(policy) is policy
    assert allm.Engine(retry=policy).retry_policy() is policy


def test_f043_unknown_retry_keys_raise_at_engine_construction_listing_every_one():
    with pytest.raises(ConfigurationError) as info:
        allm.Engine(adapter="fake", retry={"max_attempt": 2, "backoff": 1, "jitter_ms": 10})

    error = info.value
    assert error.reason == "invalid_retry_policy"
    assert len(error.problems) == 2
    assert any("'max_attempt'" in p for p in error.problems)
    assert any("'backoff'" in p for p in error.problems)
    assert "max_attempt" in error.message and "backoff" in error.message


def test_f043_bad_values_are_listed_with_unknown_keys():
    with pytest.raises(ConfigurationError) as info:
        allm.Engine(retry={"nope": 1, "max_attempts": -1, "base_delay_ms": "soon"})

    problems = info.value.problems
    assert len(problems) == 3
    assert any("nope" in p for p in problems)
    assert any("max_attempts" in p for p in problems)
    assert any("base_delay_ms" in p for p in problems)


@pytest.mark.parametrize("setting", ["always", 3, ["max_attempts"]])
def test_f043_a_retry_setting_of_the_wrong_type_raises(setting):
    with pytest.raises(ConfigurationError) as info:
        allm.Engine(retry=setting)

    assert info.value.reason == "invalid_retry_policy"


def test_f043_retry_policy_fields_are_the_documented_ones():
    assert [f.name for f in fields(RetryPolicy)] == [
        "max_attempts",
        "base_delay_ms",
        "max_delay_ms",
        "retry_on",
        "jitter_ms",
        "respect_retry_after",
        "max_retry_after_ms",
        "deadline_ms",
    ]
