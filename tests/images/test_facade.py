"""The image façade: bad input rejected before any I/O, option sorting and precedence, the
catalog pre-flight and costs, adapter resolution, a third-party adapter, telemetry, the public
surface, and serialization of the image types."""

from __future__ import annotations

import inspect
import pickle
import subprocess
import sys
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
from tests.images.support import PNG, ImageDriver, Recorder, TelemetryLog, fake_engine

import allm
from allm import config
from allm.adapters import Call
from allm.data.images import ImageRequest, ImageResponse, ImageUsage
from allm.data.messages import Image, ImagePart
from allm.data.models import ModelRef
from allm.effects import Effect, Sleep
from allm.errors import ConfigurationError, EngineError, ImageAdapterError, ValidationError
from allm.execution.images import IMAGE_INPUT_MAX_BYTES, ImageAdapter, image_request
from allm.providers.fake_images import FakeImages, ok

CAT = ImagePart.from_bytes(PNG, "image/png")
MB = 1024 * 1024


# -- bad input: a clear typed error before any I/O ------------------------------------------------


def _bad_calls(tmp_path: Path) -> dict[str, tuple[Any, Any]]:
    """name -> (call(engine, driver), (path, reason) expected in the ValidationError)."""
    bmp = tmp_path / "scan.bmp"
    bmp.write_bytes(b"BM")
    huge = ImagePart.from_bytes(b"\0" * (30 * MB), "image/png")
    return {
        "empty-prompt": (lambda e, d: d.generate(e, ""), (("prompt",), "required_for_operation")),
        "blank-prompt": (
            lambda e, d: d.generate(e, "   "),
            (("prompt",), "required_for_operation"),
        ),
        "empty-edit-prompt": (
            lambda e, d: d.edit(e, CAT, ""),
            (("prompt",), "required_for_operation"),
        ),
        "mask-without-image": (
            lambda e, d: d.generate(e, "x", mask=CAT),
            (("mask",), "requires_input_image"),
        ),
        "mask-without-edit-image": (
            lambda e, d: d.edit(e, [], "x", mask=CAT),
            (("mask",), "requires_input_image"),
        ),
        "30mb-image": (lambda e, d: d.edit(e, huge, "x"), (("input_images", 0), "image_too_large")),
        "30mb-mask": (lambda e, d: d.edit(e, CAT, "x", mask=huge), (("mask",), "image_too_large")),
        "30mb-variation": (
            lambda e, d: d.variation(e, huge),
            (("input_images", 0), "image_too_large"),
        ),
        "unknown-type": (
            lambda e, d: d.edit(e, ImagePart.from_bytes(b"BM", "image/bmp"), "x"),
            (("input_images", 0), "unsupported_image_format"),
        ),
        "unknown-extension": (
            lambda e, d: d.edit(e, bmp, "x"),
            (("input_images", 0), "missing_mime_type"),
        ),
        "undecodable-base64": (
            lambda e, d: d.variation(e, Image.from_base64("%%%", "image/png")),
            (("input_images", 0), "unresolvable_image"),
        ),
        "not-an-image": (
            lambda e, d: d.edit(e, b"raw bytes", "x"),
            (("input_images", 0), "invalid_type"),
        ),
        "mask-not-an-image": (
            lambda e, d: d.edit(e, CAT, "x", mask=42),
            (("mask",), "invalid_type"),
        ),
        "three-inputs": (
            lambda e, d: d.edit(e, [CAT, CAT, CAT], "x"),
            (("input_images",), "one_or_two_required"),
        ),
        "n-zero": (lambda e, d: d.generate(e, "x", n=0), (("n",), "must_be_positive")),
        "bad-format": (
            lambda e, d: d.generate(e, "x", response_format="jpeg"),
            (("response_format",), "unknown"),
        ),
        "options-not-a-map": (
            lambda e, d: d.generate(e, "x", options=["a"]),
            (("options",), "not_a_map"),
        ),
        "metadata-not-a-map": (
            lambda e, d: d.generate(e, "x", metadata="m"),
            (("metadata",), "not_a_map"),
        ),
        "variation-with-prompt": (
            lambda e, d: d.generate(
                e, ImageRequest(operation="variation", prompt="x", input_images=(CAT.image,))
            ),
            (("prompt",), "forbidden_for_operation"),
        ),
    }


BAD = [
    "empty-prompt", "blank-prompt", "empty-edit-prompt", "mask-without-image", "mask-without-edit-image",
    "30mb-image", "30mb-mask", "30mb-variation", "unknown-type", "unknown-extension",
    "undecodable-base64", "not-an-image", "mask-not-an-image", "three-inputs", "n-zero", "bad-format",
    "options-not-a-map", "metadata-not-a-map", "variation-with-prompt",
]  # fmt: skip


