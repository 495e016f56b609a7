"""OpenAIImages beyond the transcripts: per-model rules, variations, URL inputs downloaded by the
plan, error classification, retries, malformed answers, headers and settings, ``prepare_request``
and the ``image_script`` hook."""

from __future__ import annotations

import base64
import email.parser
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from tests.images.support import ImageDriver, Recorder, TelemetryLog

import allm
from allm.adapters import Call
from allm.data.images import ImageRequest
from allm.data.messages import Image, ImagePart
from allm.errors import EngineError, ImageAdapterError, ImageTimeoutError, ValidationError
from allm.providers.fake_images import ok, png
from allm.providers.openai_images import (
    DOWNLOAD_MAX_BYTES,
    OpenAIImages,
    Upload,
    classify_error,
    encode_multipart,
    model_rule,
)

JSON = {"content-type": "application/json"}
PICTURE = png(4, 4)
B64 = base64.b64encode(PICTURE).decode()
OK_BODY = json.dumps({"created": 1, "data": [{"b64_json": B64}]}).encode()
CAT = ImagePart.from_bytes(PICTURE, "image/png")
MB = 1024 * 1024


def ok_answer(**headers: str) -> tuple[int, dict[str, str], bytes]:
    return (200, {**JSON, **headers}, OK_BODY)


def error_answer(status: int, error: Any, **headers: str) -> tuple[int, dict[str, str], bytes]:
    return (status, {**JSON, **headers}, json.dumps({"error": error}).encode())


def parts_of(request: httpx.Request) -> list[tuple[str, str | None, bytes]]:
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = email.parser.BytesParser().parsebytes(head + request.content)
    return [
        (
            part.get_param("name", header="content-disposition"),
            part.get_filename(),
            part.get_payload(decode=True),
        )
        for part in message.get_payload()  # type: ignore[union-attr]
    ]


# -- per-model rules ------------------------------------------------------------------------------


def test_model_rules_cover_the_families() -> None:
    assert model_rule("dall-e-2").family == "dall-e-2"  # type: ignore[union-attr]
    assert model_rule("dall-e-3").family == "dall-e-3"  # type: ignore[union-attr]
    for name in ("gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5", "chatgpt-image-latest"):
        assert model_rule(name).family == "gpt-image"  # type: ignore[union-attr]
    assert model_rule("some-new-model") is None
    assert model_rule(None) is None


@pytest.mark.parametrize(
    ("model", "build", "field"),
    [
        ("dall-e-3", lambda e, d: d.generate(e, "x", model="dall-e-3", n=2), "n"),
        ("dall-e-2", lambda e, d: d.generate(e, "x", model="dall-e-2", n=11), "n"),
        (
            "dall-e-2",
            lambda e, d: d.edit(
                e, ImagePart.from_bytes(b"\xff\xd8jpg", "image/jpeg"), "x", model="dall-e-2"
            ),
            ["input_images", 0],
        ),
        (
            "dall-e-2",
            lambda e, d: d.variation(
                e, ImagePart.from_bytes(b"\0" * (5 * MB), "image/png"), model="dall-e-2"
            ),
            ["input_images", 0],
        ),
        ("dall-e-2", lambda e, d: d.edit(e, [CAT, CAT], "x", model="dall-e-2"), "input_images"),
        (
            "gpt-image-1",
            lambda e, d: d.edit(
                e, ImagePart.from_bytes(b"GIF89a", "image/gif"), "x", model="gpt-image-1"
            ),
            ["input_images", 0],
        ),
        (
            "gpt-image-1",
            lambda e, d: d.edit(
                e,
                CAT,
                "x",
                mask=ImagePart.from_bytes(b"\xff\xd8", "image/jpeg"),
                model="gpt-image-1",
            ),
            ["mask"],
        ),
    ],
)
def test_model_specific_limits_fail_before_the_key(
    images: ImageDriver, model: str, build: Any, field: Any
) -> None:
    recorder = Recorder(ok_answer())
    with pytest.raises(ImageAdapterError) as raised:
        build(recorder.engine(), images)
    assert raised.value.reason == "invalid_request"
    assert raised.value.metadata["model"] == model
    assert raised.value.metadata["field"] == field
    assert recorder.requests == []


