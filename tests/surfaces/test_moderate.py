"""``allm.moderate`` / ``amoderate``: inputs, grouping, the Fake, errors, telemetry."""

from __future__ import annotations

import pickle
from typing import Any

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

import allm
from allm import telemetry
from allm.data.moderation import ModerationRequest
from allm.providers.fake_images import png
from allm.providers.fake_moderation import FakeModeration, error, ok, retry_until_call

IMAGE = allm.ImagePart.from_bytes(png(2, 2), "image/png")
FAST_RETRY = {"max_attempts": 3, "base_delay_ms": 0, "jitter_ms": 0}


def fake(**opts: Any) -> allm.Engine:
    return allm.Engine(moderation_adapter="fake_moderation", adapter_opts=opts, retry=FAST_RETRY)


def both(engine: allm.Engine, value: Any, **opts: Any) -> allm.ModerationResponse:
    sync = allm.moderate(engine, value, **opts)

    async def go() -> allm.ModerationResponse:
        return await allm.amoderate(engine, value, **opts)

    assert anyio.run(go) == sync
    return sync


def test_one_text_one_result_and_flag_words() -> None:
    response = both(fake(), "please FLAGME now")
    assert len(response.results) == 1 and response.flagged
    assert response.results[0].categories == {"flagme": True}
    assert response.results[0].scores == {"flagme": 1.0}
    calm = both(fake(moderation_flag_words=["spam", "scam"]), ["hello", "a scam here"])
    assert [r.flagged for r in calm.results] == [False, True] and calm.model == "fake-moderation"


def test_inputs_are_grouped_texts_together_images_alone() -> None:
    seen: list[Any] = []
    inputs: list[Any] = ["a", "b", IMAGE, ["caption", IMAGE], allm.TextPart("c"), "d"]
    response = both(fake(moderation_record=seen), inputs, max_concurrency=1)
    assert len(response.results) == 6 and response.metadata["requests"] == 4
    assert [len(r.inputs) for r, _ in seen[:4]] == [2, 1, 1, 2]
    assert seen[2][0].inputs[0][0] == allm.TextPart("caption")
    single = both(fake(), IMAGE.image)
    assert len(single.results) == 1 and not single.flagged


def test_more_texts_than_a_request_takes_are_split_in_order() -> None:
    texts = [f"t{i}" for i in range(70)]
    texts[65] = "flagme"
    response = both(fake(), texts)
    assert response.metadata["requests"] == 3
    assert [i for i, r in enumerate(response.results) if r.flagged] == [65]


def test_bad_inputs_are_listed_before_any_request() -> None:
    seen: list[Any] = []
    with pytest.raises(allm.ValidationError) as info:
        allm.moderate(fake(moderation_record=seen), ["", 3, [], ["ok", 4]], options=[])
    assert set(info.value.errors) == {
        (("input", 0), "empty"),
        (("input", 1), "not_an_input"),
        (("input", 2), "not_an_input"),
        (("input", 3, 1), "not_text_or_image"),
        (("options",), "not_a_map"),
    }
    with pytest.raises(allm.ValidationError):
        allm.moderate(fake(), [])
    with pytest.raises(allm.ValidationError):
        allm.moderate(fake(), 42)
    assert seen == []
    with pytest.raises(allm.EngineError) as engine_error:
        allm.moderate(allm.Engine(), "x")
    assert engine_error.value.reason == "no_moderation_adapter"


def test_scripts_retries_and_failures() -> None:
    verdict = allm.ModerationResult(True, {"hate": True}, {"hate": 0.9})
    engine = fake(moderation_script=[retry_until_call(2), ok([verdict])])
    assert both_once(engine).results == (verdict,)
    with pytest.raises(allm.AdapterError) as info:
        allm.moderate(fake(moderation_script=[error("rate_limited")] * 3), "x")
    assert info.value.reason == "rate_limited"
    with pytest.raises(allm.errors.ConfigurationError):
        allm.moderate(fake(moderation_script=[ok(["not a result"])]), "x")

    async def go() -> None:
        await allm.amoderate(fake(moderation_script=[error("timeout")] * 3), "x")

    with pytest.raises(allm.AdapterError):
        anyio.run(go)


def both_once(engine: allm.Engine) -> allm.ModerationResponse:
    return allm.moderate(engine, "x")


def test_a_wrong_answer_from_an_adapter_is_malformed() -> None:
    class Broken(FakeModeration):
        def default(self, request: ModerationRequest, call: Any) -> Any:
            return allm.ModerationResponse(())

    with pytest.raises(allm.AdapterError) as info:
        allm.moderate(allm.Engine(moderation_adapter=Broken()), "x")
    assert info.value.reason == "malformed_response"


def test_values_round_trip() -> None:
    response = allm.moderate(fake(), ["flagme", ["caption", IMAGE]], metadata={"k": "v"})
    assert response.metadata["k"] == "v"
    assert allm.from_json(allm.to_json(response)) == response
    assert pickle.loads(pickle.dumps(response)) == response
    request = ModerationRequest(inputs=[[allm.TextPart("a"), IMAGE]])
    assert allm.from_json(allm.to_json(request)) == request


def test_telemetry_span() -> None:
    events: list[Any] = []
    handler = telemetry.attach(lambda *e: events.append(e), ["allm.moderate.stop"])
    try:
        allm.moderate(fake(), "flagme")
        with pytest.raises(allm.AdapterError):
            allm.moderate(fake(moderation_script=[error("invalid_request")]), "x")
    finally:
        telemetry.detach(handler)
    assert events[0][2]["flagged"] is True and events[0][2]["error"] is None
    assert events[1][2]["error"].reason == "invalid_request"


def test_openai_refuses_images_for_text_models_before_any_key() -> None:
    engine = allm.Engine(moderation_adapter="openai_moderation")
    with pytest.raises(allm.ValidationError) as info:
        allm.moderate(engine, [["caption", IMAGE]], model="text-moderation-latest")
    assert list(info.value.errors) == [(("input", 0, 1), "unsupported_option")]
    nameless = allm.ImagePart(allm.Image(allm.data.ImageSource("binary", b"x"), None))
    with pytest.raises(allm.ValidationError) as info:
        allm.moderate(engine, nameless)
    assert list(info.value.errors) == [(("input", 0, 0), "missing_mime_type")]
    with pytest.raises(allm.EngineError) as key_error:
        allm.moderate(engine, "x")
    assert key_error.value.reason == "missing_key"


@given(
    words=st.lists(st.sampled_from(["calm", "flagme", "fine", "spam"]), min_size=1, max_size=80),
    limit=st.integers(min_value=1, max_value=4),
)
def test_grouping_never_changes_the_verdicts(words: list[str], limit: int) -> None:
    response = allm.moderate(fake(), words, max_concurrency=limit)
    assert [r.flagged for r in response.results] == [word == "flagme" for word in words]
    assert response.metadata["requests"] == -(-len(words) // 32)