@pytest.mark.parametrize("adapter", ["fake_images", "openai_images"])
@pytest.mark.parametrize("bad", BAD)
def test_bad_input_is_a_validation_error_before_any_io(
    images: ImageDriver, telemetry_log: TelemetryLog, tmp_path: Path, bad: str, adapter: str
) -> None:
    call, expected = _bad_calls(tmp_path)[bad]
    recorder = Recorder((200, {"content-type": "application/json"}, b'{"data": []}'))
    seen: list[Any] = []
    engine = allm.Engine(
        image_adapter=adapter,
        adapter_opts={**recorder.adapter_opts(), "image_record": seen},
    )
    with pytest.raises(ValidationError) as raised:
        call(engine, images)  # no key anywhere: a key lookup would raise EngineError instead
    assert raised.value.reason == "invalid_image_request"
    assert expected in raised.value.errors
    assert recorder.requests == [] and seen == []
    [(_, _, meta)] = telemetry_log.named("allm.image.stop")
    assert meta["error"] is raised.value and meta["image_count"] == 0


def test_every_problem_is_listed_at_once(images: ImageDriver) -> None:
    with pytest.raises(ValidationError) as raised:
        images.edit(fake_engine([]), [], "", mask=42, n=0)
    assert set(raised.value.errors) == {
        (("prompt",), "required_for_operation"),
        (("input_images",), "one_or_two_required"),
        (("mask",), "requires_input_image"),
        (("mask",), "invalid_type"),
        (("n",), "must_be_positive"),
    }


def test_the_input_limit_is_25_mb(images: ImageDriver) -> None:
    assert IMAGE_INPUT_MAX_BYTES == 25 * MB
    at_limit = ImagePart.from_bytes(b"\0" * IMAGE_INPUT_MAX_BYTES, "image/png")
    assert len(images.edit(fake_engine([ok(CAT)]), at_limit, "x").images) == 1
    url = ImagePart.from_url("https://example.com/huge.png")  # a URL's size is unknown: not checked
    assert len(images.edit(fake_engine([ok(CAT)]), url, "x").images) == 1


def test_an_unsupported_operation_is_rejected_before_the_adapter_runs(images: ImageDriver) -> None:
    seen: list[Any] = []
    engine = fake_engine(
        [ok(CAT)],
        image_adapter=FakeImages(operations=["generate"]),
        adapter_opts={"image_record": seen},
    )
    with pytest.raises(ImageAdapterError) as raised:
        images.variation(engine, CAT)
    assert raised.value.reason == "unsupported_operation"
    assert raised.value.metadata == {"operation": "variation"}
    assert seen == []
    assert len(images.generate(engine, "x").images) == 1


# -- options, precedence, adapter options ---------------------------------------------------------


def test_keywords_are_sorted_into_fields_control_transport_and_parameters(
    images: ImageDriver,
) -> None:
    seen: list[tuple[ImageRequest, Call]] = []
    engine = fake_engine(
        [ok(CAT)], adapter_opts={"image_record": seen, "from_engine": 1, "shared": "engine"}
    )
    images.generate(
        engine,
        "a cat",
        model="m",
        n=2,
        size=(64, 32),
        quality="hd",
        style="vivid",
        background="transparent",
        response_format="base64",
        metadata={"m": 1},
        options={"a": 1},
        seed=7,
        stream=True,
        request_id="req-opts",
        api_key="sk-call",
        adapter_opts={"shared": "call"},
        timeout=3,
        telemetry_metadata={"team": "x"},
        retry=False,
    )
    [(request, call)] = seen
    assert request == ImageRequest(
        operation="generate",
        model="m",
        prompt="a cat",
        n=2,
        size=(64, 32),
        quality="hd",
        style="vivid",
        background="transparent",
        response_format="base64",
        options={"a": 1, "seed": 7},
        metadata={"m": 1},
    )
    assert call.request_id == "req-opts"
    assert call.api_key == "sk-call"
    assert call.adapter_opts["shared"] == "call"  # call adapter options win over the engine's
    assert call.adapter_opts["from_engine"] == 1
    assert call.adapter_opts["timeout"] == 3
    assert call.adapter_opts["cursor_key"] == engine.id
    assert call.retry is None  # the façade retries; the adapter makes one attempt
    assert "stream" not in call.adapter_opts and "stream" not in request.options


