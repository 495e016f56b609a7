"""OpenAI Images transcripts (tests/fixtures/wire/openai-images): what the adapter sends, JSON or
multipart byte for byte in meaning, and the ``ImageResponse`` it makes of the recorded answer.
Every case runs through the sync and the async API."""

from __future__ import annotations

import base64
import email.parser
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.images.support import ImageDriver, TelemetryLog

import allm
from allm.data.messages import ImagePart
from allm.errors import ImageAdapterError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "wire" / "openai-images"
SUCCESS = [
    "generate_b64_gpt_image",
    "generate_url_dalle3",
    "edit_mask_dalle2",
    "edit_two_images_gpt_image",
]


class Transcript:
    """One recorded exchange, served by a MockTransport that keeps what was sent."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.request = json.loads((FIXTURES / f"{name}.request.json").read_text())
        self.body = (FIXTURES / f"{name}.response").read_bytes()
        self.expect = json.loads((FIXTURES / f"{name}.expect.json").read_text())
        self.sent: list[httpx.Request] = []

    def _answer(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        http = self.expect["http"]
        return httpx.Response(http["status"], headers=http["headers"], content=self.body)

    def engine(self, **fields: Any) -> allm.Engine:
        def sync(request: httpx.Request) -> httpx.Response:
            request.read()
            return self._answer(request)

        async def handler(request: httpx.Request) -> httpx.Response:
            await request.aread()
            return self._answer(request)

        opts = {
            "http_client": httpx.Client(transport=httpx.MockTransport(sync)),
            "async_http_client": httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        }
        return allm.Engine(image_adapter="openai_images", adapter_opts=opts, **fields)

    def call(self, images: ImageDriver, engine: allm.Engine, **extra: Any) -> allm.ImageResponse:
        """The allm call whose wire request is this transcript's request."""
        if "body" in self.request:
            fields = dict(self.request["body"])
            files: list[dict[str, Any]] = []
        else:
            fields = dict(self.request["multipart"]["fields"])
            files = self.request["multipart"]["files"]
        prompt = fields.pop("prompt")
        opts: dict[str, Any] = {"n": int(fields.pop("n", 1))}
        if fields.pop("response_format", None) == "url":
            opts["response_format"] = "url"
        opts.update(fields)  # model, size, quality, style, background, output_format (a parameter)
        opts.update(extra)
        parts = [
            ImagePart.from_bytes(base64.b64decode(f["data_base64"]), f["content_type"])
            for f in files
        ]
        if not parts:
            return images.generate(engine, prompt, api_key="sk-test", **opts)
        masks = [p for p, f in zip(parts, files, strict=True) if f["name"] == "mask"]
        inputs = [p for p, f in zip(parts, files, strict=True) if f["name"] != "mask"]
        image: Any = inputs[0] if len(inputs) == 1 else inputs
        return images.edit(
            engine, image, prompt, mask=masks[0] if masks else None, api_key="sk-test", **opts
        )


def multipart_parts(request: httpx.Request) -> Iterator[tuple[str, str | None, str | None, bytes]]:
    """``(name, filename, content type, payload)`` of each part, parsed by the stdlib."""
    content_type = request.headers["content-type"]
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser().parsebytes(head + request.content)
    assert message.is_multipart()
    for part in message.get_payload():  # type: ignore[union-attr]
        disposition = part.get("content-disposition", "")
        assert disposition.startswith("form-data")
        payload = part.get_payload(decode=True)
        yield (
            part.get_param("name", header="content-disposition"),
            part.get_param("filename", header="content-disposition"),
            part.get("content-type") if part.get_filename() else None,
            payload,
        )


