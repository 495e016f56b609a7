"""Vision input end to end: ``ImagePart`` from a file, bytes, a URL or a data URI; MIME detection;
the size and type checks every chat adapter runs before any I/O (design §20); and the wire form
each chat provider documents for an image part (FEATURES 10, 11, 95, 113, 121, 122, 133, 141)."""

from __future__ import annotations

import base64
import json
import pickle
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import Driver
from tests.images.support import PNG, Recorder
from tests.providers.wire import load

import allm
from allm.adapters import Call
from allm.data.messages import Image, ImagePart, ImageSource, Message, Role, TextPart
from allm.errors import AdapterError, EngineError, ValidationError
from allm.providers.anthropic import Anthropic
from allm.providers.gemini import Gemini
from allm.providers.openai import OpenAI

JPEG = b"\xff\xd8\xff\xe0fake-jpeg-bytes"
PNG64 = base64.b64encode(PNG).decode()
JPEG64 = base64.b64encode(JPEG).decode()
URL = "https://example.com/cat.png"
DATA_URI = f"data:image/jpeg;base64,{JPEG64}"
MB = 1024 * 1024

PROVIDERS = {
    "openai_chat": (OpenAI, "gpt-4o-mini", {}),
    "openai_responses": (OpenAI, "gpt-4o-mini", {"endpoint": "responses"}),
    "anthropic": (Anthropic, "claude-sonnet-4-5", {}),
    "gemini": (Gemini, "gemini-2.5-flash", {}),
}


def _call(adapter: Any, **adapter_opts: Any) -> Call:
    return Call(
        request_id="req-vision",
        engine=allm.Engine(adapter=adapter),
        adapter_opts=adapter_opts,
        api_key="sk-test",
    )


def _body(provider: str, parts: list[Any]) -> dict[str, Any]:
    """The JSON body ``provider``'s adapter would send for one user message of ``parts``."""
    cls, model, opts = PROVIDERS[provider]
    adapter = cls()
    request = allm.request([Message(Role.USER, tuple(parts))], model=model)
    prepared = adapter.prepare_request(request, _call(adapter, **opts))
    body: dict[str, Any] = json.loads(prepared.content)
    return body


@pytest.fixture
def pixel(tmp_path: Path) -> Path:
    path = tmp_path / "pixel.PNG"
    path.write_bytes(PNG)
    return path


# -- Layer A: constructors, MIME detection, data URIs ---------------------------------------------


def test_feature_010_from_file_infers_mime_from_the_extension_without_reading(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "never-written.PNG"
    image = Image.from_file(missing)
    assert image.mime_type == "image/png"
    assert image.source == ImageSource("file", str(missing))
    assert not missing.exists()  # nothing was read or created
    assert Image.from_file("photo.JPEG").mime_type == "image/jpeg"
    assert Image.from_file("a.webp").mime_type == "image/webp"
    assert Image.from_file("a.gif").mime_type == "image/gif"
    assert Image.from_file("scan.bmp").mime_type is None
    assert Image.from_file("no-extension").mime_type is None
    assert ImagePart.from_file(missing).mime_type == "image/png"


def test_feature_011_url_sources_have_no_bytes_and_missing_mime_has_no_data_uri() -> None:
    with pytest.raises(ValidationError) as raised:
        Image.from_url(URL).to_binary()
    assert raised.value.errors == ((("source",), "remote_source"),)
    with pytest.raises(ValidationError) as raised:
        Image.from_url(URL).to_data_uri()
    assert raised.value.errors == ((("source",), "remote_source"),)
    with pytest.raises(ValidationError) as raised:
        Image(ImageSource("binary", PNG)).to_data_uri()
    assert raised.value.errors == ((("source",), "missing_mime_type"),)


def test_feature_133_data_uri_round_trips() -> None:
    uri = f"data:image/png;base64,{PNG64}"
    part = ImagePart.from_data_uri(uri)
    assert part.image.source == ImageSource("base64", PNG64)
    assert part.mime_type == "image/png"
    assert part.to_data_uri() == uri
    assert part.image.to_bytes() == PNG
    # A bytes source encodes to the same URI.
    assert ImagePart.from_bytes(PNG, "image/png").to_data_uri() == uri
    with pytest.raises(ValidationError):
        Image.from_data_uri("data:image/png,not-base64")


def test_feature_095_bytes_source_serialises_as_base64_and_bad_base64_fails(pixel: Path) -> None:
    part = ImagePart.from_bytes(PNG, "image/png", detail="high")
    text = allm.to_json(part)
    data = json.loads(text)
    assert data["data"]["image"]["data"]["source"]["data"]["value"] == PNG64
    assert allm.from_json(text) == part
    assert pickle.loads(pickle.dumps(part)) == part
    for value in (
        ImagePart.from_file(pixel),
        ImagePart.from_url(URL),
        ImagePart.from_data_uri(DATA_URI),
    ):
        assert allm.from_json(allm.to_json(value)) == value
    data["data"]["image"]["data"]["source"]["data"]["value"] = "***not base64***"
    with pytest.raises(ValidationError) as raised:
        allm.from_json(json.dumps(data))
    assert (("source",), "invalid_base64") in raised.value.errors


def test_constructors_keep_the_detail_and_never_do_io(tmp_path: Path) -> None:
    assert ImagePart.from_url(URL, detail="low").detail == "low"
    assert ImagePart.from_bytes(PNG, "image/png").image.to_bytes() == PNG
    assert ImagePart.from_file(tmp_path / "absent.png").image.source.type == "file"
    with pytest.raises(FileNotFoundError):
        ImagePart.from_file(tmp_path / "absent.png").image.to_bytes()


# -- the wire form of each chat provider ----------------------------------------------------------


def _sources(pixel: Path) -> list[Any]:
    return [
        TextPart("What is in these pictures?"),
        ImagePart.from_file(pixel),
        ImagePart.from_bytes(PNG, "image/png", detail="low"),
        ImagePart.from_url(URL, detail="high"),
        ImagePart.from_data_uri(DATA_URI),
    ]


def test_feature_113_openai_chat_sends_image_url_blocks_with_data_uris(pixel: Path) -> None:
    body = _body("openai_chat", _sources(pixel))
    assert body["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in these pictures?"},
                {
                    "type": "image_url",
                    "image_url": {"url": f"data:image/png;base64,{PNG64}", "detail": "auto"},
                },
                {
                    "type": "image_url",
                    "image_url": {"url": f"data:image/png;base64,{PNG64}", "detail": "low"},
                },
                {"type": "image_url", "image_url": {"url": URL, "detail": "high"}},
                {"type": "image_url", "image_url": {"url": DATA_URI, "detail": "auto"}},
            ],
        }
    ]


