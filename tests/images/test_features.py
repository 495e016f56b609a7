"""FEATURES 124-128: the image façade with FakeImages and the OpenAI Images gates."""

from __future__ import annotations

from typing import Any

import pytest
from tests.images.support import ImageDriver, Recorder, TelemetryLog, fake_engine

import allm
from allm.data.images import ImageRequest, ImageUsage
from allm.data.messages import ImagePart
from allm.errors import EngineError, ImageAdapterError
from allm.providers.fake_images import FakeImages, error, ok, png, retry_until_call

CAT = ImagePart.from_bytes(png(3, 3, (200, 100, 50)), "image/png")
DOG = ImagePart.from_bytes(png(3, 3, (50, 100, 200)), "image/png")


def test_feature_124_no_image_adapter_raises_before_anything_else(
    images: ImageDriver, telemetry_log: TelemetryLog
) -> None:
    engine = allm.Engine(adapter="fake", model="dall-e-3")
    # Even an invalid request (empty prompt, a 30 MB image) reports the missing adapter first.
    huge = ImagePart.from_bytes(b"\0" * (30 * 1024 * 1024), "image/png")
    for call in (
        lambda: images.generate(engine, "a cat"),
        lambda: images.generate(engine, ""),
        lambda: images.edit(engine, huge, "x"),
    ):
        with pytest.raises(EngineError) as raised:
            call()
        assert raised.value.reason == "no_image_adapter"
    stops = telemetry_log.named("allm.image.stop")
    assert len(stops) == 3
    assert all(meta["error"].reason == "no_image_adapter" for _, _, meta in stops)


def test_feature_125_fake_images_returns_the_script_with_default_usage(images: ImageDriver) -> None:
    engine = fake_engine([("ok", [CAT, DOG.image])])
    response = images.generate(engine, "two pets", request_id="req-125", model="fake-model")
    assert [part.image.source for part in response.images] == [CAT.image.source, DOG.image.source]
    assert all(isinstance(part, ImagePart) for part in response.images)
    assert response.usage == ImageUsage(images=2)
    assert response.request_id == "req-125"
    assert response.model == "fake-model"
    assert [part.image.prompt for part in response.images] == ["two pets", "two pets"]


def test_feature_125_scripted_usage_and_fields_win(images: ImageDriver) -> None:
    usage = ImageUsage(images=1, input_tokens=10, output_tokens=20)
    engine = fake_engine([("ok", [CAT], {"usage": usage, "id": "img_1", "metadata": {"x": 1}})])
    response = images.generate(engine, "a cat", metadata={"trace": "t"})
    assert response.usage == usage
    assert response.id == "img_1"
    assert response.metadata == {"trace": "t", "x": 1}
    assert len(response.request_id or "") == 22  # a fresh id when none is given


@pytest.mark.parametrize(
    "reason", ["rate_limited", "provider_unavailable", "timeout", "network_error"]
)
def test_feature_126_retryable_image_errors_are_retried(
    images: ImageDriver, telemetry_log: TelemetryLog, reason: str
) -> None:
    engine = fake_engine([error(reason), error(reason), ok(CAT)])
    response = images.generate(engine, "a cat", request_id="req-126")
    assert len(response.images) == 1
    retries = telemetry_log.named("allm.adapter.retry")
    assert [meta["attempt"] for _, _, meta in retries] == [1, 2]
    assert all(
        meta["reason"] == reason and meta["request_id"] == "req-126" for _, _, meta in retries
    )
    [(_, measurements, meta)] = telemetry_log.named("allm.image.stop")
    assert meta["image_count"] == 1
    assert meta["error"] is None
    assert meta["response"] is response
    assert "duration" in measurements


def test_feature_126_stop_reports_zero_images_on_error(
    images: ImageDriver, telemetry_log: TelemetryLog
) -> None:
    engine = fake_engine(
        [error("rate_limited")] * 3, retry={"max_attempts": 3, "base_delay_ms": 0, "jitter_ms": 0}
    )
    with pytest.raises(ImageAdapterError) as raised:
        images.generate(engine, "a cat")
    assert raised.value.reason == "rate_limited"
    assert len(telemetry_log.named("allm.adapter.retry")) == 2  # three attempts in all
    [(_, _, meta)] = telemetry_log.named("allm.image.stop")
    assert meta["image_count"] == 0
    assert meta["error"] is raised.value
    assert meta["response"] is None
    assert telemetry_log.named("allm.image.exception") == []
    [(_, _, start)] = telemetry_log.named("allm.image.start")
    assert start["operation"] == "generate" and start["n"] == 1


