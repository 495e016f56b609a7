"""``allm.classify`` driven by the Fake in native mode: labels, yes/no, ``score=True``, re-asks,
failures, bad arguments before any I/O, telemetry, plain data, and sync == async."""

from __future__ import annotations

import asyncio
import json
import pickle
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import allm
from allm import telemetry
from allm.data.messages import Image
from allm.providers.fake import error, finish, text, usage

SCORE_LABELS = ("spam", "ham")


def answer(label: str, scores: dict[str, float], **extra: Any) -> str:
    return json.dumps({"label": label, "scores": scores, **extra})


def fake(*answers: str | list[Any], **opts: Any) -> allm.Engine:
    scripts = [[text(a), finish("stop")] if isinstance(a, str) else a for a in answers]
    return allm.Engine(adapter="fake", adapter_opts={"scripts": scripts, **opts}, retry=False)


def recording(*answers: str) -> tuple[allm.Engine, list[Any]]:
    sent: list[Any] = []
    return fake(*answers, record=sent), sent


def test_labels_give_one_of_them_and_normalized_scores() -> None:
    engine, sent = recording(answer("spam", {"spam": 0.9, "ham": 0.3}))
    result = allm.classify(engine, "WIN A PRIZE NOW", labels=["spam", "ham"])
    assert result.label == "spam"
    assert result.scores == pytest.approx({"spam": 0.75, "ham": 0.25})
    assert sum(result.scores.values()) == pytest.approx(1.0)
    assert list(result.scores) == ["spam", "ham"]  # the caller's order
    assert result.response is not None and result.response.finish_reason == "stop"
    request = sent[0][0]
    spec = request.response_format
    assert spec.mode == "native" and spec.name == "classification"
    assert spec.schema["properties"]["label"]["enum"] == ["spam", "ham"]
    assert spec.schema["properties"]["scores"]["required"] == ["spam", "ham"]
    system, user = request.messages
    assert system.role == "system" and '"spam"' in system.content and '"ham"' in system.content
    assert user.role == "user" and user.content == "WIN A PRIZE NOW"


def test_labels_with_descriptions_and_a_question_reach_the_prompt() -> None:
    engine, sent = recording(answer("bug", {"bug": 1, "feature": 0, "question": 0}))
    result = allm.classify(
        engine,
        "the app crashes on start",
        labels={"bug": "something is broken", "feature": "a wish", "question": ""},
        question="What kind of ticket is this?",
    )
    assert result.label == "bug" and result.scores["bug"] == 1.0
    prompt = sent[0][0].messages[0].content
    assert '"bug": something is broken' in prompt
    assert "What kind of ticket is this?" in prompt


def test_all_zero_confidences_become_uniform() -> None:
    result = allm.classify(fake(answer("a", {"a": 0, "b": 0, "c": 0})), "x", labels=["a", "b", "c"])
    assert result.scores == pytest.approx({"a": 1 / 3, "b": 1 / 3, "c": 1 / 3})


def test_a_question_alone_answers_yes_or_no() -> None:
    engine, sent = recording(answer("no", {"yes": 0.2, "no": 0.6}))
    result = allm.classify(engine, "The sky is green.", question="Is this statement true?")
    assert result.label == "no"
    assert result.scores == pytest.approx({"yes": 0.25, "no": 0.75})
    spec = sent[0][0].response_format
    assert spec.schema["properties"]["label"]["enum"] == ["yes", "no"]
    assert "yes or no: Is this statement true?" in sent[0][0].messages[0].content


def test_score_true_puts_a_rating_in_scores() -> None:
    engine, sent = recording(answer("yes", {"yes": 0.8, "no": 0.2}, score=0.65))
    result = allm.classify(engine, "Great product!", question="Is the review positive?", score=True)
    assert result.label == "yes"
    assert result.scores["score"] == 0.65
    assert result.scores["yes"] + result.scores["no"] == pytest.approx(1.0)
    schema = sent[0][0].response_format.schema
    assert schema["required"] == ["label", "scores", "score"]
    assert schema["properties"]["score"]["maximum"] == 1
    with_labels = allm.classify(
        fake(answer("pos", {"pos": 0.6, "neg": 0.2}, score=1)),
        "!",
        labels=["pos", "neg"],
        score=True,
    )
    assert with_labels.scores == pytest.approx({"pos": 0.75, "neg": 0.25, "score": 1.0})


def test_an_invalid_label_is_reasked_then_valid() -> None:
    engine, sent = recording(
        answer("eggs", {"spam": 0.5, "ham": 0.5}), answer("ham", {"spam": 0.1, "ham": 0.9})
    )
    seen: list[Any] = []
    handler = telemetry.attach(lambda name, m, meta: seen.append(name))
    try:
        result = allm.classify(engine, "lunch menu", labels=["spam", "ham"])
    finally:
        telemetry.detach(handler)
    assert result.label == "ham"
    assert len(sent) == 2
    reask = sent[1][0].messages
    assert reask[-2].role == "assistant" and "eggs" in reask[-2].content
    assert reask[-1].role == "user" and "label" in reask[-1].content
    assert result.response is not None and result.response.text == answer(
        "ham", {"spam": 0.1, "ham": 0.9}
    )
    assert seen[0] == "allm.classify.start" and seen[-1] == "allm.classify.stop"