def test_feature_113_openai_responses_sends_input_image_items(pixel: Path) -> None:
    body = _body("openai_responses", _sources(pixel))
    assert body["input"] == [
        {
            "role": "user",
            "content": [
                {"type": "input_text", "text": "What is in these pictures?"},
                {
                    "type": "input_image",
                    "image_url": f"data:image/png;base64,{PNG64}",
                    "detail": "auto",
                },
                {
                    "type": "input_image",
                    "image_url": f"data:image/png;base64,{PNG64}",
                    "detail": "low",
                },
                {"type": "input_image", "image_url": URL, "detail": "high"},
                {"type": "input_image", "image_url": DATA_URI, "detail": "auto"},
            ],
        }
    ]


def test_anthropic_sends_base64_and_url_image_sources_without_detail(pixel: Path) -> None:
    body = _body("anthropic", _sources(pixel))
    assert body["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in these pictures?"},
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": PNG64},
                },
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": PNG64},
                },
                {"type": "image", "source": {"type": "url", "url": URL}},
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/jpeg", "data": JPEG64},
                },
            ],
        }
    ]


def test_gemini_sends_inline_data(pixel: Path) -> None:
    local = [
        part
        for part in _sources(pixel)
        if not (isinstance(part, ImagePart) and part.image.source.type == "url")
    ]
    body = _body("gemini", local)
    assert body["contents"] == [
        {
            "role": "user",
            "parts": [
                {"text": "What is in these pictures?"},
                {"inlineData": {"mimeType": "image/png", "data": PNG64}},
                {"inlineData": {"mimeType": "image/png", "data": PNG64}},
                {"inlineData": {"mimeType": "image/jpeg", "data": JPEG64}},
            ],
        }
    ]


def test_feature_121_gemini_rejects_url_images_before_any_io(driver: Driver) -> None:
    recorder = Recorder((401, {"content-type": "application/json"}, b"{}"))
    engine = allm.Engine(
        adapter="gemini", model="gemini-2.5-flash", adapter_opts=recorder.adapter_opts()
    )
    message = allm.user([TextPart("look"), ImagePart.from_url(URL)])
    with pytest.raises(AdapterError) as raised:
        driver.generate(engine, [message])  # no key anywhere: a key lookup would raise first
    assert raised.value.reason == "unsupported_feature"
    assert raised.value.provider == "gemini"
    assert recorder.requests == []