@pytest.mark.parametrize("name", SUCCESS)
def test_the_request_matches_the_transcript(images: ImageDriver, name: str) -> None:
    transcript = Transcript(name)
    images_call = transcript.call(images, transcript.engine())
    assert images_call is not None
    [sent] = transcript.sent
    wanted = transcript.request
    assert sent.method == wanted["method"]
    assert str(sent.url) == wanted["url"]
    assert sent.headers["authorization"] == "Bearer sk-test"
    if "body" in wanted:
        assert sent.headers["content-type"] == "application/json"
        body = json.loads(sent.content)
        assert body == wanted["body"]
        for absent in wanted["absent"]:
            assert absent not in body
        return
    content_type = sent.headers["content-type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    boundary = content_type.split("boundary=", 1)[1]
    assert sent.content.endswith(f"--{boundary}--\r\n".encode())
    parts = list(multipart_parts(sent))
    fields = {name: payload.decode() for name, filename, _, payload in parts if filename is None}
    assert fields == wanted["multipart"]["fields"]
    files = [
        (name, ctype, payload) for name, filename, ctype, payload in parts if filename is not None
    ]
    assert files == [
        (f["name"], f["content_type"], base64.b64decode(f["data_base64"]))
        for f in wanted["multipart"]["files"]
    ]
    # Scalar fields come first, then the image parts, then the mask (the SDK's order).
    names = [name for name, *_ in parts]
    assert names[: len(fields)] == list(wanted["multipart"]["fields"])


@pytest.mark.parametrize("name", SUCCESS)
def test_the_response_is_read_into_image_parts(images: ImageDriver, name: str) -> None:
    transcript = Transcript(name)
    response = transcript.call(
        images, transcript.engine(), request_id="req-local", metadata={"job": 7}
    )
    expect = transcript.expect
    assert response.request_id == "req-local"
    assert response.model == expect["model"]
    assert response.metadata["openai_request_id"] == expect["request_id"]
    assert response.metadata["job"] == 7
    assert response.raw == json.loads(transcript.body)
    assert len(response.images) == len(expect["images"])
    for part, wanted in zip(response.images, expect["images"], strict=True):
        assert isinstance(part, ImagePart)
        image = part.image
        assert image.mime_type == wanted["mime_type"]
        assert (image.width, image.height) == (wanted["width"], wanted["height"])
        assert image.revised_prompt == wanted["revised_prompt"]
        if wanted["url"] is not None:
            assert image.source.type == "url"
            assert image.source.value == wanted["url"]
        else:
            assert image.source.type == "binary"
            assert hashlib.sha256(image.to_bytes()).hexdigest() == wanted["sha256"]
    usage = response.usage
    got = {key: getattr(usage, key) for key in expect["usage"]}
    assert got == expect["usage"]


def test_base64_results_are_kept_verbatim(images: ImageDriver) -> None:
    transcript = Transcript("generate_b64_gpt_image")
    response = transcript.call(images, transcript.engine(), response_format="base64")
    [part] = response.images
    recorded = json.loads(transcript.body)["data"][0]["b64_json"]
    assert part.image.source.type == "base64"
    assert part.image.source.value == recorded
    assert part.to_data_uri() == f"data:image/png;base64,{recorded}"
    # GPT image models are never asked for a response_format, whichever form is wanted.
    assert "response_format" not in json.loads(transcript.sent[0].content)


def test_a_refused_prompt_is_content_filter_and_not_retried(
    images: ImageDriver, telemetry_log: TelemetryLog
) -> None:
    transcript = Transcript("error_400_content_policy")
    engine = transcript.engine(retry={"base_delay_ms": 0, "jitter_ms": 0})
    with pytest.raises(ImageAdapterError) as raised:
        images.generate(engine, "refused", model="dall-e-3", api_key="sk-test")
    wanted = transcript.expect["error"]
    assert raised.value.reason == wanted["reason"]
    assert raised.value.status == wanted["status"]
    assert raised.value.metadata["openai_code"] == wanted["openai_code"]
    assert (
        raised.value.metadata["openai_request_id"]
        == transcript.expect["http"]["headers"]["x-request-id"]
    )
    assert "safety system" in raised.value.message
    assert len(transcript.sent) == 1
    [(_, _, meta)] = telemetry_log.named("allm.image.stop")
    assert meta["image_count"] == 0 and meta["error"] is raised.value


def test_a_rate_limit_carries_retry_after(images: ImageDriver) -> None:
    transcript = Transcript("error_429_rate_limit")
    with pytest.raises(ImageAdapterError) as raised:
        images.generate(
            transcript.engine(retry=False), "a lighthouse", model="dall-e-2", api_key="sk-test"
        )
    wanted = transcript.expect["error"]
    assert raised.value.reason == "rate_limited"
    assert raised.value.retry_after_ms == wanted["retry_after_ms"]
    assert raised.value.metadata["openai_code"] == wanted["openai_code"]
    assert len(transcript.sent) == 1