def test_an_out_of_range_confidence_is_reasked() -> None:
    engine, sent = recording(
        answer("spam", {"spam": 7, "ham": 0}), answer("spam", {"spam": 1, "ham": 0})
    )
    assert allm.classify(engine, "x", labels=SCORE_LABELS).scores["spam"] == 1.0
    assert len(sent) == 2


def test_always_invalid_raises_after_the_retries() -> None:
    bad = answer("eggs", {"spam": 0.5, "ham": 0.5})
    engine, sent = recording(bad, bad, bad)
    seen: list[tuple[str, Any]] = []
    handler = telemetry.attach(lambda name, m, meta: seen.append((name, meta)))
    try:
        with pytest.raises(allm.OutputValidationError) as caught:
            allm.classify(engine, "x", labels=SCORE_LABELS, output_retries=2)
    finally:
        telemetry.detach(handler)
    assert len(sent) == 3
    assert caught.value.reason == "invalid_output"
    assert caught.value.raw_text == bad
    assert any(path == ("label",) for path, _ in caught.value.errors)
    names = [name for name, _ in seen]
    assert "allm.classify.exception" in names and "allm.classify.stop" not in names


def test_a_failed_request_raises_its_adapter_error() -> None:
    engine = fake([error("rate_limited")])
    with pytest.raises(allm.AdapterError) as caught:
        allm.classify(engine, "x", labels=SCORE_LABELS)
    assert caught.value.reason == "rate_limited"
    with pytest.raises(allm.AdapterError):
        asyncio.run(allm.aclassify(fake([error("rate_limited")]), "x", labels=SCORE_LABELS))


def test_a_cut_off_answer_is_invalid_and_a_filtered_one_a_non_stop_finish() -> None:
    cut = fake([text('{"label": "sp'), finish("length")])
    with pytest.raises(allm.OutputValidationError):
        allm.classify(cut, "x", labels=SCORE_LABELS, output_retries=0)
    filtered = fake([text('{"label": "sp'), finish("content_filter")])
    with pytest.raises(allm.errors.NonStopFinishError) as caught:
        allm.classify(filtered, "x", labels=SCORE_LABELS, output_retries=0)
    assert caught.value.finish_reason == "content_filter"


def test_a_stop_without_an_answer_is_an_output_validation_error() -> None:
    from allm.classification import _Task

    task = _Task(SCORE_LABELS, False, (), allm.output({"type": "object"}))
    with pytest.raises(allm.OutputValidationError) as caught:
        task.result(allm.Response(output_text="hi", finish_reason="stop"))
    assert caught.value.raw_text == "hi"


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, [(("labels",), "labels_or_question_required")]),
        ({"labels": []}, [(("labels",), "empty")]),
        ({"labels": ["only"]}, [(("labels",), "fewer_than_two")]),
        ({"labels": "spam"}, [(("labels",), "not_a_list")]),
        (
            {"labels": ["a", "b", "a", 3, "", "b"]},
            [
                (("labels", 2), "duplicate"),
                (("labels", 3), "not_a_string"),
                (("labels", 4), "empty"),
                (("labels", 5), "duplicate"),
            ],
        ),
        ({"labels": ["score", "other"], "score": True}, [(("labels", 0), "reserved_with_score")]),
        ({"labels": {"a": 1, "b": "fine"}}, [(("labels", "a"), "description_not_a_string")]),
        ({"question": ""}, [(("question",), "not_a_non_empty_string")]),
        (
            {"question": "ok?", "score": "yes", "output_mode": "json"},
            [(("score",), "not_a_bool"), (("output_mode",), "unknown")],
        ),
        (
            {"question": "ok?", "response_format": dict, "tools": ()},
            [(("response_format",), "set_by_classify"), (("tools",), "set_by_classify")],
        ),
    ],
)
def test_bad_arguments_raise_before_any_io_listing_every_problem(
    kwargs: dict[str, Any], expected: list[Any]
) -> None:
    engine, sent = recording()
    with pytest.raises(allm.ValidationError) as caught:
        allm.classify(engine, "x", **kwargs)
    assert list(caught.value.errors) == expected
    with pytest.raises(allm.ValidationError):
        asyncio.run(allm.aclassify(engine, "x", **kwargs))
    assert sent == []


