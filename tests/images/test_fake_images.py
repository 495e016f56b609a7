"""FakeImages (design §19): the script grammar, builders, cursors, recording, and ``png()``."""

from __future__ import annotations

import struct
import zlib
from typing import Any

import pytest
from tests.images.support import ImageDriver, TelemetryLog, fake_engine

import allm
from allm.adapters import Call
from allm.data.images import ImageRequest, ImageUsage
from allm.data.messages import ImagePart
from allm.errors import ConfigurationError, ImageAdapterError
from allm.providers.fake_images import (
    FakeImages,
    ImageError,
    ImageOk,
    RetryUntilCall,
    ScriptCursor,
    error,
    ok,
    parse_image_script,
    png,
    retry_until_call,
)

CAT = ImagePart.from_bytes(png(2, 2, (1, 2, 3)), "image/png")


def test_tuple_entries_and_builders_are_the_same() -> None:
    error_value = ImageAdapterError("timeout", provider="fake")
    entries = parse_image_script(
        [
            ("ok", [CAT]),
            ("ok", [CAT.image], {"usage": {"images": 1, "input_tokens": 2}, "model": "m"}),
            ("error", "rate_limited", {"retry_after_ms": 5, "status": 429}),
            ("error", error_value),
            ("retry_until_call", 2),
        ]
    )
    assert entries == (
        ok(CAT),
        ok(CAT, usage=ImageUsage(images=1, input_tokens=2), model="m"),
        error("rate_limited", retry_after_ms=5, status=429),
        error(error_value),
        retry_until_call(2),
    )
    assert isinstance(entries[0], ImageOk) and isinstance(entries[2], ImageError)
    assert isinstance(entries[4], RetryUntilCall)
    assert entries[2].error.retry_after_ms == 5  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (lambda: ok("not an image"), "must be an ImagePart or an Image"),
        (lambda: ok(CAT, usage={"pixels": 1}), "usage has unknown field"),
        (lambda: ok(CAT, usage=3), "usage must be an ImageUsage or a mapping"),
        (lambda: ok(CAT, colour="red"), "unknown field"),
        (lambda: error("melted"), "unknown image error reason"),
        (lambda: error("timeout", colour="red"), "unknown error field"),
        (lambda: error(ImageAdapterError("timeout"), status=1), "either an ImageAdapterError"),
        (lambda: retry_until_call(0), "positive int"),
        (lambda: retry_until_call(True), "positive int"),
        (lambda: parse_image_script("ok"), "must be a list"),
        (lambda: parse_image_script([("ok", [CAT], "x")]), "must be a mapping"),
        (lambda: parse_image_script([("error", "timeout", "x")]), "must be a mapping"),
        (lambda: parse_image_script([("retry_until_call",)]), "unknown or malformed"),
        (lambda: parse_image_script([()]), "not an image script entry"),
    ],
)
def test_bad_entries_are_configuration_errors(build: Any, words: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        build()
    assert raised.value.reason == "invalid_script"
    assert any(words in problem for problem in raised.value.problems), raised.value.problems


def test_scripted_errors_keep_their_fields(images: ImageDriver) -> None:
    engine = fake_engine(
        [("error", "invalid_request", {"message": "bad size", "metadata": {"f": 1}})]
    )
    with pytest.raises(ImageAdapterError) as raised:
        images.generate(engine, "x")
    assert (raised.value.reason, raised.value.message, raised.value.metadata) == (
        "invalid_request",
        "bad size",
        {"f": 1},
    )
    assert raised.value.provider == "fake"


def test_two_retry_entries_in_a_row_count_separately(
    images: ImageDriver, telemetry_log: TelemetryLog
) -> None:
    engine = fake_engine(
        [retry_until_call(2), retry_until_call(2), ok(CAT)],
        retry={"max_attempts": 5, "base_delay_ms": 0, "jitter_ms": 0},
    )
    assert len(images.generate(engine, "x").images) == 1
    assert len(telemetry_log.named("allm.adapter.retry")) == 2


def test_a_retry_entry_at_the_end_of_the_script_runs_out(images: ImageDriver) -> None:
    engine = fake_engine(
        [retry_until_call(2)], retry={"max_attempts": 5, "base_delay_ms": 0, "jitter_ms": 0}
    )
    with pytest.raises(ImageAdapterError) as raised:
        images.generate(engine, "x")
    assert raised.value.metadata == {"cause": "no_scripted_image"}


def test_a_retry_entry_without_a_retry_policy_fails_the_call(images: ImageDriver) -> None:
    engine = fake_engine([retry_until_call(2), ok(CAT)], retry=False)
    with pytest.raises(ImageAdapterError) as raised:
        images.generate(engine, "x")
    assert (raised.value.reason, raised.value.retry_after_ms, raised.value.status) == (
        "rate_limited",
        0,
        429,
    )
    assert len(images.generate(engine, "x").images) == 1  # the next call is served


def test_an_explicit_cursor_is_shared_between_engines(images: ImageDriver) -> None:
    cursor = ScriptCursor()
    script = [ok(CAT), ok(CAT, CAT)]
    first = fake_engine(script, adapter_opts={"image_script_cursor": cursor})
    second = fake_engine(script, adapter_opts={"image_script_cursor": cursor})
    assert len(images.generate(first, "x").images) == 1
    assert len(images.generate(second, "x").images) == 2
    assert cursor.position == 2
    with pytest.raises(ConfigurationError):
        images.generate(fake_engine(script, adapter_opts={"image_script_cursor": "nope"}), "x")


def test_image_record_takes_a_callable_or_a_list(images: ImageDriver) -> None:
    calls: list[Any] = []
    engine = fake_engine(
        [ok(CAT)], adapter_opts={"image_record": lambda request, call: calls.append(request.prompt)}
    )
    images.generate(engine, "recorded")
    assert calls == ["recorded"]
    with pytest.raises(ConfigurationError):
        images.generate(fake_engine([ok(CAT)], adapter_opts={"image_record": 3}), "x")


def test_the_adapter_rejects_an_operation_before_reading_the_script() -> None:
    fake = FakeImages(operations=["edit"])
    call = Call(
        request_id="r",
        engine=allm.Engine(image_adapter=fake),
        adapter_opts={"image_script": "garbage"},
    )
    with pytest.raises(ImageAdapterError) as raised:
        fake.generate(ImageRequest(prompt="x"), call)
    assert raised.value.reason == "unsupported_operation"
    with pytest.raises(ConfigurationError):  # a supported operation does read (and check) it
        fake.generate(ImageRequest(operation="edit", prompt="x", input_images=(CAT.image,)), call)


def test_a_prompt_already_on_an_image_is_kept(images: ImageDriver) -> None:
    own = ImagePart(CAT.image.__class__(CAT.image.source, "image/png", prompt="original"))
    response = images.generate(fake_engine([ok(own)]), "new prompt")
    assert response.images[0].image.prompt == "original"
    variation = images.variation(fake_engine([ok(CAT)]), CAT)
    assert variation.images[0].image.prompt is None  # a variation has no prompt


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    found, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        found.append((kind, body))
        offset += 12 + length
    return found


def test_png_is_a_valid_solid_image() -> None:
    data = png(3, 2, (10, 20, 30))
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    chunks = _chunks(data)
    assert [kind for kind, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    width, height, depth, colour, *_ = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (width, height, depth, colour) == (3, 2, 8, 2)
    pixels = zlib.decompress(chunks[1][1])
    assert pixels == (b"\x00" + bytes((10, 20, 30)) * 3) * 2
    with pytest.raises(ValueError):
        png(0, 1)
