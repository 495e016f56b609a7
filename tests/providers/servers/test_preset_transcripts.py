"""Every preset's transcripts (tests/fixtures/wire/presets/<preset>/, composed from its docs by
compose_presets.py): streamed, whole and cut at every byte, through the preset's own adapter at
its default base URL; generate == fold(stream_generate); the conformance kit per preset."""

from __future__ import annotations

from typing import Any

import pytest
from tests.providers.conformance import Transcripts
from tests.providers.wire import ERROR_KINDS, Case, call_keywords, case_names, is_subset, load

import allm
from allm.providers.presets import PRESET_CLASSES, PRESETS
from allm.testing.conformance import AdapterConformance

CASES = [(preset, name) for preset in sorted(PRESETS) for name in case_names(f"presets/{preset}")]
TOOL = allm.Tool(
    "weather",
    "",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


def test_every_preset_has_its_transcripts() -> None:
    for preset in PRESETS:
        assert len(case_names(f"presets/{preset}")) >= 4, preset


def engine(case: Case, how: Any = "whole") -> allm.Engine:
    adapter = PRESET_CLASSES[case.expect["provider"]]()
    opts = {"http_client": case.client(how), "async_http_client": case.async_client(how)}
    return allm.Engine(
        adapter=adapter, model=case.request["body"]["model"], adapter_opts=opts, retry=False
    )


def ask(case: Case) -> dict[str, Any]:
    body = case.request["body"]
    opts: dict[str, Any] = {
        "api_key": "sk-test",
        **call_keywords(
            (case.request.get("allm") or {}).get("params", {}), case.expect["provider"]
        ),
    }
    if "tools" in body:
        opts["tools"] = [TOOL]
    return {"request": [allm.user(body["messages"][0]["content"])], **opts}


def check(case: Case, response: allm.Response) -> None:
    expect = case.expect
    assert response.text == expect["output_text"]
    assert response.finish_reason == (expect["finish_reason"] or "error")
    if expect["response_id"] is not None:
        assert (response.id, response.model) == (expect["response_id"], expect["model"])
    assert response.reasoning == expect["reasoning_text"]
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == [
        (c["id"], c["name"], c["arguments"]) for c in expect["tool_calls"]
    ]
    for field, value in (expect["usage"] or {}).items():
        assert getattr(response.usage, field) == value, field
    error = expect["error"]
    if error is None:
        assert "error" not in response.metadata
    else:
        found = response.metadata["error"]
        assert found.reason in ERROR_KINDS[error["kind"]], found
        assert found.provider == expect["provider"]


@pytest.mark.parametrize(("preset", "name"), CASES)
@pytest.mark.parametrize("how", ["whole", "bytewise"])
def test_transcript_streamed(preset: str, name: str, how: str) -> None:
    case = load(f"presets/{preset}", name)
    opts = ask(case)
    request = opts.pop("request")
    events = list(allm.stream_generate(engine(case, how), request, **opts))
    check(case, allm.StreamCollector().apply_all(events).to_response())
    sent = case.sent_body()
    assert str(case.seen[-1].url) == case.request["url"]
    assert sent["model"] == case.request["body"]["model"] and sent["stream"] is True
    asked = {k: v for k, v in case.request["body"].items() if k != "stream"}
    assert is_subset(asked, sent) == []


@pytest.mark.parametrize(("preset", "name"), CASES)
def test_generate_is_the_fold_of_the_stream(preset: str, name: str) -> None:
    case = load(f"presets/{preset}", name)
    opts = ask(case)
    request = opts.pop("request")
    folded = allm.stream_generate(engine(case), request, **opts).collect()
    whole = allm.generate(engine(case), request, **opts)
    check(case, whole)
    assert (whole.text, whole.finish_reason, whole.usage, whole.tool_calls, whole.reasoning) == (
        folded.text,
        folded.finish_reason,
        folded.usage,
        folded.tool_calls,
        folded.reasoning,
    )


def _whole_bodies() -> list[tuple[str, str]]:
    """The cases whose body is a whole JSON document (an event stream is no whole answer)."""
    return [
        (preset, name)
        for preset, name in CASES
        if not (load(f"presets/{preset}", name).expect["stream"] and name != "error_429")
    ]


@pytest.mark.parametrize(("preset", "name"), _whole_bodies())
def test_transcript_not_streamed(preset: str, name: str) -> None:
    """The non-streaming path: every whole body, and the 429 of a streaming request answered
    to a non-streaming one."""
    case = load(f"presets/{preset}", name)
    opts = ask(case)
    request = opts.pop("request")
    response = allm.generate(engine(case), request, streaming=False, **opts)
    check(case, response)
    sent = case.sent_body()
    assert "stream" not in sent
    asked = {k: v for k, v in case.request["body"].items() if k != "stream"}
    assert is_subset(asked, sent) == []


def test_the_groq_rate_limit_keeps_the_services_words() -> None:
    case = load("presets/groq", "error_429")
    response = allm.generate(engine(case), [allm.user("hi")], api_key="sk-test")
    error = response.metadata["error"]
    assert error.status == 429 and "Please try again in 2.5s" in error.message
    assert error.metadata["openai_code"] == "rate_limit_exceeded"


def test_the_openrouter_error_beside_choices_is_the_error() -> None:
    case = load("presets/openrouter", "stream_error")
    assert b'"choices"' in case.body and b'"error"' in case.body
    response = allm.generate(engine(case), [allm.user("hi")], api_key="sk-test")
    assert response.metadata["error"].reason == "provider_unavailable"  # its code: 502


def _conformance(preset: str) -> type:
    names = {
        "text": "text_stream",
        "tool_call": "tool_call_stream",
        "rate_limited": "error_429",
        "mid_stream": "stream_error",
        "truncated": "stream_truncated",
    }
    return type(
        f"Test{PRESET_CLASSES[preset].__name__}Conformance",
        (Transcripts, AdapterConformance),
        {
            "directory": f"presets/{preset}",
            "model": load(f"presets/{preset}", "text_stream").request["body"]["model"],
            "make_adapter": PRESET_CLASSES[preset],
            "names": names,
            "adapter_opts": {},
            "__module__": __name__,
        },
    )


for _preset in sorted(PRESETS):
    _cls = _conformance(_preset)
    globals()[_cls.__name__] = _cls
del _preset, _cls