def test_model_precedence_call_then_request_then_engine(images: ImageDriver) -> None:
    engine = fake_engine([ok(CAT)] * 3, model="engine-model")
    assert images.generate(engine, "x").model == "engine-model"
    assert (
        images.generate(engine, ImageRequest(prompt="x", model="request-model")).model
        == "request-model"
    )
    assert (
        images.generate(
            engine, ImageRequest(prompt="x", model="request-model"), model="call-model"
        ).model
        == "call-model"
    )


def test_a_prebuilt_request_is_dispatched_with_call_overrides(images: ImageDriver) -> None:
    seen: list[Any] = []
    engine = fake_engine([ok(CAT)], adapter_opts={"image_record": seen})
    prebuilt = ImageRequest(
        operation="edit", prompt="p", input_images=(CAT.image,), options={"a": 1}
    )
    images.generate(engine, prebuilt, n=3, extra="e")
    [(request, _)] = seen
    assert request.operation == "edit" and request.n == 3
    assert request.options == {"a": 1, "extra": "e"}


def test_image_request_builds_without_validating(tmp_path: Path) -> None:
    request = image_request("a cat", n=2, size="256x256", style="natural", seed=1)
    assert request == ImageRequest(
        prompt="a cat", n=2, size="256x256", style="natural", options={"seed": 1}
    )
    with pytest.raises(ConfigurationError) as raised:
        image_request("a cat", request_id="r", timeout=3)
    assert raised.value.problems == (
        "'request_id' is a call option, not a request field",
        "'timeout' is a call option, not a request field",
    )
    assert image_request(None, n=0).n == 0  # no validation here
    edit = image_request(
        "x", operation="edit", input_images=[CAT, tmp_path / "a.png", "https://x/y.png"], mask=CAT
    )
    assert [i.source.type for i in edit.input_images] == ["binary", "file", "url"]
    assert edit.mask == CAT.image
    assert allm.image_request is image_request


def test_image_arguments_accept_paths_urls_and_data_uris(
    images: ImageDriver, tmp_path: Path
) -> None:
    path = tmp_path / "cat.png"
    path.write_bytes(PNG)
    seen: list[Any] = []
    engine = fake_engine([ok(CAT)], adapter_opts={"image_record": seen})
    uri = CAT.to_data_uri()
    images.edit(engine, [str(path), uri], "x", mask="https://example.com/mask.png")
    [(request, _)] = seen
    assert request.input_images == (Image.from_file(str(path)), Image.from_data_uri(uri))
    assert request.mask == Image.from_url("https://example.com/mask.png")