def test_feature_126_non_retryable_errors_are_raised_at_once(
    images: ImageDriver, telemetry_log: TelemetryLog
) -> None:
    engine = fake_engine([error("content_filter"), ok(CAT)])
    with pytest.raises(ImageAdapterError) as raised:
        images.generate(engine, "a cat")
    assert raised.value.reason == "content_filter"
    assert telemetry_log.named("allm.adapter.retry") == []


def test_feature_126_retry_until_call_is_served_after_the_retries(
    images: ImageDriver, telemetry_log: TelemetryLog
) -> None:
    engine = fake_engine([retry_until_call(3), ok(DOG)])
    response = images.generate(engine, "a dog")
    assert [part.image.source for part in response.images] == [DOG.image.source]
    retries = telemetry_log.named("allm.adapter.retry")
    assert [meta["reason"] for _, _, meta in retries] == ["rate_limited", "rate_limited"]


def test_feature_127_edit_image_builds_an_edit_with_one_image_and_the_mask(
    images: ImageDriver,
) -> None:
    seen: list[tuple[ImageRequest, Any]] = []
    mask = ImagePart.from_bytes(png(3, 3, (0, 0, 0)), "image/png")
    engine = fake_engine([ok(DOG)], adapter_opts={"image_record": seen})
    response = images.edit(engine, CAT, "make it a dog", mask=mask, size=(512, 512))
    [(request, call)] = seen
    assert request.operation == "edit"
    assert request.prompt == "make it a dog"
    assert request.input_images == (CAT.image,)
    assert request.mask == mask.image
    assert request.size == (512, 512)
    assert call.request_id == response.request_id
    # A list gives input images as they are: the second is not promoted to a mask.
    seen.clear()
    engine = fake_engine([ok(DOG)], adapter_opts={"image_record": seen})
    images.edit(engine, [CAT, DOG], "merge")
    [(request, _)] = seen
    assert request.input_images == (CAT.image, DOG.image)
    assert request.mask is None


@pytest.mark.parametrize(
    ("model", "operation", "fields", "reason"),
    [
        ("dall-e-3", "edit", {}, "unsupported_operation"),
        ("dall-e-3", "variation", {}, "unsupported_operation"),
        ("gpt-image-1", "variation", {}, "unsupported_operation"),
        ("gpt-image-1", "generate", {"response_format": "url"}, "invalid_request"),
        ("gpt-image-1", "edit", {"response_format": "url"}, "invalid_request"),
    ],
)
def test_feature_128_openai_images_gates_run_before_the_key(
    images: ImageDriver, model: str, operation: str, fields: dict[str, Any], reason: str
) -> None:
    recorder = Recorder((200, {"content-type": "application/json"}, b'{"data": []}'))
    engine = recorder.engine()  # no key configured anywhere: resolving one would raise
    call = {
        "generate": lambda: images.generate(engine, "a cat", model=model, **fields),
        "edit": lambda: images.edit(engine, CAT, "a dog", model=model, **fields),
        "variation": lambda: images.variation(engine, CAT, model=model, **fields),
    }[operation]
    with pytest.raises(ImageAdapterError) as raised:
        call()
    assert raised.value.reason == reason
    assert raised.value.metadata["model"] == model
    if reason == "unsupported_operation":
        assert raised.value.metadata["operation"] == operation
    assert recorder.requests == []


def test_feature_128_an_allowed_operation_does_reach_the_key(images: ImageDriver) -> None:
    engine = Recorder((200, {"content-type": "application/json"}, b'{"data": []}')).engine()
    with pytest.raises(EngineError) as raised:
        images.edit(engine, CAT, "a dog", model="gpt-image-1")
    assert raised.value.reason == "missing_key"


def test_fake_images_resolves_from_a_name_a_class_and_an_instance(images: ImageDriver) -> None:
    for adapter in ("fake_images", FakeImages, FakeImages()):
        engine = allm.Engine(image_adapter=adapter, adapter_opts={"image_script": [ok(CAT)]})
        assert len(images.generate(engine, "a cat").images) == 1
