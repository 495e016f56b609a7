"""Fallbacks: the next engine is tried only while nothing reached the consumer, for the reasons
of ``fallback_on``; each engine sends its own key to its own host."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

import allm
from allm import keys, telemetry

from .support import (
    JSON,
    SSE,
    WIRE,
    Hosts,
    anthropic_engine,
    openai_engine,
    raising,
    run_chat,
    wire,
)

ANTHROPIC_TEXT = json.loads((WIRE / "anthropic" / "text_stream.expect.json").read_text())[
    "output_text"
]
ANTHROPIC_WHOLE = json.loads((WIRE / "anthropic" / "text_nonstream.expect.json").read_text())[
    "output_text"
]

FAILURES: dict[str, Any] = {
    "rate_limited": (
        429,
        {**JSON, "retry-after": "0"},
        wire("openai-chat", "error_429_rate_limit"),
    ),
    "quota_exhausted": (429, JSON, wire("openai-chat", "error_429_insufficient_quota")),
    "provider_unavailable": (500, JSON, wire("openai-chat", "error_500_server_error")),
    "timeout": raising(httpx.ReadTimeout),
    "network_error": raising(httpx.ConnectError),
}


@pytest.fixture(autouse=True)
def provider_keys() -> None:
    keys.put("openai", "sk-openai-key")
    keys.put("anthropic", "sk-ant-key")


def _pair(reason: str, *, stream: bool) -> tuple[Hosts, allm.Engine]:
    hosts = Hosts()
    hosts.add("primary.test", FAILURES[reason])
    if stream:
        hosts.add("fallback.test", (200, SSE, wire("anthropic", "text_stream")))
    else:
        hosts.add("fallback.test", (200, JSON, wire("anthropic", "text_nonstream")))
    engine = openai_engine(hosts, fallbacks=(anthropic_engine(hosts),))
    return hosts, engine


def _keys_per_host(hosts: Hosts) -> dict[str, set[str | None]]:
    seen: dict[str, set[str | None]] = {}
    for host, key in hosts.seen:
        seen.setdefault(host, set()).add(key)
    return seen


@pytest.mark.parametrize("reason", sorted(FAILURES))
def test_every_default_reason_falls_back_on_a_stream(driver: Any, reason: str) -> None:
    hosts, engine = _pair(reason, stream=True)
    response = driver.generate(engine, [allm.user("hi")])
    assert response.text == ANTHROPIC_TEXT
    assert response.metadata["attempts"] == [
        {"model": "openai:gpt-4o-mini", "outcome": reason},
        {"model": "anthropic:claude-sonnet-4-5", "outcome": "ok"},
    ]
    assert hosts.hosts() == ["primary.test", "fallback.test"]
    assert _keys_per_host(hosts) == {
        "primary.test": {"Bearer sk-openai-key"},
        "fallback.test": {"sk-ant-key"},
    }


@pytest.mark.parametrize("reason", sorted(FAILURES))
def test_every_default_reason_falls_back_without_streaming(driver: Any, reason: str) -> None:
    hosts, engine = _pair(reason, stream=False)
    response = driver.generate(engine, [allm.user("hi")], streaming=False)
    assert response.text == ANTHROPIC_WHOLE
    assert [a["outcome"] for a in response.metadata["attempts"]] == [reason, "ok"]
    assert _keys_per_host(hosts) == {
        "primary.test": {"Bearer sk-openai-key"},
        "fallback.test": {"sk-ant-key"},
    }


def test_the_events_of_a_fallen_back_stream_are_the_fallbacks_only(driver: Any) -> None:
    _, engine = _pair("rate_limited", stream=True)
    events = driver.events(engine, [allm.user("hi")])
    assert not any(isinstance(e, allm.events.ErrorEvent) for e in events)
    assert sum(isinstance(e, allm.events.MessageStarted) for e in events) == 1
    assert "".join(e.delta for e in events if isinstance(e, allm.events.TextDelta)) == (
        ANTHROPIC_TEXT
    )


@pytest.mark.parametrize("case", ["stream_truncated", "stream_error_event"])
def test_a_failure_after_the_first_event_is_data_and_never_falls_back(
    driver: Any, case: str
) -> None:
    hosts = Hosts().add("primary.test", (200, SSE, wire("openai-chat", case)))
    hosts.add("fallback.test", (200, SSE, wire("anthropic", "text_stream")))
    engine = openai_engine(
        hosts,
        fallbacks=(anthropic_engine(hosts),),
        fallback_on=("network_error", "provider_unavailable", "unknown"),
    )
    response = driver.generate(engine, [allm.user("hi")])
    assert response.finish_reason == "error"
    assert response.text  # what arrived before the failure is kept
    error = response.metadata["error"]
    assert response.metadata["attempts"] == [
        {"model": "openai:gpt-4o-mini", "outcome": error.reason}
    ]
    assert hosts.hosts() == ["primary.test"]


def test_a_reason_outside_fallback_on_is_not_routed_around(driver: Any) -> None:
    hosts = Hosts().add(
        "primary.test", (401, JSON, wire("openai-chat", "error_401_invalid_api_key"))
    )
    hosts.add("fallback.test", (200, SSE, wire("anthropic", "text_stream")))
    engine = openai_engine(hosts, fallbacks=(anthropic_engine(hosts),))
    response = driver.generate(engine, [allm.user("hi")])
    assert response.finish_reason == "error"
    assert response.metadata["attempts"] == [
        {"model": "openai:gpt-4o-mini", "outcome": "authentication_failed"}
    ]
    assert hosts.hosts() == ["primary.test"]
    # the call keyword widens the set for one call
    again = driver.generate(engine, [allm.user("hi")], fallback_on=["authentication_failed"])
    assert again.text == ANTHROPIC_TEXT


def test_the_engine_field_narrows_the_set(driver: Any) -> None:
    hosts, engine = _pair("rate_limited", stream=True)
    narrowed = openai_engine(hosts, fallbacks=engine.fallbacks, fallback_on=frozenset({"timeout"}))
    assert narrowed.fallback_on == ("timeout",)
    response = driver.generate(narrowed, [allm.user("hi")])
    assert response.metadata["error"].reason == "rate_limited"
    assert hosts.hosts() == ["primary.test"]


def test_the_call_key_and_transport_options_stay_with_the_first_engine(driver: Any) -> None:
    hosts, engine = _pair("rate_limited", stream=True)
    response = driver.generate(
        engine, [allm.user("hi")], api_key="sk-call-key", headers={"x-first": "1"}
    )
    assert response.text == ANTHROPIC_TEXT
    assert _keys_per_host(hosts) == {
        "primary.test": {"Bearer sk-call-key"},
        "fallback.test": {"sk-ant-key"},
    }


def test_the_last_failure_is_delivered_when_every_engine_fails(driver: Any) -> None:
    hosts = Hosts().add("primary.test", FAILURES["rate_limited"])
    hosts.add("fallback.test", (529, JSON, wire("anthropic", "error_529_overloaded")))
    engine = openai_engine(hosts, fallbacks=(anthropic_engine(hosts),))
    response = driver.generate(engine, [allm.user("hi")])
    assert response.finish_reason == "error"
    assert response.metadata["error"].reason == "provider_unavailable"
    assert [a["outcome"] for a in response.metadata["attempts"]] == [
        "rate_limited",
        "provider_unavailable",
    ]
    whole = driver.generate(engine, [allm.user("hi")], streaming=False)
    assert whole.finish_reason == "error"
    assert [a["outcome"] for a in whole.metadata["attempts"]] == [
        "rate_limited",
        "provider_unavailable",
    ]


def test_a_model_string_fallback_has_its_own_key_and_none_of_the_first_settings(
    driver: Any,
) -> None:
    keys.delete("anthropic")
    primary = allm.Engine(
        adapter="fake",
        model="first",
        adapter_opts={"script": [("error", "rate_limited")]},
        retry=False,
        fallbacks=("anthropic:claude-haiku-4-5", "fake:second"),
    )
    response = driver.generate(primary, [allm.user("hi")])
    # Anthropic has no key: noted and skipped before any I/O; the Fake string has no script
    # (the first engine's script is not inherited).
    assert response.metadata["attempts"] == [
        {"model": "fake:first", "outcome": "rate_limited"},
        {"model": "anthropic:claude-haiku-4-5", "outcome": "missing_key"},
        {"model": "fake:second", "outcome": "no_scripted_response"},
    ]
    assert response.metadata["error"].reason == "rate_limited"


def test_fallbacks_work_inside_the_chat_loop(driver: Any) -> None:
    _, engine = _pair("timeout", stream=True)
    result = run_chat(driver.name, engine, [allm.user("hi")])
    assert result.final_response is not None
    assert result.final_response.text == ANTHROPIC_TEXT
    assert [a["outcome"] for a in result.final_response.metadata["attempts"]] == [
        "timeout",
        "ok",
    ]


def test_each_switch_is_a_telemetry_event(driver: Any) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []
    handler = telemetry.attach(
        lambda name, m, meta: seen.append((name, dict(meta))), ["allm.fallback"]
    )
    try:
        _, engine = _pair("network_error", stream=True)
        driver.generate(engine, [allm.user("hi")])
    finally:
        telemetry.detach(handler)
    assert [(meta["model"], meta["reason"], meta["attempt"]) for _, meta in seen] == [
        ("openai:gpt-4o-mini", "network_error", 1)
    ]
    assert "sk-" not in repr(seen)


def test_bad_fallbacks_raise_before_any_io() -> None:
    with pytest.raises(allm.errors.ConfigurationError) as caught:
        allm.Engine(
            adapter="fake",
            fallbacks=("nobody:model", 42, "no-provider"),
            fallback_on=("rate_limited", "bogus"),
        )
    problems = caught.value.problems
    assert len(problems) == 4
    assert any("bogus" in p for p in problems)
    with pytest.raises(allm.errors.ConfigurationError):
        allm.Engine(adapter="fake", fallback_on="rate_limited")
    engine = allm.Engine(adapter="fake", fallbacks=["fake:x"], fallback_on=["timeout"])
    assert engine.fallbacks == ("fake:x",)
    with pytest.raises(allm.errors.ConfigurationError):
        allm.generate(engine, [allm.user("hi")], fallback_on=["nope"])
    with pytest.raises(allm.errors.ConfigurationError):
        allm.Engine(adapter="fake", fallbacks=7)


def test_an_engine_without_fallbacks_has_no_attempts() -> None:
    engine = allm.Engine(adapter="fake", adapter_opts={"script": [("text", "hi")]})
    assert "attempts" not in allm.generate(engine, [allm.user("x")]).metadata