def test_gpt_image_takes_at_most_sixteen_inputs() -> None:
    request = ImageRequest(
        operation="edit", model="gpt-image-1", prompt="x", input_images=(CAT.image,) * 17
    )
    call = Call(request_id="r", engine=allm.Engine(image_adapter="openai_images"))
    with pytest.raises(ImageAdapterError) as raised:
        OpenAIImages().check(request, call)
    assert raised.value.metadata["field"] == "input_images"
    with pytest.raises(ImageAdapterError) as raised:
        OpenAIImages().check(ImageRequest(operation="other", prompt="x"), call)  # type: ignore[arg-type]
    assert raised.value.reason == "unsupported_operation"


def test_an_unknown_model_falls_through_to_the_api(images: ImageDriver) -> None:
    recorder = Recorder((200, JSON, json.dumps({"data": [{"url": "https://img/x.png"}]}).encode()))
    response = images.generate(
        recorder.engine(), "x", model="acme-paint-2", response_format="url", n=12, api_key="k"
    )
    assert response.images[0].image.source.value == "https://img/x.png"
    body = json.loads(recorder.requests[0].content)
    assert body == {"model": "acme-paint-2", "prompt": "x", "n": 12, "response_format": "url"}


def test_without_a_model_no_model_field_is_sent(images: ImageDriver) -> None:
    recorder = Recorder(ok_answer())
    response = images.generate(recorder.engine(), "x", api_key="k")
    assert json.loads(recorder.requests[0].content) == {
        "prompt": "x",
        "n": 1,
        "response_format": "b64_json",
    }
    assert response.model is None
    assert response.images[0].image.to_bytes() == PICTURE


def test_a_provider_prefixed_model_is_sent_without_the_prefix(images: ImageDriver) -> None:
    recorder = Recorder(ok_answer())
    response = images.generate(recorder.engine(model="openai:dall-e-3"), "x", api_key="k")
    assert json.loads(recorder.requests[0].content)["model"] == "dall-e-3"
    assert response.model == "dall-e-3"


# -- variations and multipart ---------------------------------------------------------------------


def test_a_variation_uploads_one_image_without_a_prompt(images: ImageDriver) -> None:
    recorder = Recorder(ok_answer())
    response = images.variation(
        recorder.engine(), CAT, model="dall-e-2", n=2, size=(256, 256), api_key="k"
    )
    [sent] = recorder.requests
    assert str(sent.url) == "https://api.openai.com/v1/images/variations"
    assert parts_of(sent) == [
        ("model", None, b"dall-e-2"),
        ("n", None, b"2"),
        ("size", None, b"256x256"),
        ("response_format", None, b"b64_json"),
        ("image", "image_0.png", PICTURE),
    ]
    assert response.images[0].image.width == 256
    assert response.images[0].image.prompt is None


def test_encode_multipart_quotes_names_and_renders_values() -> None:
    body = encode_multipart(
        [("flag", True), ("off", False), ("ratio", 0.5), ("extra", {"a": [1]}), ('we"ird\n', "v")],
        [Upload("file", 'a"b.png', "image/png", b"\x00\x01")],
        "B",
    )
    text = body.decode("latin-1")
    assert 'name="flag"\r\n\r\ntrue\r\n' in text
    assert 'name="off"\r\n\r\nfalse\r\n' in text
    assert 'name="ratio"\r\n\r\n0.5\r\n' in text
    assert 'name="extra"\r\n\r\n{"a":[1]}\r\n' in text
    assert 'name="we%22ird%0A"' in text
    assert 'filename="a%22b.png"\r\nContent-Type: image/png\r\n\r\n\x00\x01\r\n' in text
    assert text.startswith("--B\r\n") and text.endswith("--B--\r\n")


def test_options_and_unknown_keywords_reach_the_body(images: ImageDriver) -> None:
    recorder = Recorder(ok_answer())
    images.generate(
        recorder.engine(),
        "x",
        model="gpt-image-1",
        options={"moderation": "low"},
        output_compression=50,
        user="u-1",
        api_key="k",
    )
    body = json.loads(recorder.requests[0].content)
    assert body == {
        "model": "gpt-image-1",
        "prompt": "x",
        "n": 1,
        "moderation": "low",
        "output_compression": 50,
        "user": "u-1",
    }