@pytest.mark.parametrize("case", ["safety_stream"])
def test_feature_121_gemini_maps_safety_to_content_filter(driver: Driver, case: str) -> None:
    fixture = load("gemini", case)
    engine = allm.Engine(
        adapter="gemini",
        model="gemini-2.5-flash",
        adapter_opts={"http_client": fixture.client(), "async_http_client": fixture.async_client()},
    )
    response = driver.generate(engine, [allm.user("tell me")], api_key="test-key")
    assert response.finish_reason == "content_filter"
    assert response.raw_finish_reason == "SAFETY"


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_each_provider_sends_the_prepared_body_end_to_end(
    driver: Driver, provider: str, pixel: Path
) -> None:
    """Through ``allm.generate``: the bytes on the wire carry the documented image form."""
    cls, model, opts = PROVIDERS[provider]
    parts = [TextPart("Describe"), ImagePart.from_file(pixel), ImagePart.from_data_uri(DATA_URI)]
    recorder = Recorder(
        (401, {"content-type": "application/json"}, b'{"error": {"message": "no"}}')
    )
    engine = allm.Engine(
        adapter=cls(), model=model, adapter_opts={**recorder.adapter_opts(), **opts}
    )
    response = driver.generate(engine, [Message(Role.USER, tuple(parts))], api_key="sk-test")
    assert response.finish_reason == "error"  # the 401 is data; the request is what we check
    assert len(recorder.requests) == 1
    sent = json.loads(recorder.requests[0].content)
    expected = _body(provider, parts)
    images_sent = json.dumps(sent)
    assert PNG64 in images_sent and JPEG64 in images_sent
    key = {
        "openai_chat": "messages",
        "openai_responses": "input",
        "anthropic": "messages",
        "gemini": "contents",
    }[provider]
    assert sent[key] == expected[key]


# -- the checks every chat adapter runs before any I/O ---------------------------------------------


def _bad_messages(tmp_path: Path) -> dict[str, tuple[Message, str]]:
    bmp = tmp_path / "scan.bmp"
    bmp.write_bytes(b"BM" + b"\0" * 64)
    return {
        "image-in-system": (
            Message(Role.SYSTEM, (ImagePart.from_bytes(PNG, "image/png"),)),
            "image_in_system_message",
        ),
        "30mb-image": (
            allm.user([ImagePart.from_bytes(b"\0" * (30 * MB), "image/png")]),
            "image_too_large",
        ),
        "30mb-base64": (
            allm.user([ImagePart(Image.from_base64("A" * (40 * MB), "image/png"))]),
            "image_too_large",
        ),
        "unknown-type": (
            allm.user([ImagePart.from_bytes(PNG, "image/bmp")]),
            "unsupported_image_format",
        ),
        "unknown-extension": (allm.user([ImagePart.from_file(bmp)]), "missing_mime_type"),
        "undecodable-base64": (
            allm.user([ImagePart(Image.from_base64("%%%not-base64%%%", "image/png"))]),
            "unresolvable_image",
        ),
        "missing-file": (
            allm.user([ImagePart.from_file(tmp_path / "gone.png")]),
            "unresolvable_image",
        ),
    }


BAD = [
    "image-in-system",
    "30mb-image",
    "30mb-base64",
    "unknown-type",
    "unknown-extension",
    "undecodable-base64",
    "missing-file",
]


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
@pytest.mark.parametrize("bad", BAD)
def test_feature_122_and_141_bad_images_fail_before_any_key_or_io(
    driver: Driver, provider: str, bad: str, tmp_path: Path
) -> None:
    message, reason = _bad_messages(tmp_path)[bad]
    cls, model, opts = PROVIDERS[provider]
    recorder = Recorder((200, {"content-type": "application/json"}, b"{}"))
    engine = allm.Engine(
        adapter=cls(), model=model, adapter_opts={**recorder.adapter_opts(), **opts}
    )
    for streaming in (True, False):
        # No key is configured: resolving one would raise EngineError("missing_key") instead.
        with pytest.raises(ValidationError) as raised:
            driver.generate(engine, [allm.user("hi"), message], streaming=streaming)
        assert raised.value.reason == "invalid_message"
        assert reason in [r for _, r in raised.value.errors], raised.value.errors
        path = next(p for p, r in raised.value.errors if r == reason)
        assert path[:2] == ("messages", 1)
    assert recorder.requests == []


def test_a_good_image_without_a_key_fails_on_the_key_not_the_image(driver: Driver) -> None:
    """The counterpart of the test above: a valid image passes the checks and reaches the key."""
    engine = allm.Engine(adapter=OpenAI(), model="gpt-4o-mini")
    with pytest.raises(EngineError) as raised:
        driver.generate(engine, [allm.user([ImagePart.from_bytes(PNG, "image/png")])])
    assert raised.value.reason == "missing_key"
