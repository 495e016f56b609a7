"""Middleware on both APIs: request transforms, event transforms, and the built-ins."""

from __future__ import annotations

import itertools
import logging
import pickle
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import allm
from allm import keys
from allm.events import ReasoningCompleted, ReasoningDelta, TextCompleted, TextDelta
from allm.middleware import (
    MiddlewareContext,
    default_options,
    extract_reasoning,
    log_requests,
    redact,
)
from allm.middleware.builtins import split_tagged
from allm.providers import OpenAICompatible
from allm.testing.loopback import LoopbackServer

from .support import SSE, run_chat

FIXTURES = Path(__file__).resolve().parent / "fixtures"
# Two servers' shapes: tags cut inside a token (Ollama-style chunks), and tags as their own
# tokens with llama.cpp server's ``timings``; the loopback then cuts the bytes anywhere.
STREAMS = {
    "think_tags_stream": (
        "\nThe user asks for the capital of France. It is Paris.",
        "The capital of France is Paris.",
        31,
    ),
    "llamacpp_think_stream": ("\nTwo plus two is four.\n", "2 + 2 = 4.", 13),
}


def _recorded(
    middleware: tuple[Any, ...], chunks: list[int], name: str = "think_tags_stream"
) -> tuple[LoopbackServer, allm.Engine]:
    server = LoopbackServer().start()
    body = (FIXTURES / f"{name}.response").read_bytes()
    server.add("POST", "/v1/chat/completions", status=200, headers=SSE, body=body, chunks=chunks)
    engine = allm.Engine(
        adapter=OpenAICompatible(base_url=server.url + "/v1"),
        model="deepseek-r1:7b",
        middleware=middleware,
    )
    return server, engine


@pytest.mark.parametrize("name", sorted(STREAMS))
@pytest.mark.parametrize("chunks", [[], [7, 300, 301, 302, 700, 1200], list(range(5, 2000, 37))])
def test_extract_reasoning_on_a_recorded_stream_with_split_tags(
    driver: Any, chunks: list[int], name: str
) -> None:
    reasoning, answer, output_tokens = STREAMS[name]
    server, engine = _recorded((extract_reasoning(),), chunks, name)
    try:
        response = driver.generate(engine, [allm.user("a question")])
        events = driver.events(engine, [allm.user("a question")])
    finally:
        server.stop()
    assert response.text == answer
    assert response.reasoning == reasoning
    assert response.message is None or "<think>" not in str(response.message.content)
    assert "".join(e.delta for e in events if isinstance(e, TextDelta)) == answer
    assert "".join(e.delta for e in events if isinstance(e, ReasoningDelta)) == reasoning
    assert not any("<" in e.delta for e in events if isinstance(e, TextDelta))
    assert response.usage is not None and response.usage.output_tokens == output_tokens


def test_without_the_middleware_the_tags_stay_in_the_text(driver: Any) -> None:
    server, engine = _recorded((), [])
    try:
        response = driver.generate(engine, [allm.user("q")])
    finally:
        server.stop()
    assert response.text is not None and response.text.startswith("<think>")
    assert response.reasoning is None


@given(
    st.lists(
        st.sampled_from(["<think>", "</think>", "a", "b ", "<", "th", "ink>", "\n", "/"]),
        max_size=12,
    ),
    st.lists(st.integers(min_value=0, max_value=60), max_size=6),
)
def test_extract_reasoning_does_not_depend_on_how_the_text_is_chunked(
    words: list[str], cuts: list[int]
) -> None:
    text = "".join(words)
    bounds = sorted({0, len(text), *(c for c in cuts if c < len(text))})
    pieces = [text[a:b] for a, b in itertools.pairwise(bounds) if text[a:b]]
    events = [TextDelta(piece) for piece in pieces]
    out = list(extract_reasoning().wrap_events(iter(events), MiddlewareContext("r")))
    outside = "".join(e.delta for e in out if isinstance(e, TextDelta))
    inside = "".join(e.delta for e in out if isinstance(e, ReasoningDelta))
    assert (outside, inside) == split_tagged(text, "think")