# -- URL inputs are downloaded by the plan --------------------------------------------------------


class Web:
    """Answers GETs from a table of URLs and POSTs with an image result; records everything."""

    def __init__(self, pages: dict[str, Any]) -> None:
        self.pages = pages
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request, is_async: bool = False) -> httpx.Response:
        request.read()
        self.requests.append(request)
        if request.method == "POST":
            return httpx.Response(200, headers=JSON, content=OK_BODY)
        page = self.pages[str(request.url)]
        if isinstance(page, Exception):
            raise page
        status, headers, content = page
        if callable(content):  # a streamed body without a content-length, read lazily
            chunks = content()
            if is_async:

                async def agen() -> AsyncIterator[bytes]:
                    for chunk in chunks:
                        yield chunk

                return httpx.Response(status, headers=headers, content=agen())
            return httpx.Response(status, headers=headers, content=chunks)
        return httpx.Response(status, headers=headers, content=content)

    def engine(self) -> allm.Engine:
        async def handler(request: httpx.Request) -> httpx.Response:
            await request.aread()
            return self(request, is_async=True)

        return allm.Engine(
            image_adapter="openai_images",
            retry=False,
            adapter_opts={
                "http_client": httpx.Client(transport=httpx.MockTransport(self)),
                "async_http_client": httpx.AsyncClient(transport=httpx.MockTransport(handler)),
            },
        )


