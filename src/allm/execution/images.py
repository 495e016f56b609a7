"""Layer C for images: ``generate_image``, ``edit_image``, ``image_variation`` and async twins.

Every call runs inside an ``image`` telemetry span, in this order:

1. the engine's ``image_adapter`` (``EngineError("no_image_adapter")`` first, before anything);
2. the model: call ``model=`` > the request's > the engine's (a ``"provider:id"`` prefix naming
   the adapter is dropped);
3. validation: the request's shape (``allm.validate.errors_image_request``) and every input
   image and mask (type, MIME, at most 25 MB, readable); ``ValidationError("invalid_image_request")``
   lists every problem;
4. the catalog, when one is configured and states ``image_generation: false`` for the model;
5. the adapter's ``supported_operations()``, then the adapter's own pre-flight (its per-model
   rules, then the key), all before any I/O;
6. the adapter's plan under the retry policy (call ``retry=`` > engine), widened with the reasons
   ``rate_limited``, ``provider_unavailable``, ``timeout`` and ``network_error``, honouring
   ``retry_after_ms``.

A failure at any step raises (an ``ImageAdapterError`` once the provider was asked): an image call
has no partial result to keep, so unlike a chat stream it is not folded into data. The span still
ends with ``allm.image.stop`` whose metadata carries ``response``, ``usage``, ``error`` and
``image_count`` (0 on error), so every call has the same telemetry shape; a bug (any other
exception) ends it with ``allm.image.exception``. ``request_id`` (given or fresh) and the
request's ``metadata`` are copied to the response.

Call keywords: the request fields (``model``, ``n``, ``size``, ``quality``, ``style``,
``background``, ``response_format``, ``options``, ``metadata``, ``mask``); call control
(``request_id``, ``api_key``, ``adapter_opts``, ``retry``, ``telemetry_metadata``, ``stream``,
which is ignored); transport settings (``timeout``, ``request_timeout``, ``base_url``,
``headers``, ``http_client``, ...), which go to the adapter options; anything else is a provider
parameter, merged into ``request.options``.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol, runtime_checkable

from .. import telemetry, validate
from .._hooks import apply_override, record_request
from ..adapters import TRANSPORT_KEYS, Call
from ..data.images import ImageRequest, ImageResponse, ImageUsage
from ..data.messages import Image, ImagePart
from ..data.models import ModelRef
from ..effects import Effect
from ..engine import Engine, new_id
from ..errors import (
    AllmError,
    ConfigurationError,
    EngineError,
    FieldError,
    ImageAdapterError,
    ValidationError,
)
from ..registry import resolve_adapter
from ..retry import Ok, Outcome, Retry, RetryPolicy, policy_from, retrying, widened
from .runner import engine_opts_for, settings_for

__all__ = [
    "IMAGE_INPUT_MAX_BYTES",
    "IMAGE_INPUT_MIME_TYPES",
    "IMAGE_RETRY_REASONS",
    "ImageAdapter",
    "aedit_image",
    "agenerate_image",
    "aimage_variation",
    "edit_image",
    "generate_image",
    "image_request",
    "image_variation",
]

IMAGE_RETRY_REASONS = ("rate_limited", "provider_unavailable", "timeout", "network_error")
IMAGE_INPUT_MAX_BYTES = 25 * 1024 * 1024
IMAGE_INPUT_MIME_TYPES = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif"})

_FIELDS = frozenset(
    {
        "model",
        "n",
        "size",
        "quality",
        "style",
        "background",
        "response_format",
        "options",
        "metadata",
        "mask",
        "prompt",
    }
)
_CONTROL = frozenset(
    {"request_id", "api_key", "adapter_opts", "retry", "telemetry_metadata", "stream"}
)


@runtime_checkable
class ImageAdapter(Protocol):
    """An image provider. Like chat adapters it never does I/O itself.

    ``generate(request, call)`` handles every operation: it runs its pre-flight checks when
    called (raising, before any key is resolved or byte sent; an unsupported operation is
    ``ImageAdapterError("unsupported_operation", metadata={"operation": ...})``), then returns
    a generator of effects whose return value is the ``ImageResponse`` (with
    ``call.request_id`` and the request's metadata copied) or which raises the
    ``ImageAdapterError`` it ended with. One attempt per call: the façade retries.
    """

    name: str

    def supported_operations(self) -> frozenset[str]:
        """The operations this adapter serves (per adapter; per-model rules are its own)."""
        ...

    def generate(self, request: ImageRequest, call: Call) -> Generator[Effect, Any, ImageResponse]:
        """Pre-flight now; return the plan of one attempt."""
        ...


# -- building the request --------------------------------------------------------------------------


def _image_of(value: Any) -> Any:
    """An ``Image`` from an image-like value; anything else is kept for validation to report."""
    if isinstance(value, ImagePart):
        return value.image
    if isinstance(value, Image):
        return value
    if isinstance(value, os.PathLike):
        return Image.from_file(value)
    if isinstance(value, str):
        if value.startswith(("http://", "https://")):
            return Image.from_url(value)
        if value.startswith("data:"):
            return Image.from_data_uri(value)
        return Image.from_file(value)
    return value


def _images_of(value: Any) -> tuple[Any, ...]:
    if isinstance(value, list | tuple):
        return tuple(_image_of(item) for item in value)
    return (_image_of(value),)


def _split(opts: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """``(request fields, call control, provider parameters)``; transport keys count as control."""
    fields: dict[str, Any] = {}
    control: dict[str, Any] = {}
    params: dict[str, Any] = {}
    for key, value in opts.items():
        if key in _FIELDS:
            fields[key] = value
        elif key in _CONTROL or key in TRANSPORT_KEYS:
            control[key] = value
        else:
            params[key] = value
    return fields, control, params


def _apply_fields(
    request: ImageRequest, fields: Mapping[str, Any], params: Mapping[str, Any]
) -> ImageRequest:
    changes = dict(fields)
    if "mask" in changes and changes["mask"] is not None:
        changes["mask"] = _image_of(changes["mask"])
    if params:
        base = changes.get("options", request.options)
        merged = dict(base) if isinstance(base, Mapping) else {}
        merged.update(params)
        changes["options"] = merged
    return replace(request, **changes) if changes else request


def image_request(prompt: str | None = None, **opts: Any) -> ImageRequest:
    """An ``ImageRequest`` (``operation="generate"`` unless given); no validation.

    Keywords are the request's fields; any other keyword is a provider parameter in ``options``.
    Call options (``request_id``, ``api_key``, ``timeout``, ...) belong to the call and raise.
    """
    operation = opts.pop("operation", "generate")
    images = opts.pop("input_images", ())
    fields, control, params = _split(opts)
    if control:
        raise ConfigurationError(
            "invalid_option",
            problems=[f"{key!r} is a call option, not a request field" for key in sorted(control)],
        )
    request = ImageRequest(
        operation=operation, prompt=prompt, input_images=tuple(_image_of(i) for i in images)
    )
    return _apply_fields(request, fields, params)


# -- the pipeline ----------------------------------------------------------------------------------


def _input_problem(image: Image) -> str | None:
    kind, value = image.source.type, image.source.value
    if kind == "url":
        return None
    mime = image.mime_type
    if not mime:
        return "missing_mime_type"
    if mime not in IMAGE_INPUT_MIME_TYPES:
        return "unsupported_image_format"
    if kind == "binary":
        size = len(value)
    elif kind == "base64":
        size = len(str(value)) * 3 // 4
    else:
        try:
            size = os.path.getsize(str(value))
        except OSError:
            return "unresolvable_image"
    if size > IMAGE_INPUT_MAX_BYTES:
        return "image_too_large"
    if kind == "base64":
        try:
            image.to_bytes()
        except ValidationError:
            return "unresolvable_image"
    return None


def _input_errors(request: ImageRequest) -> list[FieldError]:
    errors: list[FieldError] = []
    for index, image in enumerate(request.input_images):
        if isinstance(image, Image):
            problem = _input_problem(image)
            if problem is not None:
                errors.append((("input_images", index), problem))
    mask = request.mask
    if mask is not None:
        if not isinstance(mask, Image):
            errors.append((("mask",), "invalid_type"))
        else:
            problem = _input_problem(mask)
            if problem is not None:
                errors.append((("mask",), problem))
    if not isinstance(request.options, Mapping):
        errors.append((("options",), "not_a_map"))
    if not isinstance(request.metadata, Mapping):
        errors.append((("metadata",), "not_a_map"))
    return errors


def _model_id(model: Any, adapter: Any) -> Any:
    if isinstance(model, ModelRef):
        return model.id
    if isinstance(model, str):
        names = {getattr(adapter, "name", None), getattr(adapter, "key_provider", None)}
        head, sep, rest = model.partition(":")
        if sep and rest and head in names:
            return rest
    return model


def _catalog_ref(model: Any, adapter: Any) -> ModelRef | None:
    if isinstance(model, ModelRef):
        return model
    from ..catalog import resolve_model_ref

    return resolve_model_ref(model, getattr(adapter, "name", None))


def _with_costs(usage: ImageUsage, ref: ModelRef | None) -> ImageUsage:
    pricing = ref.pricing if ref is not None else None
    if not pricing:
        return usage

    def cost(price: Any, tokens: int | None) -> float | None:
        if not isinstance(price, int | float) or isinstance(price, bool) or tokens is None:
            return None
        return float(price * tokens / 1_000_000)

    input_cost = usage.input_cost
    if input_cost is None:
        input_cost = cost(pricing.get("input"), usage.input_tokens)
    output_cost = usage.output_cost
    if output_cost is None:
        output_cost = cost(pricing.get("output"), usage.output_tokens)
    total = usage.total_cost
    if total is None and input_cost is not None and output_cost is not None:
        total = input_cost + output_cost
    return replace(usage, input_cost=input_cost, output_cost=output_cost, total_cost=total)


@dataclass
class _Job:
    """One image call between its arguments and its response."""

    engine: Any
    request: ImageRequest
    control: dict[str, Any]
    request_id: str
    adapter: Any = None
    call: Call | None = None
    policy: RetryPolicy | None = None
    model_ref: ModelRef | None = None

    @classmethod
    def create(cls, engine: Any, request: ImageRequest, control: dict[str, Any]) -> _Job:
        given = control.get("request_id")
        if given is not None and (not isinstance(given, str) or not given):
            raise ConfigurationError(
                "invalid_option", problems=["request_id must be a non-empty str"]
            )
        request_id = given or new_id()
        engine = apply_override(engine)
        if request.model is None and isinstance(engine, Engine) and engine.model is not None:
            request = replace(request, model=engine.model)
        return cls(engine, request, control, request_id)

    def span_metadata(self) -> dict[str, Any]:
        extra = self.control.get("telemetry_metadata")
        base = dict(extra) if isinstance(extra, Mapping) else {}
        base.update(
            request_id=self.request_id,
            engine=self.engine,
            model=self.request.model,
            operation=self.request.operation,
            n=self.request.n,
        )
        return base

    def preflight(self, span: telemetry.Span) -> Generator[Effect, Any, ImageResponse]:
        """Every check, in order; returns the plan (the adapter's first attempt already built)."""
        engine = self.engine
        if not isinstance(engine, Engine):
            raise ConfigurationError(
                "invalid_option", problems=[f"engine must be an Engine, got {engine!r}"]
            )
        if engine.image_adapter is None:
            raise EngineError(
                "no_image_adapter",
                "the engine has no image_adapter; set Engine(image_adapter='openai_images') "
                "(or 'fake_images', a class or an instance)",
            )
        adapter = resolve_adapter(engine.image_adapter)
        if not callable(getattr(adapter, "generate", None)) or not callable(
            getattr(adapter, "supported_operations", None)
        ):
            raise EngineError(
                "invalid_engine",
                f"image_adapter {adapter!r} is not an image adapter "
                "(it needs generate() and supported_operations())",
            )
        self.adapter = adapter
        problems: list[str] = []
        for key in ("adapter_opts", "telemetry_metadata"):
            value = self.control.get(key)
            if value is not None and not isinstance(value, Mapping):
                problems.append(f"{key} must be a mapping, got {value!r}")
        if problems:
            raise ConfigurationError("invalid_option", problems=problems)
        retry = self.control.get("retry")
        policy = policy_from(engine.retry if retry is None else retry)
        self.policy = widened(policy, IMAGE_RETRY_REASONS)

        model = self.request.model
        self.request = request = replace(self.request, model=_model_id(model, adapter))
        # Only the provider: tracers read an annotated ``request`` as a chat ``Request``.
        span.annotate(provider=getattr(adapter, "name", None))
        errors = validate.errors_image_request(request) + _input_errors(request)
        if errors:
            raise ValidationError("invalid_image_request", errors=errors)
        self.model_ref = ref = _catalog_ref(
            model if isinstance(model, ModelRef) else request.model, adapter
        )
        if ref is not None and ref.capabilities.get("image_generation") is False:
            raise ValidationError(
                "unsupported_capability",
                f"{ref} cannot generate images",
                errors=[(("model",), "image_generation_disabled")],
                metadata={"model": str(ref)},
            )
        operation = request.operation
        if operation not in adapter.supported_operations():
            raise ImageAdapterError(
                "unsupported_operation",
                f"image adapter {adapter!r} does not support {operation!r}",
                provider=getattr(adapter, "name", None),
                metadata={"operation": operation},
            )
        adapter_opts = dict(engine_opts_for(engine, adapter, [(engine.image_adapter, None)]))
        adapter_opts.update(self.control.get("adapter_opts") or {})
        for key in TRANSPORT_KEYS:
            if key in self.control:
                adapter_opts[key] = self.control[key]
        adapter_opts.setdefault("cursor_key", engine.id)
        self.call = Call(
            request_id=self.request_id,
            engine=engine,
            adapter_opts=adapter_opts,
            api_key=self.control.get("api_key") or None,
            retry=None,
            provider_settings=settings_for(adapter),
        )
        first = adapter.generate(request, self.call)  # the adapter's own pre-flight raises here
        record_request(request)
        return self._attempts(first)

    def _attempts(
        self, first: Generator[Effect, Any, ImageResponse]
    ) -> Generator[Effect, Any, ImageResponse]:
        adapter, request, call, policy = self.adapter, self.request, self.call, self.policy
        assert call is not None and policy is not None

        def attempt(number: int) -> Generator[Effect, Any, Outcome[ImageResponse]]:
            plan = first if number == 1 else adapter.generate(request, call)
            try:
                response = yield from plan
            except ImageAdapterError as exc:
                return Retry(exc, exc.retry_after_ms)
            return Ok(response)

        meta = {"provider": getattr(adapter, "name", None), "request_id": self.request_id}
        outcome = yield from retrying(policy, meta, attempt)
        if isinstance(outcome, Ok):
            return outcome.value
        raise outcome.error

    def complete(self, response: Any, span: telemetry.Span) -> ImageResponse:
        """The adapter's response with request id, metadata, model and costs filled in."""
        if not isinstance(response, ImageResponse):
            raise ImageAdapterError(
                "malformed_response",
                f"image adapter {self.adapter!r} returned {type(response).__name__}, "
                "not an ImageResponse",
                provider=getattr(self.adapter, "name", None),
            )
        parts = []
        for item in response.images:
            if isinstance(item, Image):
                item = ImagePart(item)
            if not isinstance(item, ImagePart):
                raise ImageAdapterError(
                    "malformed_response",
                    f"image adapter {self.adapter!r} returned {item!r} as an image",
                    provider=getattr(self.adapter, "name", None),
                )
            parts.append(item)
        completed: ImageResponse = replace(
            response,
            images=tuple(parts),
            request_id=response.request_id or self.request_id,
            model=response.model or self.request.model,
            metadata={**self.request.metadata, **response.metadata},
            usage=_with_costs(response.usage, self.model_ref),
        )
        span.stop_metadata.update(
            response=completed, usage=completed.usage, error=None, image_count=len(parts)
        )
        return completed

    @staticmethod
    def failed(span: telemetry.Span, error: AllmError) -> None:
        span.stop_metadata.update(response=None, usage=None, error=error, image_count=0)


def _job(engine: Any, request: ImageRequest, opts: Mapping[str, Any]) -> _Job:
    fields, control, params = _split(opts)
    return _Job.create(engine, _apply_fields(request, fields, params), control)


def _run_sync(job: _Job) -> ImageResponse:
    from . import _sync

    error: AllmError | None = None
    with telemetry.span("image", job.span_metadata()) as span:
        try:
            response = job.complete(_sync.run(job.preflight(span)), span)
        except AllmError as exc:
            _Job.failed(span, exc)
            error = exc
    if error is not None:
        raise error
    return response


async def _run_async(job: _Job) -> ImageResponse:
    from . import _async

    error: AllmError | None = None
    with telemetry.span("image", job.span_metadata()) as span:
        try:
            response = job.complete(await _async.run(job.preflight(span)), span)
        except AllmError as exc:
            _Job.failed(span, exc)
            error = exc
    if error is not None:
        raise error
    return response


def _generate_request(prompt: str | ImageRequest) -> ImageRequest:
    if isinstance(prompt, ImageRequest):
        return prompt
    return ImageRequest(operation="generate", prompt=prompt)


def _edit_request(image: Any, prompt: str, mask: Any) -> ImageRequest:
    return ImageRequest(
        operation="edit",
        prompt=prompt,
        input_images=_images_of(image),
        mask=None if mask is None else _image_of(mask),
    )


def _variation_request(image: Any) -> ImageRequest:
    return ImageRequest(operation="variation", input_images=_images_of(image))


# -- the public functions --------------------------------------------------------------------------


def generate_image(engine: Any, prompt: str | ImageRequest, **opts: Any) -> ImageResponse:
    """Images from a text prompt (or run a pre-built ``ImageRequest`` of any operation).

    Keyword Args:
        model (str): The image model (``"gpt-image-1"``); else the request's, else the engine's.
        n (int): How many images.
        size (str): ``"1024x1024"``, ``"auto"``, ...
        quality (str): ``"low"``, ``"medium"``, ``"high"``, ``"auto"``, ...
        style (str): ``"vivid"`` or ``"natural"`` (models that take it).
        background (str): ``"transparent"``, ``"opaque"`` or ``"auto"``.
        response_format (str): ``"b64_json"`` or ``"url"``.
        api_key (str): The key for this call only.
        request_id (str): The call's id in the response and in telemetry.
        adapter_opts (dict): Image adapter options for this call, over the engine's.
        timeout (float): HTTP timeout, seconds (also ``base_url``, ``headers``, ``http_client``).

    Any other keyword is a provider parameter (``output_format="webp"``). ``edit_image``,
    ``image_variation`` and the async twins take the same options.
    """
    return _run_sync(_job(engine, _generate_request(prompt), opts))


def edit_image(
    engine: Any, image: Any, prompt: str, mask: Any = None, **opts: Any
) -> ImageResponse:
    """Edit ``image`` (an ``ImagePart``, an ``Image``, a path, a URL or a data URI; a list gives
    several input images as they are) as ``prompt`` says; ``mask``'s transparent areas mark
    where."""
    return _run_sync(_job(engine, _edit_request(image, prompt, mask), opts))


def image_variation(engine: Any, image: Any, **opts: Any) -> ImageResponse:
    """Variations of one image (no prompt)."""
    return _run_sync(_job(engine, _variation_request(image), opts))


async def agenerate_image(engine: Any, prompt: str | ImageRequest, **opts: Any) -> ImageResponse:
    """The async twin of ``generate_image``."""
    return await _run_async(_job(engine, _generate_request(prompt), opts))


async def aedit_image(
    engine: Any, image: Any, prompt: str, mask: Any = None, **opts: Any
) -> ImageResponse:
    """The async twin of ``edit_image``."""
    return await _run_async(_job(engine, _edit_request(image, prompt, mask), opts))


async def aimage_variation(engine: Any, image: Any, **opts: Any) -> ImageResponse:
    """The async twin of ``image_variation``."""
    return await _run_async(_job(engine, _variation_request(image), opts))