def test_text_completed_and_message_completed_are_rewritten() -> None:
    from allm.events import MessageCompleted

    text = "<think>plan</think>\nanswer"
    out = list(
        extract_reasoning().wrap_events(
            iter(
                [
                    TextCompleted(text),
                    MessageCompleted(allm.assistant(text), "stop"),
                    MessageCompleted(allm.assistant("plain"), "stop"),
                ]
            ),
            MiddlewareContext("r"),
        )
    )
    assert out[0] == ReasoningCompleted("plan")
    assert out[1] == TextCompleted("answer")
    assert out[2].message.content == "answer"
    assert out[3].message.content == "plain"
    assert split_tagged("a<think>unclosed", "think") == ("a", "unclosed")
    assert split_tagged("<r>x</r>y", "r") == ("y", "x")


class Shout:
    """A user middleware: upper-cases text deltas, tags each request."""

    def transform_request(self, request: allm.Request, ctx: MiddlewareContext) -> allm.Request:
        return allm.Request(
            messages=(*request.messages, allm.user(f"ctx:{ctx.provider}:{ctx.model}")),
            model=request.model,
        )

    def wrap_events(self, events: Any, ctx: MiddlewareContext) -> Any:
        for event in events:
            if isinstance(event, TextDelta):
                yield TextDelta(event.delta.upper(), event.id)
            elif isinstance(event, TextCompleted):
                yield TextCompleted(event.text.upper(), event.id)
            else:
                yield event


def _fake(*scripts: list[Any], **fields: Any) -> tuple[allm.Engine, list[Any]]:
    seen: list[Any] = []
    engine = allm.Engine(
        adapter="fake",
        model="m",
        adapter_opts={"scripts": list(scripts), "record": seen},
        **fields,
    )
    return engine, seen


def test_a_user_middleware_serves_both_apis(driver: Any) -> None:
    engine, seen = _fake([("text", "hello "), ("text", "world")], middleware=(Shout(),))
    events = driver.events(engine, [allm.user("hi")])
    assert "".join(e.delta for e in events if isinstance(e, TextDelta)) == "HELLO WORLD"
    request, _ = seen[0]
    assert request.messages[-1].content == "ctx:fake:m"


def test_middleware_runs_in_every_chat_turn(driver: Any) -> None:
    @allm.tool
    def ping(x: int) -> int:
        """Echo."""
        return x

    engine, seen = _fake(
        [
            ("tool_call", {"id": "c1", "name": "ping", "arguments": {"x": 1}}),
            ("finish", "tool_calls"),
        ],
        [("text", "done"), ("finish", "stop")],
        tools=(ping,),
        middleware=(Shout(), default_options(temperature=0.3)),
    )
    result = run_chat(driver.name, engine, [allm.user("hi")])
    assert result.final_response is not None and result.final_response.text == "DONE"
    assert [request.temperature for request, _ in seen] == [0.3, 0.3]


def test_default_options_never_override(driver: Any) -> None:
    engine, seen = _fake(
        [("text", "a")],
        [("text", "b")],
        middleware=(default_options(temperature=0.1, max_tokens=50, seed=7),),
    )
    driver.generate(engine, [allm.user("x")])
    driver.generate(engine, [allm.user("x")], temperature=0.9)
    first, second = (request for request, _ in seen)
    # seed is a neutral request field (W1): the default fills it, unless an option already chose
    assert (first.temperature, first.max_tokens, first.seed) == (0.1, 50, 7)
    assert second.temperature == 0.9 and second.max_tokens == 50
    request = allm.Request(messages=(allm.user("x"),), temperature=0.5, options={"seed": 3})
    assert (
        default_options(temperature=0.1, seed=9).transform_request(request, MiddlewareContext("r"))
        is request
    )


def test_redact_rewrites_the_outgoing_text(driver: Any) -> None:
    engine, seen = _fake(
        [("text", "ok")],
        middleware=(redact([r"\b\d{4}-\d{4}\b", re.compile("secret", re.IGNORECASE)]),),
    )
    message = allm.user(
        [
            allm.TextPart("card 1234-5678 and SECRET"),
            allm.ImagePart.from_url("https://x.test/a.png"),
        ]
    )
    driver.generate(engine, [allm.system("keep"), message])
    request, _ = seen[0]
    assert request.messages[0].content == "keep"
    assert request.messages[1].content[0].text == "card [redacted] and [redacted]"
    assert (
        redact("x", "#")
        .transform_request(allm.Request(messages=(allm.user("y"),)), MiddlewareContext("r"))
        .messages[0]
        .content
        == "y"
    )
    with pytest.raises(re.error):
        redact("(")