def _stream(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def test_url_inputs_are_downloaded_following_redirects(images: ImageDriver) -> None:
    web = Web(
        {
            "https://cdn.test/cat": (302, {"location": "/real/cat.png"}, b""),
            "https://cdn.test/real/cat.png": (
                200,
                {"content-type": "image/png; charset=binary"},
                PICTURE,
            ),
            "https://cdn.test/mask.png": (200, {"content-type": "image/png"}, png(4, 4, (0, 0, 0))),
        }
    )
    images.edit(
        web.engine(),
        "https://cdn.test/cat",
        "add a hat",
        mask=ImagePart.from_url("https://cdn.test/mask.png"),
        model="gpt-image-1",
        api_key="k",
    )
    assert [(r.method, str(r.url)) for r in web.requests] == [
        ("GET", "https://cdn.test/cat"),
        ("GET", "https://cdn.test/real/cat.png"),
        ("GET", "https://cdn.test/mask.png"),
        ("POST", "https://api.openai.com/v1/images/edits"),
    ]
    files = [(name, data) for name, filename, data in parts_of(web.requests[-1]) if filename]
    assert files == [("image", PICTURE), ("mask", png(4, 4, (0, 0, 0)))]


@pytest.mark.parametrize(
    ("page", "reason", "words"),
    [
        ((404, {"content-type": "text/html"}, b"<h1>404</h1>"), "invalid_request", "HTTP 404"),
        ((200, {"content-type": "text/html"}, b"<html>"), "invalid_request", "is not an image"),
        (
            (
                200,
                {"content-type": "image/png", "content-length": str(DOWNLOAD_MAX_BYTES + 1)},
                b"x",
            ),
            "invalid_request",
            "larger than",
        ),
        (
            (200, {"content-type": "image/png"}, lambda: _stream(b"\0" * (DOWNLOAD_MAX_BYTES + 1))),
            "invalid_request",
            "larger than",
        ),
        ((302, {"location": "https://cdn.test/img"}, b""), "invalid_request", "redirects"),
        (httpx.ConnectError("refused"), "network_error", "could not download"),
        (
            (200, {"content-type": "image/jpeg"}, b"\xff\xd8jpeg"),
            "invalid_request",
            "takes image/png",
        ),
    ],
    ids=[
        "404",
        "html",
        "declared-too-large",
        "streamed-too-large",
        "redirect-loop",
        "unreachable",
        "wrong-type-for-model",
    ],
)
def test_download_failures(images: ImageDriver, page: Any, reason: str, words: str) -> None:
    web = Web({"https://cdn.test/img": page})
    with pytest.raises(ImageAdapterError) as raised:
        images.edit(web.engine(), "https://cdn.test/img", "x", model="dall-e-2", api_key="k")
    assert raised.value.reason == reason
    assert words in raised.value.message
    assert all(r.method == "GET" for r in web.requests)  # nothing was uploaded


def test_prepare_request_builds_the_upload_for_local_images() -> None:
    adapter = OpenAIImages(organization="org-1", project="proj-1", headers={"x-team": "a"})
    call = Call(
        request_id="r",
        engine=allm.Engine(image_adapter=adapter),
        api_key="sk-prepared",
        adapter_opts={"headers": {"x-call": "b"}},
    )
    request = ImageRequest(
        operation="edit", model="dall-e-2", prompt="x", input_images=(CAT.image,)
    )
    prepared = adapter.prepare_request(request, call)
    assert isinstance(prepared, httpx.Request)
    assert str(prepared.url) == "https://api.openai.com/v1/images/edits"
    assert prepared.headers["authorization"] == "Bearer sk-prepared"
    assert prepared.headers["openai-organization"] == "org-1"
    assert prepared.headers["openai-project"] == "proj-1"
    assert (prepared.headers["x-team"], prepared.headers["x-call"]) == ("a", "b")
    assert ("image", "image_0.png", PICTURE) in parts_of(prepared)
    remote = replace_images(request, Image.from_url("https://x/y.png"))
    with pytest.raises(ImageAdapterError) as raised:
        adapter.prepare_request(remote, call)
    assert raised.value.reason == "invalid_request"
    assert repr(adapter) == "OpenAIImages(base_url='https://api.openai.com/v1')"


def replace_images(request: ImageRequest, *images: Image) -> ImageRequest:
    from dataclasses import replace

    return replace(request, input_images=images)


def test_an_unreadable_file_input_is_reported_by_the_facade_before_any_io(
    images: ImageDriver, tmp_path: Any
) -> None:
    recorder = Recorder(ok_answer())
    with pytest.raises(ValidationError) as raised:
        images.edit(recorder.engine(), tmp_path / "gone.png", "x", model="dall-e-2", api_key="k")
    assert raised.value.errors == ((("input_images", 0), "unresolvable_image"),)
    assert recorder.requests == []


# -- errors, retries, transport failures ----------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (
            error_answer(
                401,
                {
                    "message": "Incorrect API key",
                    "type": "invalid_request_error",
                    "code": "invalid_api_key",
                },
            ),
            "authentication_failed",
        ),
        (
            error_answer(
                429,
                {"message": "quota", "type": "insufficient_quota", "code": "insufficient_quota"},
            ),
            "quota_exhausted",
        ),
        (
            error_answer(
                400,
                {
                    "message": "blocked",
                    "type": "image_generation_user_error",
                    "code": "moderation_blocked",
                },
            ),
            "content_filter",
        ),
        (
            error_answer(
                400, {"message": "bad size", "type": "invalid_request_error", "param": "size"}
            ),
            "invalid_request",
        ),
        (error_answer(400, "a bare string error"), "invalid_request"),
        ((418, {"content-type": "text/plain"}, b"teapot"), "unknown"),
        ((402, JSON, b"{}"), "quota_exhausted"),
    ],
)
def test_errors_are_classified_and_not_retried(
    images: ImageDriver, answer: Any, reason: str
) -> None:
    recorder = Recorder(answer, ok_answer())
    with pytest.raises(ImageAdapterError) as raised:
        images.generate(recorder.engine(), "x", model="dall-e-2", api_key="k")
    assert raised.value.reason == reason
    assert raised.value.provider == "openai"
    assert raised.value.status == answer[0]
    assert len(recorder.requests) == 1


@pytest.mark.parametrize(
    "failure",
    [
        error_answer(500, {"message": "server error", "type": "server_error"}),
        (502, {"content-type": "text/html"}, b"<html>Bad gateway</html>"),
        error_answer(408, {"message": "timeout"}),
        error_answer(
            429,
            {"message": "slow down", "type": "requests", "code": "rate_limit_exceeded"},
            **{"retry-after-ms": "7"},
        ),
    ],
)
def test_retryable_failures_are_retried(
    images: ImageDriver, telemetry_log: TelemetryLog, failure: Any
) -> None:
    recorder = Recorder(failure, ok_answer())
    response = images.generate(recorder.engine(), "x", model="dall-e-2", api_key="k")
    assert len(response.images) == 1
    assert len(recorder.requests) == 2
    [(_, _, retry)] = telemetry_log.named("allm.adapter.retry")
    assert retry["provider"] == "openai"
    if failure[0] == 429:
        assert retry["delay_ms"] == 7  # retry-after-ms honoured (no jitter in FAST_RETRY)