def test_every_problem_at_once_including_the_input() -> None:
    with pytest.raises(allm.ValidationError) as caught:
        allm.classify(fake(), ["", 7], labels=[1, 1], question=3)
    assert set(caught.value.errors) == {
        (("question",), "not_a_non_empty_string"),
        (("labels", 0), "not_a_string"),
        (("labels", 1), "not_a_string"),
        (("input", 0), "empty"),
        (("input", 1), "not_text_or_image"),
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b"bytes", (("input",), "not_text_message_or_parts")),
        ([], (("input",), "not_text_message_or_parts")),
        ("  ", (("input",), "empty")),
        (allm.system("x"), (("input", "role"), "not_user")),
    ],
)
def test_bad_inputs(value: Any, expected: Any) -> None:
    with pytest.raises(allm.ValidationError) as caught:
        allm.classify(fake(), value, labels=SCORE_LABELS)
    assert list(caught.value.errors) == [expected]


PNG = Image.from_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 16, "image/png")


@pytest.mark.parametrize(
    "value",
    [
        ["What is in this picture?", PNG],
        [allm.TextPart("caption"), allm.ImagePart(PNG)],
        allm.user([allm.TextPart("look"), allm.ImagePart(PNG)]),
        PNG,
    ],
)
def test_images_and_messages_are_inputs(value: Any) -> None:
    engine, sent = recording(answer("cat", {"cat": 1, "dog": 0}))
    assert allm.classify(engine, value, labels=["cat", "dog"]).label == "cat"
    content = sent[0][0].messages[1].content
    assert isinstance(content, tuple)
    assert any(isinstance(part, allm.ImagePart) for part in content)


def test_a_single_text_part_is_sent_as_text() -> None:
    engine, sent = recording(answer("cat", {"cat": 1, "dog": 0}))
    allm.classify(engine, [allm.TextPart("meow")], labels=["cat", "dog"])
    assert sent[0][0].messages[1].content == "meow"


def test_generate_keywords_pass_through() -> None:
    engine, sent = recording(
        [text(answer("a", {"a": 1, "b": 0})), usage(input_tokens=30, output_tokens=9)]
    )
    result = allm.classify(
        engine,
        "x",
        labels=["a", "b"],
        temperature=0,
        max_tokens=50,
        request_id="r-1",
        streaming=False,
    )
    assert result.response is not None
    assert result.response.request_id == "r-1"
    assert result.response.usage.input_tokens == 30
    request = sent[0][0]
    assert request.temperature == 0 and request.max_tokens == 50


def test_output_mode_is_honoured() -> None:
    engine, sent = recording(answer("a", {"a": 1, "b": 0}))
    allm.classify(engine, "x", labels=["a", "b"], output_mode="prompted")
    request = sent[0][0]
    assert request.response_format.mode == "prompted"
    assert [m.role for m in request.messages] == ["system", "system", "user"]
    assert '"enum":["a","b"]' in request.messages[0].content  # the schema, in the prompt


def test_a_classification_is_plain_data() -> None:
    result = allm.classify(
        fake(answer("yes", {"yes": 1, "no": 1}, score=0.5)), "x", question="?", score=True
    )
    assert allm.from_json(allm.to_json(result)) == result
    assert pickle.loads(pickle.dumps(result)) == result
    with pytest.raises(AttributeError):
        result.label = "no"  # type: ignore[misc]


def test_the_span_reports_the_label_and_holds_the_generate_span() -> None:
    seen: list[tuple[str, Any]] = []
    handler = telemetry.attach(lambda name, m, meta: seen.append((name, dict(meta))))
    try:
        allm.classify(fake(answer("ham", {"spam": 0, "ham": 1})), "x", labels=SCORE_LABELS)
    finally:
        telemetry.detach(handler)
    names = [name for name, _ in seen]
    assert names[0] == "allm.classify.start" and names[-1] == "allm.classify.stop"
    assert names.index("allm.generate.start") > 0
    start, stop = seen[0][1], seen[-1][1]
    assert start["labels"] == SCORE_LABELS
    assert stop["label"] == "ham" and stop["classification"].label == "ham"
    generate_start = next(meta for name, meta in seen if name == "allm.generate.start")
    assert generate_start["request_id"] == start["request_id"]


labels_strategy = st.lists(
    st.text(min_size=1, max_size=12).filter(lambda s: s.strip() and s != "score"),
    min_size=2,
    max_size=6,
    unique=True,
)


@settings(max_examples=40, deadline=None)
@given(labels=labels_strategy, data=st.data())
def test_sync_equals_async_over_label_sets(labels: list[str], data: st.DataObject) -> None:
    chosen = data.draw(st.sampled_from(labels))
    confidences = data.draw(st.lists(st.floats(0, 1), min_size=len(labels), max_size=len(labels)))
    body = answer(chosen, dict(zip(labels, confidences, strict=True)))
    sync = allm.classify(fake(body), "input", labels=labels, request_id="same")
    other = asyncio.run(allm.aclassify(fake(body), "input", labels=labels, request_id="same"))
    assert sync.label == other.label == chosen
    assert sync.scores == other.scores
    assert list(sync.scores) == labels
    assert sum(sync.scores.values()) == pytest.approx(1.0)
    assert all(0.0 <= value <= 1.0 for value in sync.scores.values())
    assert sync.response is not None and other.response is not None
    assert sync.response.parsed == other.response.parsed
