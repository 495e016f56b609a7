"""``logprobs=`` on every wire: each provider's spelling in the body, or a pre-flight
``unsupported_option``; the token lists each wire returns read into ``Response.logprobs``,
streamed as ``LogprobsDelta`` and whole alike, however the bytes are cut."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.providers.openai.support import engine_for as openai_engine
from tests.providers.openai.support import request_for as openai_request
from tests.providers.test_neutral_fields import body_sent
from tests.providers.wire import load, logprobs_of

import allm
from allm import _json
from allm.errors import ConfigurationError, ValidationError
from allm.events import LogprobsDelta, MessageCompleted, OutputRetry
from allm.providers import fake
from allm.providers.logprobs import asked, gemini_tokens, openai_tokens, top_alternatives
from allm.providers.ollama.request import build_body as ollama_body

TOKEN = allm.TokenLogprob


# -- the request ----------------------------------------------------------------------------------


@pytest.mark.parametrize("wire", ["openai-chat", "openai-compatible"])
def test_chat_completions_sends_logprobs_and_top_logprobs(wire: str) -> None:
    body = body_sent(wire, logprobs=3)
    assert (body["logprobs"], body["top_logprobs"]) == (True, 3)
    asked_only = body_sent(wire, logprobs=True)
    assert asked_only["logprobs"] is True and "top_logprobs" not in asked_only
    assert body_sent(wire, logprobs=0)["top_logprobs"] == 0
    nothing = body_sent(wire, logprobs=False)
    assert "logprobs" not in nothing and "top_logprobs" not in nothing


def _responses_body(**fields: Any) -> dict[str, Any]:
    from allm.adapters import Call
    from allm.providers.openai.responses_request import build_body

    request = allm.request([allm.user("hi")], model="gpt-4.1", **fields)
    return build_body(request, Call(request_id="r", engine=allm.Engine()), stream=False)


def test_responses_includes_the_output_text_logprobs() -> None:
    body = body_sent("openai-responses", logprobs=5)
    assert body["include"] == ["message.output_text.logprobs"] and body["top_logprobs"] == 5
    both = ["reasoning.encrypted_content", "message.output_text.logprobs"]
    merged = _responses_body(logprobs=True, options={"include": both})
    assert merged["include"] == both and "top_logprobs" not in merged
    extended = _responses_body(logprobs=1, options={"include": ["x"]})
    assert extended["include"] == ["x", "message.output_text.logprobs"]
    assert "include" not in body_sent("openai-responses", logprobs=False)


def test_gemini_sends_response_logprobs_and_the_count() -> None:
    config = body_sent("gemini", logprobs=4)["generationConfig"]
    assert config["responseLogprobs"] is True and config["logprobs"] == 4
    config = body_sent("gemini", logprobs=True)["generationConfig"]
    assert config["responseLogprobs"] is True and "logprobs" not in config
    assert "responseLogprobs" not in (body_sent("gemini").get("generationConfig") or {})


def test_ollama_sends_logprobs_and_top_logprobs() -> None:
    from allm.adapters import Call

    call = Call(request_id="r", engine=allm.Engine())
    request = allm.request([allm.user("hi")], model="llama3.2", logprobs=2)
    body = ollama_body(request, call, stream=True)
    assert (body["logprobs"], body["top_logprobs"]) == (True, 2)
    plain = ollama_body(allm.request([allm.user("hi")], model="llama3.2"), call, stream=True)
    assert "logprobs" not in plain


def test_the_neutral_field_is_a_request_field_an_engine_param_and_a_call_keyword() -> None:
    record: list[Any] = []
    engine = allm.Engine(
        adapter="fake", params={"logprobs": 2}, adapter_opts={"scripts": [[]] * 3, "record": record}
    )
    allm.generate(engine, [allm.user("hi")])
    allm.generate(engine, allm.request([allm.user("hi")], logprobs=True))
    allm.generate(engine, allm.request([allm.user("hi")], logprobs=True), logprobs=7)
    assert [sent.logprobs for sent, _ in record] == [2, True, 7]
    assert all("logprobs" not in call.params for _, call in record)


def test_reading_what_a_request_asks() -> None:
    request = allm.request([allm.user("hi")])
    assert (asked(request), top_alternatives(request)) == (False, None)
    for value, expected in ((True, (True, None)), (False, (False, None)), (0, (True, 0))):
        request = allm.request([allm.user("hi")], logprobs=value)
        assert (asked(request), top_alternatives(request)) == expected


# -- pre-flight -----------------------------------------------------------------------------------


def _refused(engine: allm.Engine, **opts: Any) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        allm.generate(engine, [allm.user("hi")], api_key="k", **opts)
    assert info.value.reason == "invalid_request"
    return info.value


@pytest.mark.parametrize(
    ("adapter", "model", "opts"),
    [
        ("anthropic", "claude-sonnet-4-5", {}),
        ("bedrock", "anthropic.claude-sonnet-4-5", {"region": "us-east-1"}),
        ("mistral", "mistral-small-latest", {}),
        ("vertex", "claude-sonnet-4-5@20250929", {"project": "p", "credentials": object()}),
    ],
)
def test_a_wire_without_logprobs_refuses_them_before_any_io(
    adapter: str, model: str, opts: dict[str, Any]
) -> None:
    def no_io(request: httpx.Request) -> httpx.Response:  # pragma: no cover - never called
        raise AssertionError("a refused call reached the network")

    engine = allm.Engine(
        adapter=adapter,
        model=model,
        adapter_opts={**opts, "http_client": httpx.Client(transport=httpx.MockTransport(no_io))},
    )
    error = _refused(engine, logprobs=3)
    assert (("logprobs",), "unsupported_option") in error.errors
    if adapter != "mistral":
        both = _refused(engine, logprobs=True, seed=1)
        assert {(("logprobs",), "unsupported_option"), (("seed",), "unsupported_option")} <= set(
            both.errors
        )


def test_logprobs_false_asks_nothing_and_is_never_refused() -> None:
    body = body_sent("anthropic", logprobs=False)
    assert "logprobs" not in body


@pytest.mark.parametrize(
    ("value", "reason"), [(21, "out_of_range"), (-1, "out_of_range"), ("3", "invalid_type")]
)
def test_a_bad_value_is_refused_before_any_io(value: Any, reason: str) -> None:
    engine = allm.Engine(adapter="fake", adapter_opts={"script": [fake.text("x")]})
    assert (("logprobs",), reason) in _refused(engine, logprobs=value).errors


# -- the readers ----------------------------------------------------------------------------------


def test_openai_tokens_keep_bytes_and_alternatives_and_skip_what_is_not_a_token() -> None:
    entries = [
        {"token": "Hi", "logprob": -0.5, "bytes": [72, 105], "top_logprobs": [
            {"token": "Hi", "logprob": -0.5, "bytes": [72, 105]},
            {"token": "Yo", "logprob": -2, "bytes": None},
            {"logprob": -3},
        ]},
        {"token": "!", "logprob": -1.0, "bytes": [300], "top_logprobs": []},
        {"token": "?", "logprob": True},
        "junk",
        {"token": 5, "logprob": -1.0},
    ]  # fmt: skip
    assert openai_tokens(entries) == (
        TOKEN("Hi", -0.5, b"Hi", (TOKEN("Hi", -0.5, b"Hi"), TOKEN("Yo", -2.0))),
        TOKEN("!", -1.0),
    )
    assert openai_tokens(None) == openai_tokens([]) == openai_tokens({"content": []}) == ()


def test_gemini_tokens_read_proto3_defaults_and_pair_steps_with_alternatives() -> None:
    result = {
        "chosenCandidates": [
            {"token": "Hi", "logProbability": -0.25, "tokenId": 7},
            {"token": "!"},  # a log probability of 0 is left out on the wire
            {"logProbability": -1.0},  # so is an empty token
            {"token": 3},
            "junk",
        ],
        "topCandidates": [
            {"candidates": [{"token": "Hi", "logProbability": -0.25}, {"token": "Yo"}, 1]},
            {},
        ],
    }
    assert gemini_tokens(result) == (
        TOKEN("Hi", -0.25, None, (TOKEN("Hi", -0.25), TOKEN("Yo", 0.0))),
        TOKEN("!", 0.0),
        TOKEN("", -1.0),
    )
    assert gemini_tokens(None) == gemini_tokens({"chosenCandidates": []}) == ()
    assert gemini_tokens({"chosenCandidates": [{"token": "a"}], "topCandidates": 5}) == (
        TOKEN("a", 0.0),
    )


# -- transcripts: streamed and whole, however the bytes are cut ----------------------------------

LOGPROB_WIRES = ["openai-chat", "openai-responses", "gemini", "ollama"]


def _stream_and_whole(directory: str) -> tuple[allm.Response, allm.Response]:
    from tests.providers.gemini.support import engine_for as gemini_engine
    from tests.providers.gemini.support import request_from_wire
    from tests.providers.recorded import replay_streamed, replay_whole

    out = []
    for name in ("logprobs_stream", "logprobs_nonstream"):
        case = load(directory, name)
        streaming = case.expect["stream"]
        if directory == "ollama":
            out.append(replay_streamed(case, "whole") if streaming else replay_whole(case))
            continue
        if directory == "gemini":
            engine, request, params = (
                gemini_engine(case),
                request_from_wire(case.request["body"]),
                {},
            )
        else:
            engine = openai_engine(case)
            request, params = openai_request(case)
        out.append(allm.generate(engine, request, streaming=streaming, api_key="k", **params))
    return out[0], out[1]


@pytest.mark.parametrize("directory", LOGPROB_WIRES)
def test_a_stream_and_a_whole_answer_give_the_same_tokens(directory: str) -> None:
    streamed, whole = _stream_and_whole(directory)
    assert streamed.logprobs is not None and len(streamed.logprobs) == 5
    if directory == "openai-responses":  # the stream's deltas carry no bytes
        assert [t.bytes for t in streamed.logprobs] == [None] * 5
        assert [(t.token, t.logprob) for t in streamed.logprobs] == [
            (t.token, t.logprob) for t in whole.logprobs or ()
        ]
    else:
        assert streamed.logprobs == whole.logprobs
    assert "".join(t.token for t in streamed.logprobs) == streamed.text


CUTS = st.lists(st.integers(min_value=1, max_value=4000), max_size=6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cuts=CUTS, directory=st.sampled_from(["openai-chat", "openai-responses", "gemini"]))
def test_the_tokens_do_not_depend_on_how_the_stream_is_cut(cuts: list[int], directory: str) -> None:
    from tests.providers.gemini.support import engine_for as gemini_engine
    from tests.providers.gemini.support import request_from_wire

    case = load(directory, "logprobs_stream")
    if directory == "gemini":
        engine, request, params = (
            gemini_engine(case, cuts),
            request_from_wire(case.request["body"]),
            {},
        )
    else:
        engine = openai_engine(case, cuts)
        request, params = openai_request(case)
    stream = list(allm.stream_generate(engine, request, api_key="k", **params))
    deltas = [event for event in stream if isinstance(event, LogprobsDelta)]
    assert sum(len(event.items) for event in deltas) == 5
    response = allm.StreamCollector().apply_all(stream).to_response()
    assert logprobs_of(response) == case.expect["logprobs"]


def test_responses_without_streamed_logprobs_takes_them_from_the_completed_response() -> None:
    case = load("openai-responses", "logprobs_stream")
    # The same stream with every delta's logprobs emptied: only response.completed has them.
    case.body = b"\n".join(
        line.replace(b'"logprobs":[{', b'"logprobs":[],"was":[{')
        if b"response.output_text.delta" in line
        else line
        for line in case.body.split(b"\n")
    )
    request, params = openai_request(case)
    stream = list(allm.stream_generate(openai_engine(case), request, api_key="k", **params))
    deltas = [event for event in stream if isinstance(event, LogprobsDelta)]
    assert len(deltas) == 1 and len(deltas[0].items) == 5
    assert deltas[0].items[0].bytes == b"Paris"  # the completed response's own list
    assert isinstance(stream[-1], MessageCompleted)


def test_a_json_answer_served_to_a_chat_stream_keeps_its_tokens() -> None:
    case = load("openai-chat", "logprobs_nonstream")
    request, params = openai_request(case)
    stream = list(allm.stream_generate(openai_engine(case), request, api_key="k", **params))
    deltas = [event for event in stream if isinstance(event, LogprobsDelta)]
    assert (
        len(deltas) == 1
        and logprobs_of(allm.StreamCollector().apply_all(stream).to_response())
        == case.expect["logprobs"]
    )


def test_an_answer_without_logprobs_has_none() -> None:
    case = load("openai-chat", "text_stream")
    request, params = openai_request(case)
    assert allm.generate(openai_engine(case), request, api_key="k", **params).logprobs is None


# -- the Fake and the fold ------------------------------------------------------------------------


def test_the_fake_scripts_logprobs_streamed_and_whole() -> None:
    script = [
        fake.text("Hi"),
        fake.logprobs(("Hi", -0.5), TOKEN("!", -1.0, b"!", (TOKEN("?", -2.0),))),
        ("logprobs", [("x", -3)]),
        fake.finish("stop"),
    ]
    engine = allm.Engine(adapter="fake", adapter_opts={"scripts": [script, script]})
    streamed = allm.generate(engine, [allm.user("hi")], logprobs=1)
    whole = allm.generate(engine, [allm.user("hi")], logprobs=1, streaming=False)
    expected = (TOKEN("Hi", -0.5), TOKEN("!", -1.0, b"!", (TOKEN("?", -2.0),)), TOKEN("x", -3.0))
    assert streamed.logprobs == whole.logprobs == expected
    assert allm.from_json(allm.to_json(streamed)).logprobs == expected


@pytest.mark.parametrize("entry", [("logprobs", [("x",)]), ("logprobs", "x"), ("logprobs", [1])])
def test_a_malformed_logprobs_entry_is_a_script_error(entry: Any) -> None:
    engine = allm.Engine(adapter="fake", adapter_opts={"script": [entry]})
    with pytest.raises(ConfigurationError) as info:
        allm.generate(engine, [allm.user("hi")])
    assert info.value.reason == "invalid_script"
    with pytest.raises(TypeError):
        fake.logprobs(("x", True))  # type: ignore[arg-type]


@pytest.mark.parametrize("streaming", [True, False])
def test_the_fake_records_the_reasoning_it_was_asked(streaming: bool) -> None:
    engine = allm.Engine(adapter="fake", adapter_opts={"scripts": [[fake.text("ok")]] * 3})
    response = allm.generate(engine, [allm.user("hi")], reasoning="high", streaming=streaming)
    assert response.metadata["reasoning_sent"] == {"reasoning": {"effort": "high"}}
    budget = allm.Reasoning(budget_tokens=2048, summary="auto")
    response = allm.generate(engine, [allm.user("hi")], reasoning=budget, streaming=streaming)
    assert response.metadata["reasoning_sent"] == {
        "reasoning": {"budget_tokens": 2048, "summary": "auto"}
    }
    plain = allm.generate(engine, [allm.user("hi")], streaming=streaming)
    assert "reasoning_sent" not in plain.metadata


def test_a_re_asked_typed_output_keeps_only_the_last_attempts_tokens() -> None:
    collector = allm.StreamCollector()
    collector.apply(LogprobsDelta((TOKEN("a", -1.0),)))
    collector.apply(OutputRetry(2, None))
    assert collector.to_response().logprobs is None
    collector.apply(LogprobsDelta([TOKEN("b", -2.0)]))
    collector.apply(LogprobsDelta(()))
    assert collector.to_response().logprobs == (TOKEN("b", -2.0),)
    assert allm.Response(logprobs=[TOKEN("c", 0.0)]).logprobs == (TOKEN("c", 0.0),)
    assert TOKEN("d", 0.0, None, [TOKEN("e", -1.0)]).top == (TOKEN("e", -1.0),)


JUNK = [{"token": None, "logprob": "x"}]
JUNK_STREAMS = {
    "openai": (
        {"endpoint": "chat_completions"},
        'data: {"choices":[{"index":0,"delta":{"content":"Hi"},"logprobs":{"content":'
        + _json.dumps(JUNK)
        + '},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n',
    ),
    "openai_responses": (
        {"endpoint": "responses"},
        'event: response.output_text.delta\ndata: {"type":"response.output_text.delta",'
        '"delta":"Hi","logprobs":' + _json.dumps(JUNK) + "}\n\n"
        'event: response.completed\ndata: {"type":"response.completed","response":'
        '{"status":"completed","output":[]}}\n\n',
    ),
    "gemini": (
        {},
        'data: {"candidates":[{"content":{"parts":[{"text":"Hi"}]},"finishReason":"STOP",'
        '"logprobsResult":{"chosenCandidates":[]}}]}\n\n',
    ),
    "ollama": (
        {},
        '{"message":{"content":"Hi"},"logprobs":' + _json.dumps(JUNK) + ',"done":true}\n',
    ),
}


@pytest.mark.parametrize("name", sorted(JUNK_STREAMS))
def test_a_stream_whose_token_entries_are_unreadable_gives_no_tokens(name: str) -> None:
    opts, body = JUNK_STREAMS[name]
    kind = "application/x-ndjson" if name == "ollama" else "text/event-stream"
    client = httpx.Client(
        transport=httpx.MockTransport(
            lambda request: httpx.Response(200, headers={"content-type": kind}, content=body)
        )
    )
    adapter = "openai" if name.startswith("openai") else name
    model = {"gemini": "gemini-2.5-flash", "ollama": "llama3.2"}.get(adapter, "gpt-4.1-mini")
    engine = allm.Engine(
        adapter=adapter, model=model, adapter_opts={**opts, "http_client": client}, retry=False
    )
    stream = list(allm.stream_generate(engine, [allm.user("hi")], api_key="k", logprobs=True))
    assert not any(isinstance(event, LogprobsDelta) for event in stream)
    response = allm.StreamCollector().apply_all(stream).to_response()
    assert response.text == "Hi" and response.logprobs is None, response.error
