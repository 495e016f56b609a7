"""Every W1 option on both OpenAI wires, alone and in combination, validated against OpenAI's
published OpenAPI schema (tests/fixtures/openapi, closed objects: an unknown key is an error).

The bodies are the ones the real adapters send: ``generate(streaming=False)`` and
``stream_generate`` through ``httpx.MockTransport``, for OpenAI, Azure OpenAI, OpenAI-compatible
servers and every preset on the wire they share. ``LINES`` (openapi_lines.py) is the option
table, one line per option value; a line whose feature is not on this branch yet names it in
``needs`` and is skipped with that reason until the name exists.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.providers.openai.openapi_lines import CHAT, LINES, RESPONSES, WEATHER, Line
from tests.providers.openai.test_openai_requests import SSE
from tests.providers.openapi import CHAT_REQUEST, RESPONSES_REQUEST, assert_valid, problems

import allm
from allm.errors import ValidationError
from allm.providers.azure import AzureOpenAI
from allm.providers.openai import OpenAI, OpenAICompatible
from allm.providers.presets import PRESET_CLASSES

# the answer is JSON, so a typed output or a JSON format folds cleanly as well
ANSWER = '{"city": "Oslo"}'
CHAT_JSON = {
    "choices": [{"message": {"role": "assistant", "content": ANSWER}, "finish_reason": "stop"}]
}
RESPONSES_JSON = {
    "status": "completed",
    "output": [
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": ANSWER}],
        }
    ],
}
CHAT_STREAM = (
    "data: "
    + json.dumps({"choices": [{"index": 0, "delta": {"content": ANSWER}, "finish_reason": "stop"}]})
    + "\n\ndata: [DONE]\n\n"
).encode()
RESPONSES_STREAM = (
    "event: response.completed\ndata: "
    + json.dumps({"type": "response.completed", "response": RESPONSES_JSON})
    + "\n\n"
).encode()


@dataclass(frozen=True)
class Target:
    """An adapter on one OpenAI wire, as configured for these tests."""

    name: str
    wire: str
    adapter: Any
    adapter_opts: dict[str, Any]
    model: str


OPENAI_TARGETS = [
    Target("openai-chat", CHAT, OpenAI, {"endpoint": "chat_completions"}, "gpt-4o-mini"),
    Target("openai-responses", RESPONSES, OpenAI, {"endpoint": "responses"}, "gpt-5-mini"),
]
AZURE = {"resource": "contoso"}
SHARED_TARGETS = [
    Target("azure-chat", CHAT, AzureOpenAI, {**AZURE, "endpoint": "chat_completions"}, "gpt-4o"),
    Target("azure-responses", RESPONSES, AzureOpenAI, {**AZURE, "endpoint": "responses"}, "gpt-5"),
    Target("openai-compatible", CHAT, OpenAICompatible, {"base_url": "http://127.0.0.1:9/v1"}, "m"),
]
# a preset is OpenAICompatible with a base URL, a key and two body quirks (an empty string beside
# tool calls, OpenRouter's reasoning spelling): each sends every option at once and in draws
PRESET_TARGETS = [
    Target(f"preset-{name}", CHAT, cls, {}, "some-model") for name, cls in PRESET_CLASSES.items()
]
TARGETS = [*OPENAI_TARGETS, *SHARED_TARGETS, *PRESET_TARGETS]
ROOT = {CHAT: CHAT_REQUEST, RESPONSES: RESPONSES_REQUEST}


def ids(targets: list[Target]) -> list[str]:
    return [target.name for target in targets]


def available(needs: str | None) -> bool:
    if needs is None:
        return True
    if needs.startswith("Request."):
        return needs.removeprefix("Request.") in {f.name for f in dataclasses.fields(allm.Request)}
    return hasattr(allm, needs)


def combined(lines: list[Line]) -> dict[str, Any]:
    """The call keywords of several lines: messages concatenated, tools and options merged."""
    opts: dict[str, Any] = {}
    for chosen in lines:
        for key, value in chosen.opts().items():
            if key == "messages":
                opts["messages"] = [*opts.get("messages", []), *value]
            elif key == "tools":
                known = {tool.name for tool in opts.get("tools", [])}
                opts["tools"] = [*opts.get("tools", []), *(t for t in value if t.name not in known)]
            elif key == "options":
                opts["options"] = {**opts.get("options", {}), **value}
            else:
                opts[key] = value
    return opts


def compatible(lines: list[Line], target: Target) -> list[Line]:
    """The lines that can go in one call on ``target``, first come first kept: one per slot,
    one model, none the wire refuses or spells elsewhere, none not on this branch yet."""
    kept: list[Line] = []
    for candidate in lines:
        if (
            not available(candidate.needs)
            or target.wire in candidate.refused
            or target.name in candidate.elsewhere
            or any(candidate.slot == other.slot for other in kept)
            or any(
                candidate.model and other.model and candidate.model != other.model for other in kept
            )
        ):
            continue
        kept.append(candidate)
    return kept


def model_of(lines: list[Line]) -> str | None:
    return next((entry.model for entry in lines if entry.model), None)


def send(
    target: Target,
    opts: dict[str, Any],
    sent: list[dict[str, Any]],
    *,
    model: str | None,
    stream: bool,
) -> None:
    """One call through the target's adapter (``generate(streaming=False)`` or
    ``stream_generate``); every JSON body it sends lands in ``sent``. The call must end well."""

    def handle(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        sent.append(body)
        responses = request.url.path.endswith("/responses")
        if body.get("stream"):
            content = RESPONSES_STREAM if responses else CHAT_STREAM
            return httpx.Response(200, headers=SSE, content=content)
        return httpx.Response(200, json=RESPONSES_JSON if responses else CHAT_JSON)

    client = httpx.Client(transport=httpx.MockTransport(handle))
    engine = allm.Engine(
        adapter=target.adapter,
        model=model or target.model,
        adapter_opts={**target.adapter_opts, "http_client": client},
        retry=False,
    )
    call = dict(opts)
    messages = call.pop("messages", None) or [allm.user("hi")]
    # Request.options: merged into whichever provider runs (a call keyword would be a raw param)
    request = allm.Request(messages=tuple(messages), options=call.pop("options", {}))
    if stream:
        response = allm.stream_generate(engine, request, api_key="k", **call).collect()
    else:
        response = allm.generate(engine, request, api_key="k", streaming=False, **call)
    assert response.error is None, response.error
    assert sent, "no request was sent"


def bodies_sent(
    target: Target, opts: dict[str, Any], *, model: str | None = None, stream: bool = False
) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    send(target, opts, sent, model=model, stream=stream)
    return sent


def check_line(target: Target, chosen: Line, *, stream: bool) -> None:
    if not available(chosen.needs):
        pytest.skip(f"{chosen.needs} is not on this branch yet")
    if target.name in chosen.elsewhere:
        pytest.skip(chosen.elsewhere[target.name])
    sent: list[dict[str, Any]] = []
    if target.wire in chosen.refused:
        with pytest.raises(ValidationError) as info:
            send(target, chosen.opts(), sent, model=chosen.model, stream=stream)
        reasons = [reason for _, reason in info.value.errors]
        assert any(reason.startswith("unsupported_") for reason in reasons), reasons
        assert sent == []  # before any I/O
        return
    send(target, chosen.opts(), sent, model=chosen.model, stream=stream)
    for body in sent:
        assert_valid(body, ROOT[target.wire])
        assert body.get("stream", False) is stream


@pytest.mark.parametrize("chosen", LINES, ids=[entry.name for entry in LINES])
@pytest.mark.parametrize("target", OPENAI_TARGETS, ids=ids(OPENAI_TARGETS))
@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_each_option_alone_validates_on_openai(target: Target, chosen: Line, stream: bool) -> None:
    check_line(target, chosen, stream=stream)


@pytest.mark.parametrize("chosen", LINES, ids=[entry.name for entry in LINES])
@pytest.mark.parametrize("target", SHARED_TARGETS, ids=ids(SHARED_TARGETS))
def test_each_option_alone_validates_on_azure_and_compatible_servers(
    target: Target, chosen: Line
) -> None:
    check_line(target, chosen, stream=False)


@pytest.mark.parametrize("target", TARGETS, ids=ids(TARGETS))
@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_every_option_at_once_validates(target: Target, stream: bool) -> None:
    chosen = compatible(LINES, target)
    assert len(chosen) >= 25
    for body in bodies_sent(target, combined(chosen), model=model_of(chosen), stream=stream):
        assert_valid(body, ROOT[target.wire])


@settings(max_examples=40, deadline=None)
@given(
    target=st.sampled_from(TARGETS),
    drawn=st.lists(st.sampled_from(LINES), min_size=2, max_size=8),
    stream=st.booleans(),
)
def test_any_combination_of_options_validates(
    target: Target, drawn: list[Line], stream: bool
) -> None:
    chosen = compatible(drawn, target)
    for body in bodies_sent(target, combined(chosen), model=model_of(chosen), stream=stream):
        assert_valid(body, ROOT[target.wire])


# -- values OpenAI's schema rejects are refused before any I/O ------------------------------------


@pytest.mark.parametrize(
    "target",
    [*OPENAI_TARGETS, *SHARED_TARGETS[:2]],
    ids=ids([*OPENAI_TARGETS, *SHARED_TARGETS[:2]]),
)
def test_a_seed_beyond_64_bits_is_out_of_range(target: Target) -> None:
    sent: list[dict[str, Any]] = []
    with pytest.raises(ValidationError) as info:
        send(target, {"seed": 2**63}, sent, model=None, stream=False)
    assert (("seed",), "out_of_range") in info.value.errors
    assert sent == []
    assert bodies_sent(target, {"seed": 2**63 - 1} if target.wire == CHAT else {})


FIVE_STOPS = ("a", "b", "c", "d", "e")


@pytest.mark.parametrize("target", [OPENAI_TARGETS[0], SHARED_TARGETS[0]], ids=["openai", "azure"])
def test_openai_chat_takes_at_most_four_stop_sequences(target: Target) -> None:
    sent: list[dict[str, Any]] = []
    with pytest.raises(ValidationError) as info:
        send(target, {"stop": FIVE_STOPS}, sent, model=None, stream=False)
    assert info.value.errors == ((("stop",), "too_many_stop_sequences"),)
    assert sent == []


@pytest.mark.parametrize("target", [OPENAI_TARGETS[1], SHARED_TARGETS[1]], ids=["openai", "azure"])
def test_responses_takes_at_least_16_output_tokens(target: Target) -> None:
    sent: list[dict[str, Any]] = []
    with pytest.raises(ValidationError) as info:
        send(target, {"max_tokens": 15}, sent, model=None, stream=False)
    assert info.value.errors == ((("max_tokens",), "out_of_range"),)
    assert sent == []
    (body,) = bodies_sent(target, {"max_tokens": 16})
    assert body["max_output_tokens"] == 16


@pytest.mark.parametrize(
    "target", [*OPENAI_TARGETS, SHARED_TARGETS[2]], ids=ids([*OPENAI_TARGETS, SHARED_TARGETS[2]])
)
@pytest.mark.parametrize(
    "choice", ["required", {"type": "function", "name": "x"}, {"type": "allowed_tools"}]
)
def test_a_forcing_tool_choice_needs_tools(target: Target, choice: Any) -> None:
    sent: list[dict[str, Any]] = []
    with pytest.raises(ValidationError) as info:
        send(target, {"tool_choice": choice}, sent, model=None, stream=False)
    assert (("tool_choice",), "forcing_choice_without_tools") in info.value.errors
    assert sent == []


@pytest.mark.parametrize(
    "target", [*OPENAI_TARGETS, SHARED_TARGETS[2]], ids=ids([*OPENAI_TARGETS, SHARED_TARGETS[2]])
)
@pytest.mark.parametrize("choice", ["auto", "none"])
def test_a_choice_that_forces_nothing_is_left_out_without_tools(
    target: Target, choice: str
) -> None:
    (body,) = bodies_sent(target, {"tool_choice": choice})
    assert "tool_choice" not in body


def test_a_compatible_server_sets_its_own_bounds() -> None:
    compatible_server = SHARED_TARGETS[2]
    (body,) = bodies_sent(compatible_server, {"stop": FIVE_STOPS})
    assert body["stop"] == list(FIVE_STOPS)
    responses = dataclasses.replace(
        compatible_server, adapter_opts={**compatible_server.adapter_opts, "endpoint": "responses"}
    )
    (body,) = bodies_sent(responses, {"max_tokens": 8})
    assert body["max_output_tokens"] == 8


# -- the validator catches what a builder bug looks like ---------------------------------------------


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(body: dict[str, Any]) -> None:
        node: Any = body
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return apply


BROKEN: list[tuple[str, str, Callable[[dict[str, Any]], None]]] = [
    ("chat", "strict beside function, not in it", _set(("tools", 0, "strict"), True)),
    ("chat", "the Responses token field", _set(("max_output_tokens",), 5)),
    ("chat", "five stop sequences", _set(("stop",), list(FIVE_STOPS))),
    (
        "chat",
        "a Responses content part",
        _set(("messages", 0, "content"), [{"type": "input_text", "text": "x"}]),
    ),
    ("chat", "an unknown effort", _set(("reasoning_effort",), "extreme")),
    (
        "chat",
        "a tool choice in the Responses shape",
        _set(("tool_choice",), {"type": "function", "name": "get_weather"}),
    ),
    ("responses", "the Chat tool shape", _set(("tools", 0, "function"), {"name": "get_weather"})),
    ("responses", "the Chat token field", _set(("max_tokens",), 5)),
    ("responses", "Chat's stream_options", _set(("stream_options",), {"include_usage": True})),
    ("responses", "the Chat effort field", _set(("reasoning_effort",), "low")),
    ("responses", "a tool without strict", lambda body: body["tools"][0].pop("strict")),
    ("responses", "a summary it does not know", _set(("reasoning",), {"summary": "short"})),
]


@pytest.mark.parametrize(("wire", "name", "breaks"), BROKEN, ids=[f"{w}-{n}" for w, n, _ in BROKEN])
def test_the_schema_refuses_a_broken_body(
    wire: str, name: str, breaks: Callable[[dict[str, Any]], None]
) -> None:
    target = OPENAI_TARGETS[0 if wire == CHAT else 1]
    (body,) = bodies_sent(target, {"tools": [WEATHER]})
    assert_valid(body, ROOT[wire])
    breaks(body)
    assert problems(body, ROOT[wire]), name
