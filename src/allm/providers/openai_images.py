"""OpenAI Images: generation (``POST /images/generations``, JSON), edits with an optional mask and
variations (``/images/edits``, ``/images/variations``, multipart/form-data built here as bytes).

Per-model rules, checked before any key is resolved or byte sent (unknown models fall through and
the API decides):

==================  ===========================  ==================  ===================================
model               operations                   response formats    inputs
==================  ===========================  ==================  ===================================
``dall-e-2``        generate, edit, variation    binary/base64/url   one square PNG under 4 MB; n <= 10
``dall-e-3``        generate                     binary/base64/url   n = 1
``gpt-image-*``     generate, edit               binary/base64       PNG, JPEG or WebP; up to 16 images
==================  ===========================  ==================  ===================================

The gate order is: operation, model, response format, then inputs (a mask is always a PNG).
GPT image models always answer in base64, so the request omits ``response_format`` for them;
``quality``, ``background`` and ``output_format`` (from ``options``) are sent as given. The adapter
turns each result into the requested form: ``binary`` (decoded bytes), ``base64`` (verbatim) or
``url`` (OpenAI's URL, valid for about an hour). The MIME type comes from ``output_format`` (PNG by
default). Token usage (GPT image models) goes to ``ImageUsage.input_tokens/output_tokens``;
``images`` is the number of results; the ``x-request-id`` header is kept in
``metadata["openai_request_id"]``.

Input images given as URLs are downloaded by the plan before the upload (30 s, at most five
redirects, at most 25 MB, the answer must be an image); a failure is ``invalid_request`` (or
``network_error`` / ``timeout`` when the transport failed).

``adapter_opts["image_script"]`` short-circuits to ``FakeImages`` after the gates (the conformance
hook), so a scripted call needs no key.

The adapter makes one attempt per call: the image façade owns the retry loop (design §13), so
budgets do not multiply.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urljoin

from .._json import dumps
from ..adapters import Call
from ..adapters.base import HttpSettings, json_or_none, retry_after_ms
from ..adapters.http import (
    HttpClose,
    HttpRead,
    HttpRequest,
    HttpResult,
    HttpSend,
    TransportFailure,
)
from ..adapters.multipart import Upload, encode_multipart, multipart_body
from ..data.images import ImageRequest, ImageResponse, ImageUsage
from ..data.messages import Image, ImagePart, ImageSource
from ..effects import Effect
from ..errors import ImageAdapterError, ValidationError

if TYPE_CHECKING:
    from .fake_images import FakeImages

__all__ = [
    "DOWNLOAD_MAX_BYTES",
    "OpenAIImages",
    "ModelRule",
    "Upload",
    "classify_error",
    "encode_multipart",
    "model_rule",
]

OPERATIONS = frozenset({"generate", "edit", "variation"})
_PATHS = {
    "generate": "/images/generations",
    "edit": "/images/edits",
    "variation": "/images/variations",
}
DEFAULT_TIMEOUT = 300.0  # image generation is slow: GPT image models can take minutes
DOWNLOAD_TIMEOUT = 30.0
DOWNLOAD_MAX_BYTES = 25 * 1024 * 1024
DOWNLOAD_MAX_REDIRECTS = 5
_MB = 1024 * 1024
_PNG = frozenset({"image/png"})
_GPT_INPUTS = frozenset({"image/png", "image/jpeg", "image/webp"})
_ALL_FORMATS = frozenset({"binary", "base64", "url"})
_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}
_OUTPUT_MIME = {"png": "image/png", "jpeg": "image/jpeg", "jpg": "image/jpeg", "webp": "image/webp"}
_SIZE = re.compile(r"^\s*(\d+)\s*x\s*(\d+)\s*$")
_QUOTA_CODES = frozenset({"insufficient_quota", "billing_hard_limit_reached", "billing_not_active"})
_CONTENT_CODES = frozenset(
    {"content_policy_violation", "moderation_blocked", "image_generation_user_error"}
)


@dataclass(frozen=True, slots=True)
class ModelRule:
    """What one model family accepts."""

    family: str
    operations: frozenset[str]
    response_formats: frozenset[str]
    max_n: int | None = None
    input_types: frozenset[str] | None = None
    max_input_bytes: int | None = None
    max_inputs: int | None = None


_DALL_E_2 = ModelRule(
    "dall-e-2", OPERATIONS, _ALL_FORMATS, max_n=10, input_types=_PNG, max_input_bytes=4 * _MB,
    max_inputs=1,
)  # fmt: skip
_DALL_E_3 = ModelRule("dall-e-3", frozenset({"generate"}), _ALL_FORMATS, max_n=1)
_GPT_IMAGE = ModelRule(
    "gpt-image",
    frozenset({"generate", "edit"}),
    frozenset({"binary", "base64"}),
    max_n=10,
    input_types=_GPT_INPUTS,
    max_input_bytes=50 * _MB,
    max_inputs=16,
)


def model_rule(model: str | None) -> ModelRule | None:
    """The rules for ``model``, or None for a model this adapter does not know."""
    if not model:
        return None
    if model == "dall-e-2" or model.startswith("dall-e-2-"):
        return _DALL_E_2
    if model == "dall-e-3" or model.startswith("dall-e-3-"):
        return _DALL_E_3
    if model.startswith(("gpt-image-", "chatgpt-image-")):
        return _GPT_IMAGE
    return None


def _size_text(size: Any) -> str | None:
    if size is None:
        return None
    if isinstance(size, tuple) and len(size) == 2:
        return f"{int(size[0])}x{int(size[1])}"
    return str(size)


def _dimensions(size: Any) -> tuple[int | None, int | None]:
    match = _SIZE.match(size) if isinstance(size, str) else None
    if match is None:
        return None, None
    return int(match.group(1)), int(match.group(2))


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def classify_error(
    status: int | None, headers: Mapping[str, str], body: bytes | str
) -> ImageAdapterError:
    """An error status and body from the Images API as an ``ImageAdapterError``."""
    document = json_or_none(body)
    raw_error = document.get("error") if isinstance(document, dict) else None
    if isinstance(raw_error, str):
        raw_error = {"message": raw_error}
    error = raw_error if isinstance(raw_error, dict) else {}
    error_type, code = _str(error.get("type")), _str(error.get("code"))
    names = {name.lower() for name in (error_type, code) if name}
    if names & _QUOTA_CODES or status == 402:
        reason = "quota_exhausted"
    elif status in (401, 403):
        reason = "authentication_failed"
    elif names & _CONTENT_CODES or any("content_filter" in name for name in names):
        reason = "content_filter"
    elif "context_length_exceeded" in names:
        reason = "context_length_exceeded"
    elif status == 429:
        reason = "rate_limited"
    elif status == 408:
        reason = "timeout"
    elif status is not None and status >= 500:
        reason = "provider_unavailable"
    elif status in (400, 404, 409, 413, 415, 422):
        reason = "invalid_request"
    else:
        reason = "unknown"
    metadata = {
        key: value
        for key, value in (
            ("openai_type", error_type),
            ("openai_code", code),
            ("openai_param", _str(error.get("param"))),
            ("openai_request_id", headers.get("x-request-id")),
        )
        if value is not None
    }
    message = _str(error.get("message")) or f"HTTP {status}"
    return ImageAdapterError(
        reason,
        message,
        provider="openai",
        status=status,
        retry_after_ms=retry_after_ms(headers),
        metadata=metadata,
    )


def _invalid(message: str, **metadata: Any) -> ImageAdapterError:
    return ImageAdapterError("invalid_request", message, provider="openai", metadata=metadata)


def _local_size(image: Image) -> int | None:
    kind, value = image.source.type, image.source.value
    if kind == "binary":
        return len(value)
    if kind == "base64":
        return len(str(value)) * 3 // 4
    if kind == "file":
        try:
            return os.path.getsize(str(value))
        except OSError:
            return None
    return None


class OpenAIImages(HttpSettings):
    """OpenAI's Images API (see the module doc for the per-model rules).

    Constructor settings (each also an ``adapter_opts`` key, which wins): ``base_url``,
    ``headers``, ``timeout`` (seconds, default 300; ``request_timeout`` is an alias),
    ``http_client``, ``async_http_client``; plus ``organization`` / ``project`` headers.
    """

    name: ClassVar[str] = "openai"
    key_provider: ClassVar[str] = "openai"
    default_base_url: ClassVar[str] = "https://api.openai.com/v1"

    def __init__(
        self,
        *,
        base_url: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        http_client: Any = None,
        async_http_client: Any = None,
        organization: str | None = None,
        project: str | None = None,
    ) -> None:
        super().__init__(
            base_url=base_url,
            headers=headers,
            timeout=timeout,
            http_client=http_client,
            async_http_client=async_http_client,
        )
        self.organization = organization
        self.project = project
        self._fake: FakeImages | None = None

    def supported_operations(self) -> frozenset[str]:
        """Generation, edits and variations (each model allows a subset)."""
        return OPERATIONS

    def request_timeout(self, call: Call) -> float:
        """Seconds to wait for the answer (``timeout`` or ``request_timeout``)."""
        value = call.opt("request_timeout")
        if value is None:
            value = self.setting(call, "timeout", DEFAULT_TIMEOUT)
        return float(value)

    def auth_headers(self, call: Call) -> dict[str, str]:
        """``Authorization`` (and organization/project), then extra headers. Resolves the key."""
        headers = {"authorization": f"Bearer {self.api_key(call)}"}
        if self.organization:
            headers["openai-organization"] = self.organization
        if self.project:
            headers["openai-project"] = self.project
        headers.update(self.extra_headers(call))
        return headers

    # -- the gates --------------------------------------------------------------------------------

    def check(self, request: ImageRequest, call: Call) -> None:
        """The per-model rules, in gate order; raises ``ImageAdapterError`` before any key or I/O."""
        operation, model = request.operation, request.model
        if operation not in OPERATIONS:
            raise ImageAdapterError(
                "unsupported_operation",
                f"OpenAI Images has no {operation!r} operation",
                provider="openai",
                metadata={"operation": operation},
            )
        rule = model_rule(model)
        if rule is None:
            return
        if operation not in rule.operations:
            allowed = ", ".join(sorted(rule.operations))
            raise ImageAdapterError(
                "unsupported_operation",
                f"{model} cannot {operation} images (it supports: {allowed})",
                provider="openai",
                metadata={"operation": operation, "model": model},
            )
        if request.response_format not in rule.response_formats:
            raise _invalid(
                f"{model} cannot return response_format={request.response_format!r}: GPT image "
                "models always answer in base64; ask for 'binary' or 'base64'",
                model=model,
                field="response_format",
            )
        if rule.max_n is not None and isinstance(request.n, int) and request.n > rule.max_n:
            raise _invalid(
                f"{model} makes at most {rule.max_n} image(s) per call, not n={request.n}",
                model=model,
                field="n",
            )
        if rule.max_inputs is not None and len(request.input_images) > rule.max_inputs:
            raise _invalid(
                f"{model} takes at most {rule.max_inputs} input image(s)",
                model=model,
                field="input_images",
            )
        for index, image in enumerate(request.input_images):
            self._check_input(rule, image, model, ("input_images", index))
        if request.mask is not None:
            self._check_input(rule, request.mask, model, ("mask",), mask=True)

    def _check_input(
        self,
        rule: ModelRule,
        image: Image,
        model: str | None,
        path: tuple[str | int, ...],
        *,
        mask: bool = False,
        mime: str | None = None,
        size: int | None = None,
    ) -> None:
        mime = mime or image.mime_type
        where = ".".join(str(part) for part in path)
        allowed = _PNG if mask else rule.input_types
        if mime is not None and allowed is not None and mime not in allowed:
            kinds = ", ".join(sorted(allowed))
            raise _invalid(
                f"{where}: {model} takes {kinds}, not {mime}", model=model, field=list(path)
            )
        limit = rule.max_input_bytes
        size = size if size is not None else _local_size(image)
        if limit is not None and size is not None and size > limit:
            raise _invalid(
                f"{where}: {model} takes images up to {limit // _MB} MB, this one has {size} bytes",
                model=model,
                field=list(path),
            )

    # -- the plan ---------------------------------------------------------------------------------

    def generate(self, request: ImageRequest, call: Call) -> Generator[Effect, Any, ImageResponse]:
        """Gates now, then the key; return the plan of one exchange (downloads first, if any)."""
        self.check(request, call)
        if call.opt("image_script") is not None:
            return self._fake_images().generate(request, call)
        headers = self.auth_headers(call)
        return self._plan(request, call, headers)

    def _fake_images(self) -> FakeImages:
        if self._fake is None:
            from .fake_images import FakeImages

            self._fake = FakeImages()
        return self._fake

    def prepare_request(self, request: ImageRequest, call: Call) -> Any:
        """The ``httpx.Request`` this adapter would send (the key already in), for callers who
        want to send it themselves. Input images must be local (not URLs)."""
        import httpx

        self.check(request, call)
        uploads = self._local_uploads(request)
        built = self.build_request(request, call, self.auth_headers(call), uploads)
        return httpx.Request(
            built.method, built.url, headers=list(built.headers), content=built.body
        )

    def _local_uploads(self, request: ImageRequest) -> list[tuple[bytes, str | None]]:
        found: list[tuple[bytes, str | None]] = []
        for image in (*request.input_images, *((request.mask,) if request.mask else ())):
            if image.source.type == "url":
                raise _invalid("prepare_request cannot download a URL input image")
            found.append((_read(image), image.mime_type))
        return found

    def _plan(
        self, request: ImageRequest, call: Call, headers: dict[str, str]
    ) -> Generator[Effect, Any, ImageResponse]:
        rule = model_rule(request.model)
        inputs: list[tuple[bytes, str | None]] = []
        images = list(request.input_images)
        if request.mask is not None:
            images.append(request.mask)
        for index, image in enumerate(images):
            is_mask = request.mask is not None and index == len(images) - 1
            if image.source.type != "url":
                inputs.append((_read(image), image.mime_type))
                continue
            data, mime = yield from self._download(str(image.source.value), call)
            if rule is not None:
                path: tuple[str | int, ...] = ("mask",) if is_mask else ("input_images", index)
                self._check_input(
                    rule, image, request.model, path, mask=is_mask, mime=mime, size=len(data)
                )
            inputs.append((data, mime))
        http_request = self.build_request(request, call, headers, inputs)
        timeout = self.request_timeout(call)
        result = yield HttpSend(self.transport(call), http_request, False, timeout, timeout)
        if isinstance(result, TransportFailure):
            raise ImageAdapterError(result.reason, result.message, provider="openai")
        if result.status >= 400:
            raise classify_error(result.status, result.headers, result.body)
        return self.parse_response(result, request, call)

    def _download(self, url: str, call: Call) -> Generator[Effect, Any, tuple[bytes, str]]:
        transport = self.transport(call)
        for _ in range(DOWNLOAD_MAX_REDIRECTS + 1):
            get = HttpRequest("GET", url, (("accept", "image/*"),))
            result = yield HttpSend(transport, get, True, DOWNLOAD_TIMEOUT, DOWNLOAD_TIMEOUT)
            if isinstance(result, TransportFailure):
                raise ImageAdapterError(
                    result.reason,
                    f"could not download input image {url}: {result.message}",
                    provider="openai",
                    metadata={"url": url},
                )
            location = result.headers.get("location")
            if result.status in (301, 302, 303, 307, 308) and location:
                assert result.handle is not None  # a success status leaves a stream open
                yield HttpClose(result.handle)
                url = urljoin(url, location)
                continue
            if result.status >= 400:
                raise _invalid(
                    f"downloading input image {url} failed: HTTP {result.status}", url=url
                )
            mime = (result.headers.get("content-type") or "").split(";")[0].strip().lower()
            if not mime.startswith("image/"):
                assert result.handle is not None
                yield HttpClose(result.handle)
                raise _invalid(f"{url} is not an image (content-type {mime or 'missing'})", url=url)
            data = yield from self._read_body(result, url)
            return data, mime
        raise _invalid(f"downloading {url}: more than {DOWNLOAD_MAX_REDIRECTS} redirects", url=url)

    def _read_body(self, result: HttpResult, url: str) -> Generator[Effect, Any, bytes]:
        """The open body of a download, refusing anything over ``DOWNLOAD_MAX_BYTES``."""
        assert result.handle is not None
        too_large = _invalid(f"{url} is larger than {DOWNLOAD_MAX_BYTES // _MB} MB", url=url)
        declared = result.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > DOWNLOAD_MAX_BYTES:
            yield HttpClose(result.handle)
            raise too_large
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = yield HttpRead(result.handle)
            if chunk is None:
                return b"".join(chunks)
            if isinstance(chunk, TransportFailure):
                raise ImageAdapterError(
                    chunk.reason,
                    f"could not download input image {url}: {chunk.message}",
                    provider="openai",
                    metadata={"url": url},
                )
            total += len(chunk)
            if total > DOWNLOAD_MAX_BYTES:
                yield HttpClose(result.handle)
                raise too_large
            chunks.append(chunk)

    # -- the request ------------------------------------------------------------------------------

    def build_request(
        self,
        request: ImageRequest,
        call: Call,
        headers: Mapping[str, str],
        inputs: Sequence[tuple[bytes, str | None]] = (),
    ) -> HttpRequest:
        """The HTTP request: JSON for generation, multipart for edits and variations.

        ``inputs`` are the bytes and MIME types of the input images, then the mask.
        """
        url = self.base(call) + _PATHS[request.operation]
        fields = self.body_fields(request)
        if request.operation == "generate":
            merged = {"content-type": "application/json", **headers}
            body = dumps(dict(fields)).encode("utf-8")
            return HttpRequest("POST", url, tuple(merged.items()), body)
        files: list[Upload] = []
        count = len(request.input_images)
        name = "image" if count == 1 else "image[]"
        for index, (data, mime) in enumerate(inputs):
            if index < count:
                mime = mime or "image/png"
                files.append(
                    Upload(name, f"image_{index}.{_EXTENSIONS.get(mime, 'png')}", mime, data)
                )
            else:
                files.append(Upload("mask", "mask.png", mime or "image/png", data))
        content_type, body = multipart_body(list(fields.items()), files)
        merged = {"content-type": content_type, **headers}
        return HttpRequest("POST", url, tuple(merged.items()), body)

    def body_fields(self, request: ImageRequest) -> dict[str, Any]:
        """The request's fields as the API names them (``options`` merged last)."""
        rule = model_rule(request.model)
        gpt_image = rule is _GPT_IMAGE
        fields: dict[str, Any] = {}
        if request.model:
            fields["model"] = request.model
        if request.operation != "variation" and request.prompt is not None:
            fields["prompt"] = request.prompt
        fields["n"] = request.n
        size = _size_text(request.size)
        if size is not None:
            fields["size"] = size
        if request.operation != "variation":
            for name in ("quality", "style", "background"):
                value = getattr(request, name)
                if value is not None:
                    fields[name] = value
        if not gpt_image:
            fields["response_format"] = "url" if request.response_format == "url" else "b64_json"
        fields.update(request.options)
        return fields

    # -- the response -----------------------------------------------------------------------------

    def parse_response(
        self, result: HttpResult, request: ImageRequest, call: Call
    ) -> ImageResponse:
        """A whole Images API body as an ``ImageResponse`` (``malformed_response`` if unreadable)."""
        body = json_or_none(result.body)
        request_id = result.headers.get("x-request-id")

        def malformed(message: str) -> ImageAdapterError:
            return ImageAdapterError(
                "malformed_response",
                message,
                provider="openai",
                status=result.status,
                metadata={"openai_request_id": request_id} if request_id else {},
            )

        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise malformed("the Images API answer has no data list")
        output_format = _str(body.get("output_format")) or _str(
            request.options.get("output_format")
        )
        mime = _OUTPUT_MIME.get((output_format or "png").lower(), "image/png")
        size = _str(body.get("size")) or _size_text(request.size)
        width, height = _dimensions(size)
        parts: list[ImagePart] = []
        for index, item in enumerate(body["data"]):
            if not isinstance(item, dict):
                raise malformed(f"data[{index}] is not an object")
            image = self._image(item, request, mime, malformed, index)
            parts.append(
                ImagePart(
                    Image(
                        image.source,
                        image.mime_type,
                        width=width,
                        height=height,
                        prompt=request.prompt,
                        revised_prompt=_str(item.get("revised_prompt")),
                    )
                )
            )
        found_usage = body.get("usage")
        raw_usage: dict[str, Any] = found_usage if isinstance(found_usage, dict) else {}
        usage = ImageUsage(
            images=len(parts),
            size=size,
            quality=_str(body.get("quality")) or request.quality,
            input_tokens=_int(raw_usage.get("input_tokens")),
            output_tokens=_int(raw_usage.get("output_tokens")),
        )
        metadata = dict(request.metadata)
        if request_id:
            metadata["openai_request_id"] = request_id
        for key in ("created", "background", "output_format"):
            if body.get(key) is not None:
                metadata[key] = body[key]
        if isinstance(raw_usage.get("input_tokens_details"), dict):
            metadata["input_tokens_details"] = raw_usage["input_tokens_details"]
        return ImageResponse(
            images=tuple(parts),
            usage=usage,
            request_id=call.request_id,
            model=request.model,
            raw=body,
            metadata=metadata,
        )

    @staticmethod
    def _image(
        item: Mapping[str, Any], request: ImageRequest, mime: str, malformed: Any, index: int
    ) -> Image:
        encoded = _str(item.get("b64_json"))
        url = _str(item.get("url"))
        if encoded:
            if request.response_format == "base64":
                return Image.from_base64(encoded, mime)
            try:
                return Image.from_bytes(base64.b64decode(encoded, validate=True), mime)
            except (binascii.Error, ValueError) as exc:
                raise malformed(f"data[{index}].b64_json is not valid base64") from exc
        if url:
            return Image(ImageSource("url", url), mime)
        raise malformed(f"data[{index}] has neither b64_json nor url")


def _read(image: Image) -> bytes:
    try:
        return image.to_bytes()
    except (OSError, ValidationError) as exc:
        raise _invalid(f"cannot read an input image: {exc}") from exc