def _raiser(exc: Exception) -> Any:
    def answer(request: httpx.Request) -> httpx.Response:
        raise exc

    return answer


@pytest.mark.parametrize(
    ("exc", "reason"),
    [(httpx.ConnectError("refused"), "network_error"), (httpx.ReadTimeout("slow"), "timeout")],
)
def test_transport_failures_are_retried_then_raised(
    images: ImageDriver, exc: Exception, reason: str
) -> None:
    recorder = Recorder(_raiser(exc))
    with pytest.raises(ImageAdapterError) as raised:
        images.generate(recorder.engine(), "x", model="dall-e-2", api_key="k")
    assert raised.value.reason == reason
    assert len(recorder.requests) == 3  # max_attempts of the test policy
    if reason == "timeout":
        assert isinstance(raised.value, ImageTimeoutError) and isinstance(
            raised.value, TimeoutError
        )


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"<html>", "no data list"),
        (b'{"data": [42]}', "is not an object"),
        (b'{"data": [{}]}', "neither b64_json nor url"),
        (b'{"data": [{"b64_json": "%%%"}]}', "not valid base64"),
    ],
)
def test_unreadable_answers_are_malformed_response(
    images: ImageDriver, body: bytes, words: str
) -> None:
    recorder = Recorder((200, {"content-type": "application/json", "x-request-id": "req_1"}, body))
    with pytest.raises(ImageAdapterError) as raised:
        images.generate(recorder.engine(), "x", model="dall-e-2", api_key="k")
    assert raised.value.reason == "malformed_response"
    assert words in raised.value.message
    assert raised.value.metadata == {"openai_request_id": "req_1"}


def test_classify_error_reads_codes_headers_and_status() -> None:
    error = classify_error(
        429,
        {"retry-after": "2", "x-request-id": "req_9"},
        json.dumps(
            {
                "error": {
                    "message": "m",
                    "type": "requests",
                    "code": "rate_limit_exceeded",
                    "param": "n",
                }
            }
        ),
    )
    assert (error.reason, error.retry_after_ms, error.status) == ("rate_limited", 2000, 429)
    assert error.metadata == {
        "openai_type": "requests",
        "openai_code": "rate_limit_exceeded",
        "openai_param": "n",
        "openai_request_id": "req_9",
    }
    assert (
        classify_error(400, {}, b'{"error": {"code": "context_length_exceeded"}}').reason
        == "context_length_exceeded"
    )
    assert classify_error(403, {}, b"").reason == "authentication_failed"
    assert classify_error(503, {}, b"").message == "HTTP 503"


# -- settings and the image_script hook -----------------------------------------------------------


def test_settings_come_from_adapter_opts_and_call_keywords(images: ImageDriver) -> None:
    recorder = Recorder(ok_answer())
    engine = recorder.engine(
        adapter_opts={"base_url": "https://proxy.test/v1/", "headers": {"x-a": "1"}}
    )
    images.generate(
        engine, "x", model="dall-e-2", api_key="k", request_timeout=5, headers={"x-b": "2"}
    )
    [sent] = recorder.requests
    assert str(sent.url) == "https://proxy.test/v1/images/generations"
    assert sent.headers["x-b"] == "2"  # the call's headers win over the engine's
    assert "x-a" not in sent.headers
    assert sent.extensions["timeout"]["read"] == 5.0