def test_log_requests_logs_the_shape_never_the_key(
    driver: Any, caplog: pytest.LogCaptureFixture
) -> None:
    keys.put("openai", "sk-never-logged")
    engine, _ = _fake(
        [("text", "ok")], middleware=(log_requests(logging.getLogger("test.requests")),)
    )
    with caplog.at_level(logging.INFO, logger="test.requests"):
        driver.generate(engine, [allm.user("private words")], api_key="sk-never-logged")
    lines = [r.getMessage() for r in caplog.records if r.name == "test.requests"]
    assert len(lines) == 1 and "provider=fake model=m messages=1" in lines[0]
    assert "sk-never" not in caplog.text and "private words" not in caplog.text
    quiet = log_requests("test.quiet", logging.DEBUG)
    request = allm.Request(messages=(allm.user("x"),))
    assert quiet.transform_request(request, MiddlewareContext("r")) is request


def test_a_middleware_failure_raises_and_bad_middleware_is_refused() -> None:
    class Broken:
        def wrap_events(self, events: Any, ctx: Any) -> Any:
            for _ in events:
                raise RuntimeError("boom")
            yield from ()

    class Wrong:
        def transform_request(self, request: Any, ctx: Any) -> Any:
            return "not a request"

    engine, _ = _fake([("text", "a")], [("text", "b")], middleware=(Broken(),))
    with pytest.raises(RuntimeError, match="boom"):
        allm.generate(engine, [allm.user("x")])
    wrong, _ = _fake([("text", "a")], middleware=(Wrong(),))
    with pytest.raises(allm.errors.ConfigurationError):
        allm.generate(wrong, [allm.user("x")])
    with pytest.raises(allm.errors.ConfigurationError) as caught:
        allm.Engine(adapter="fake", middleware=(object(),))
    assert "middleware[0]" in caught.value.problems[0]
    with pytest.raises(allm.errors.ConfigurationError):
        allm.Engine(adapter="fake", middleware=5)


def test_a_stream_closed_early_ends_the_middleware(driver: Any) -> None:
    engine, _ = _fake(
        [("text", "a"), ("text", "b"), ("text", "c")], middleware=(extract_reasoning(),)
    )
    stream = allm.stream_generate(engine, [allm.user("x")])
    first = [next(iter(stream)) for _ in range(2)]
    stream.close()
    assert first[0].type == "message_started"

    class Early:
        """Stops after the first event: the rest is dropped, the call still ends."""

        def wrap_events(self, events: Any, ctx: Any) -> Any:
            yield next(iter(events))

    short, _ = _fake([("text", "a"), ("text", "b")], middleware=(Early(),))
    assert [e.type for e in allm.stream_generate(short, [allm.user("x")])] == ["message_started"]

    class Chatty:
        """Emits before reading and after the input ended."""

        def wrap_events(self, events: Any, ctx: Any) -> Any:
            yield TextDelta("<")
            yield from events
            yield TextDelta(">")

    chatty, _ = _fake([], middleware=(Chatty(),))
    deltas = [getattr(e, "delta", None) for e in allm.stream_generate(chatty, [allm.user("x")])]
    assert (deltas[0], deltas[-1]) == ("<", ">")


def test_built_in_middleware_round_trips() -> None:
    engine = allm.Engine(
        adapter="fake",
        middleware=(
            default_options(temperature=0.2),
            extract_reasoning("reasoning"),
            log_requests("x"),
            redact(["a+"]),
        ),
        fallbacks=("fake:b", allm.Engine(adapter="fake", model="c")),
        fallback_on=("timeout",),
    )
    again = allm.from_json(allm.to_json(engine))
    assert again.middleware == engine.middleware
    assert again.fallbacks[0] == "fake:b" and again.fallbacks[1].model == "c"
    assert again.fallback_on == ("timeout",)
    assert pickle.loads(pickle.dumps(engine)).middleware == engine.middleware


def test_default_options_leave_a_neutral_field_chosen_by_a_request_option() -> None:
    request = allm.Request(messages=(allm.user("x"),), options={"seed": 3})
    filled = default_options(seed=9, top_p=0.5).transform_request(request, MiddlewareContext("r"))
    assert (filled.seed, filled.top_p, filled.options) == (None, 0.5, {"seed": 3})
