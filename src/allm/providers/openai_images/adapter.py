"""The OpenAI images adapter: pre-flight gates, the request plan (downloads, upload), the answer."""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urljoin

from ...adapters import Call
from ...adapters.http import (
    HttpClose,
    HttpRead,
    HttpRequest,
    HttpResult,
    HttpSend,
    TransportFailure,
)
from ...data.images import ImageRequest, ImageResponse
from ...data.messages import Image
from ...effects import Effect
from ...errors import ImageAdapterError
from ..openai import account_headers
from ..openai.settings import OpenAIAccount
from .decode import ImagesDecode
from .errors import _invalid, classify_error
from .request import ImagesRequest, _local_size, _read
from .settings import (
    _MB,
    _PNG,
    DEFAULT_TIMEOUT,
    DOWNLOAD_MAX_BYTES,
    DOWNLOAD_MAX_REDIRECTS,
    DOWNLOAD_TIMEOUT,
    OPERATIONS,
    ModelRule,
    model_rule,
)

if TYPE_CHECKING:
    from ..fake_images import FakeImages


class OpenAIImages(OpenAIAccount, ImagesRequest, ImagesDecode):
    """OpenAI's Images API (see the module doc for the per-model rules).

    Constructor settings (each also an ``adapter_opts`` key, which wins): ``base_url``,
    ``headers``, ``timeout`` (seconds, default 300; ``request_timeout`` is an alias),
    ``http_client``, ``async_http_client``; plus ``organization`` / ``project`` headers.
    """

    name: ClassVar[str] = "openai"
    key_provider: ClassVar[str] = "openai"
    default_base_url: ClassVar[str] = "https://api.openai.com/v1"

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        self._fake: FakeImages | None = None

    def supported_operations(self) -> frozenset[str]:
        """Generation, edits and variations (each model allows a subset)."""
        return OPERATIONS

    def request_timeout(self, call: Call) -> float:
        """Seconds to wait for the answer (``timeout`` or ``request_timeout``)."""
        value = call.opt("request_timeout")
        if value is None and call.opt("timeout") is None and self.timeout is None:
            value = call.provider_settings.get("request_timeout")
        if value is None:
            value = self.setting(call, "timeout", DEFAULT_TIMEOUT)
        return float(value)

    def auth_headers(self, call: Call) -> dict[str, str]:
        """``Authorization`` (and organization/project), then extra headers. Resolves the key."""
        headers = account_headers(self.api_key(call), self.organization, self.project)
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
            from ..fake_images import FakeImages

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