def test_the_key_comes_from_the_environment(
    images: ImageDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = Recorder(ok_answer())
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    images.generate(recorder.engine(), "x", model="dall-e-2")
    assert recorder.requests[0].headers["authorization"] == "Bearer sk-env"
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(EngineError) as raised:
        images.generate(recorder.engine(), "x", model="dall-e-2")
    assert raised.value.reason == "missing_key"


def test_an_image_script_short_circuits_to_the_fake_after_the_gates(images: ImageDriver) -> None:
    engine = allm.Engine(
        image_adapter=OpenAIImages(), adapter_opts={"image_script": [ok(CAT), ok(CAT, CAT)]}
    )
    response = images.generate(engine, "x", model="dall-e-3")  # no key: the fake needs none
    assert response.images[0].image.source == CAT.image.source
    assert len(images.generate(engine, "x", model="dall-e-3").images) == 2  # the same fake cursor
    with pytest.raises(ImageAdapterError) as raised:
        images.edit(engine, CAT, "x", model="dall-e-3")
    assert raised.value.reason == "unsupported_operation"


def test_clients_given_to_the_constructor_are_used(images: ImageDriver) -> None:
    recorder = Recorder(ok_answer())
    adapter = OpenAIImages(
        http_client=recorder.client(),
        async_http_client=recorder.async_client(),
        base_url="https://own.test/v1",
    )
    response = images.generate(
        allm.Engine(image_adapter=adapter), "x", model="dall-e-2", api_key="k"
    )
    assert len(response.images) == 1
    assert str(recorder.requests[0].url) == "https://own.test/v1/images/generations"


def _broken_body(chunks: int) -> Any:
    def content() -> Iterator[bytes]:
        for _ in range(chunks):
            yield b"\0" * 1024
        raise httpx.ReadError("connection reset")

    return content


def test_a_download_cut_midway_is_a_network_error(images: ImageDriver) -> None:
    web = Web({"https://cdn.test/img": (200, {"content-type": "image/png"}, _broken_body(3))})
    with pytest.raises(ImageAdapterError) as raised:
        images.edit(web.engine(), "https://cdn.test/img", "x", model="gpt-image-1", api_key="k")
    assert raised.value.reason == "network_error"
    assert raised.value.metadata == {"url": "https://cdn.test/img"}


def test_dall_e_2_size_limit_applies_to_base64_and_file_sources(
    images: ImageDriver, tmp_path: Any
) -> None:
    big = tmp_path / "big.png"
    big.write_bytes(b"\0" * (5 * MB))
    encoded = ImagePart(Image.from_base64("A" * (6 * MB), "image/png"))
    for image in (encoded, ImagePart.from_file(big)):
        recorder = Recorder(ok_answer())
        with pytest.raises(ImageAdapterError) as raised:
            images.variation(recorder.engine(), image, model="dall-e-2")
        assert raised.value.reason == "invalid_request"
        assert "up to 4 MB" in raised.value.message
        assert recorder.requests == []


def test_prepare_request_reports_an_unreadable_file(tmp_path: Any) -> None:
    adapter = OpenAIImages()
    call = Call(request_id="r", engine=allm.Engine(image_adapter=adapter), api_key="k")
    request = ImageRequest(
        operation="variation",
        model="dall-e-2",
        input_images=(Image.from_file(tmp_path / "gone.png"),),
    )
    with pytest.raises(ImageAdapterError) as raised:
        adapter.prepare_request(request, call)
    assert raised.value.reason == "invalid_request"
    assert "cannot read an input image" in raised.value.message


def test_a_downloaded_input_for_an_unknown_model_is_not_checked(images: ImageDriver) -> None:
    web = Web({"https://cdn.test/img": (200, {"content-type": "image/gif"}, b"GIF89a")})
    images.edit(web.engine(), "https://cdn.test/img", "x", model="acme-paint", api_key="k")
    files = [(name, filename) for name, filename, _ in parts_of(web.requests[-1]) if filename]
    assert files == [("image", "image_0.gif")]


def test_close_closes_the_pools_the_adapter_created() -> None:
    adapter = OpenAIImages()
    own = adapter.transport(Call(request_id="r", engine=allm.Engine(image_adapter=adapter)))
    client = own.sync_client()
    injected = httpx.Client()
    call = Call(
        request_id="r",
        engine=allm.Engine(image_adapter=adapter),
        adapter_opts={"http_client": injected},
    )
    assert adapter.transport(call) is adapter.transport(call)  # one pool per injected client
    adapter.close()
    assert client.is_closed
    assert not injected.is_closed  # the caller's client is the caller's to close
    injected.close()