@pytest.mark.parametrize(
    ("opts", "words"),
    [
        ({"request_id": ""}, "request_id"),
        ({"adapter_opts": ["x"]}, "adapter_opts must be a mapping"),
        ({"telemetry_metadata": 3}, "telemetry_metadata must be a mapping"),
        ({"retry": {"tries": 2}}, "unknown retry key"),
    ],
)
def test_bad_control_options_are_configuration_errors(
    images: ImageDriver, opts: dict[str, Any], words: str
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        images.generate(fake_engine([ok(CAT)]), "x", **opts)
    assert words in str(raised.value)


def test_engine_and_adapter_problems(images: ImageDriver) -> None:
    with pytest.raises(ConfigurationError):
        images.generate("not an engine", "x")
    with pytest.raises(ConfigurationError) as raised:
        images.generate(allm.Engine(image_adapter="no_such_images"), "x")
    assert "no_such_images" in str(raised.value)
    with pytest.raises(EngineError) as raised_engine:
        images.generate(allm.Engine(image_adapter="fake"), "x")  # a chat adapter
    assert raised_engine.value.reason == "invalid_engine"


# -- a third-party adapter through the protocol ---------------------------------------------------


class Canvas:
    """A minimal image adapter: one Sleep effect, then a response built from the request."""

    name = "canvas"

    def __init__(self, result: Any = None) -> None:
        self.calls: list[Call] = []
        self.result = result

    def supported_operations(self) -> frozenset[str]:
        return frozenset({"generate"})

    def generate(self, request: ImageRequest, call: Call) -> Generator[Effect, Any, ImageResponse]:
        self.calls.append(call)
        return self._plan(request)

    def _plan(self, request: ImageRequest) -> Generator[Effect, Any, ImageResponse]:
        yield Sleep(0)
        if self.result is not None:
            return self.result  # type: ignore[no-any-return]
        return ImageResponse(
            images=(CAT.image,), usage=ImageUsage(images=1, input_tokens=1000, output_tokens=4000)
        )  # type: ignore[arg-type]


def test_a_third_party_adapter_is_completed_by_the_facade(images: ImageDriver) -> None:
    adapter = Canvas()
    assert isinstance(adapter, ImageAdapter)
    engine = allm.Engine(image_adapter=adapter, model="canvas:paint-1")
    response = images.generate(engine, "x", metadata={"k": "v"}, request_id="req-c")
    assert response.images == (CAT,)  # a bare Image is wrapped in an ImagePart
    assert response.request_id == "req-c"  # filled in: the adapter left it empty
    assert response.metadata == {"k": "v"}  # copied from the request
    assert response.model == "paint-1"  # the provider prefix naming the adapter is dropped
    assert adapter.calls[0].request_id == "req-c"


@pytest.mark.parametrize("result", ["not a response", ImageResponse(images=("not an image",))])  # type: ignore[arg-type]
def test_an_adapter_returning_garbage_is_malformed_response(
    images: ImageDriver, result: Any
) -> None:
    with pytest.raises(ImageAdapterError) as raised:
        images.generate(allm.Engine(image_adapter=Canvas(result)), "x")
    assert raised.value.reason == "malformed_response"
    assert raised.value.provider == "canvas"


# -- catalog pre-flight and costs ------------------------------------------------------------------


class Catalog:
    def __init__(self, *refs: ModelRef) -> None:
        self.refs = {(ref.provider, ref.id): ref for ref in refs}

    def lookup(self, provider: str | None, model_id: str) -> ModelRef | None:
        return self.refs.get((provider or "", model_id))


def test_the_catalog_can_refuse_a_model_and_prices_tokens(images: ImageDriver) -> None:
    config.configure(
        catalog=Catalog(
            ModelRef("canvas", "chat-only", capabilities={"image_generation": False}),
            ModelRef("canvas", "paint-1", pricing={"input": 5.0, "output": 40.0}),
        )
    )
    engine = allm.Engine(image_adapter=Canvas())
    with pytest.raises(ValidationError) as raised:
        images.generate(engine, "x", model="chat-only")
    assert raised.value.reason == "unsupported_capability"
    assert raised.value.errors == ((("model",), "image_generation_disabled"),)
    usage = images.generate(engine, "x", model="paint-1").usage
    assert usage.input_cost == pytest.approx(0.005)
    assert usage.output_cost == pytest.approx(0.16)
    assert usage.total_cost == pytest.approx(0.165)
    # A ModelRef given as the model is its own catalog entry.
    ref = ModelRef("canvas", "paint-2", pricing={"input": 1.0})
    usage = images.generate(engine, "x", model=ref).usage
    assert (usage.input_cost, usage.output_cost, usage.total_cost) == (
        pytest.approx(0.001),
        None,
        None,
    )
    assert images.generate(engine, "x", model="unknown").usage.input_cost is None
    # Costs the adapter already reported are kept.
    priced = ImageResponse(
        images=(CAT,),
        usage=ImageUsage(
            images=1,
            input_tokens=1,
            output_tokens=1,
            input_cost=9.0,
            output_cost=1.0,
            total_cost=10.0,
        ),
    )
    usage = images.generate(allm.Engine(image_adapter=Canvas(priced)), "x", model="paint-1").usage
    assert (usage.input_cost, usage.output_cost, usage.total_cost) == (9.0, 1.0, 10.0)


# -- telemetry --------------------------------------------------------------------------------------


def test_the_image_span_reports_start_and_stop(
    images: ImageDriver, telemetry_log: TelemetryLog
) -> None:
    engine = fake_engine([ok(CAT, CAT)], model="fake-1")
    response = images.generate(
        engine,
        "x",
        n=2,
        request_id="req-span",
        telemetry_metadata={"team": "t", "model": "ignored"},
    )
    assert telemetry_log.names == ["allm.image.start", "allm.image.stop"]
    [(_, _, start)] = telemetry_log.named("allm.image.start")
    assert start == {
        "team": "t",
        "request_id": "req-span",
        "engine": engine,
        "model": "fake-1",
        "operation": "generate",
        "n": 2,
    }
    [(_, measurements, stop)] = telemetry_log.named("allm.image.stop")
    assert stop["image_count"] == 2 and stop["usage"] == response.usage and stop["error"] is None
    assert measurements["duration"] >= 0


def test_a_bug_in_an_adapter_is_an_exception_event_not_a_stop(
    images: ImageDriver, telemetry_log: TelemetryLog
) -> None:
    class Broken(Canvas):
        def generate(
            self, request: ImageRequest, call: Call
        ) -> Generator[Effect, Any, ImageResponse]:
            raise KeyError("bug")

    with pytest.raises(KeyError):
        images.generate(allm.Engine(image_adapter=Broken()), "x")
    assert telemetry_log.names == ["allm.image.start", "allm.image.exception"]


# -- the fake images adapter ------------------------------------------------------------------------


def test_fake_images_script_problems_are_listed(images: ImageDriver) -> None:
    with pytest.raises(ConfigurationError) as raised:
        images.generate(
            fake_engine([("ok", "not a list"), ("error", "no_such_reason"), ("bogus",), 42]), "x"
        )
    problems = raised.value.problems
    assert len(problems) == 4
    assert "images must be a list" in problems[0]
    assert "unknown image error reason" in problems[1]


def test_fake_images_runs_out_and_shares_a_cursor_per_engine(images: ImageDriver) -> None:
    engine = fake_engine([ok(CAT)])
    assert len(images.generate(engine, "x").images) == 1
    with pytest.raises(ImageAdapterError) as raised:
        images.generate(engine, "x")
    assert raised.value.reason == "unknown"
    assert raised.value.metadata == {"cause": "no_scripted_image"}
    with pytest.raises(ImageAdapterError) as raised:
        images.generate(allm.Engine(image_adapter=FakeImages()), "x")  # no script at all
    assert raised.value.metadata == {"cause": "no_scripted_image"}


def test_fake_images_pickles_and_resets() -> None:
    fake = FakeImages(operations=["edit"])
    assert repr(fake) == "FakeImages(operations=['edit'])"
    copy = pickle.loads(pickle.dumps(fake))
    assert copy.supported_operations() == frozenset({"edit"})
    fake.reset()
    assert repr(FakeImages()) == "FakeImages()"
    with pytest.raises(ConfigurationError):
        FakeImages(operations=["paint"])


# -- the public surface and Layer A ----------------------------------------------------------------

TWINS = [
    ("generate_image", "agenerate_image"),
    ("edit_image", "aedit_image"),
    ("image_variation", "aimage_variation"),
]


@pytest.mark.parametrize(("sync_name", "async_name"), TWINS)
def test_sync_and_async_twins_have_identical_signatures(sync_name: str, async_name: str) -> None:
    sync_fn, async_fn = getattr(allm, sync_name), getattr(allm, async_name)
    assert inspect.signature(sync_fn).parameters == inspect.signature(async_fn).parameters
    assert inspect.iscoroutinefunction(async_fn) and not inspect.iscoroutinefunction(sync_fn)
    assert sync_name in allm.__all__ and async_name in allm.__all__
    assert allm.__all__ == sorted(allm.__all__)


def test_edit_image_signature_matches_the_api_page() -> None:
    assert list(inspect.signature(allm.edit_image).parameters) == [
        "engine",
        "image",
        "prompt",
        "mask",
        "opts",
    ]
    assert inspect.signature(allm.edit_image).parameters["mask"].default is None


def test_a_sync_fake_image_call_loads_no_io_library() -> None:
    code = (
        "import sys, allm\n"
        "from allm.providers.fake_images import ok, png\n"
        "part = allm.ImagePart.from_bytes(png(), 'image/png')\n"
        "e = allm.Engine(image_adapter='fake_images', adapter_opts={'image_script': [ok(part)]})\n"
        "r = allm.generate_image(e, 'x'); allm.to_json(r)\n"
        "print(len(r.images), sorted(m for m in ('httpx','anyio','asyncio') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    assert out.strip() == "1 []"


def test_image_values_round_trip_through_json_and_pickle(images: ImageDriver) -> None:
    engine = fake_engine(
        [ok(CAT, usage={"images": 1, "input_tokens": 3})], image_adapter="fake_images"
    )
    response = images.generate(engine, "x", metadata={"k": [1, 2]})
    assert allm.from_json(allm.to_json(response)) == response
    assert pickle.loads(pickle.dumps(response)) == response
    request = ImageRequest(
        operation="edit", prompt="p", input_images=(CAT.image,), mask=CAT.image, size=(1, 2)
    )
    assert allm.from_json(allm.to_json(request)) == request
    named = allm.Engine(image_adapter="fake_images", adapter_opts={"image_script": [("ok", [CAT])]})
    restored = allm.from_json(allm.to_json(named))
    assert restored.image_adapter == "fake_images"
    assert restored.adapter_opts == named.adapter_opts  # the tuple form of a script serializes
    assert (
        allm.from_json(allm.to_json(allm.Engine(image_adapter=FakeImages))).image_adapter
        == "fake_images"
    )
