"""Layer C for single requests: ``generate`` / ``stream_generate`` and their async twins.

``generate`` is the fold of ``stream_generate`` through the ``StreamCollector``. A pre-flight
failure raises from the call; a failure after the stream opened is data: an ``ErrorEvent`` in the
stream and ``finish_reason == "error"`` with the error in ``metadata["error"]`` after the fold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from .. import telemetry
from ..catalog import apply_costs
from ..collector import StreamCollector
from ..config import get_settings
from ..data.models import ModelRef
from ..data.response import FinishReason, Response
from ..errors import AllmError, ConfigurationError, NonStopFinishError
from . import _sync
from .runner import prepare, prepare_generate, request_id_from
from .streams import AsyncEventStream, EventStream

__all__ = ["agenerate", "astream_generate", "generate", "stream_generate", "unwrap"]


def _span_metadata(
    engine: Any, request: Any, opts: dict[str, Any], request_id: str
) -> dict[str, Any]:
    model = opts.get("model") or getattr(request, "model", None) or getattr(engine, "model", None)
    model = model or get_settings().params.get("model")
    return {"request_id": request_id, "engine": engine, "model": model}


def _annotate(span: telemetry.Span, request: Any, call: Any, adapter: Any) -> None:
    """Tell tracers (the OpenTelemetry bridge) the final request, its parameters and provider."""
    if span.observed:
        span.annotate(request=request, params=call.params, provider=getattr(adapter, "name", None))


def _finish(model_ref: ModelRef | None) -> Callable[[StreamCollector], Response]:
    def project(collector: StreamCollector) -> Response:
        return _with_costs(collector.to_response(), model_ref)

    return project


def _with_costs(response: Response, model_ref: ModelRef | None) -> Response:
    usage = apply_costs(response.usage, model_ref)
    return response if usage is response.usage else replace(response, usage=usage)


def _failed(error: AllmError, request_id: str) -> Response:
    return Response(
        request_id=request_id,
        output_text="",
        finish_reason=FinishReason.ERROR,
        metadata={"error": error},
    )


def stream_generate(engine: Any, request: Any, **opts: Any) -> EventStream[Response]:
    """Stream one model call as events. Pre-flight failures raise here; nothing is sent yet."""
    request_id = request_id_from(opts)
    with telemetry.span("stream", _span_metadata(engine, request, opts, request_id)) as span:
        prepared = prepare(engine, request, opts, request_id)
        span.stop_metadata["response"] = None
        _annotate(span, prepared.request, prepared.call, prepared.adapter)
    events = _sync.drive(prepared.plan, prepared.event_filter)
    return EventStream(
        events,
        lambda: StreamCollector(request_id=request_id),
        _finish(prepared.model_ref),
        request_id,
    )


def generate(engine: Any, request: Any, *, streaming: bool = True, **opts: Any) -> Response:
    """One model call, folded into a ``Response``.

    ``streaming=False`` takes the adapter's non-streaming path (one request, retried under the
    engine's policy); its failures are data too.
    """
    request_id = request_id_from(opts)
    opts["request_id"] = request_id
    with telemetry.span("generate", _span_metadata(engine, request, opts, request_id)) as span:
        if streaming:
            response = stream_generate(engine, request, **opts).collect()
        else:
            adapter, final, call, model_ref = prepare_generate(engine, request, opts, request_id)
            _annotate(span, final, call, adapter)
            plan = adapter.generate(final, call)  # the adapter's own pre-flight raises here
            try:
                response = _sync.run(plan)
            except ConfigurationError:
                raise  # a programmer error (a bad option or script) is never data
            except AllmError as exc:
                response = _failed(exc, request_id)
            response = _with_costs(replace(response, request_id=request_id), model_ref)
        span.stop_metadata["response"] = response
    return response


async def astream_generate(engine: Any, request: Any, **opts: Any) -> AsyncEventStream[Response]:
    """The async twin of ``stream_generate``."""
    from . import _async

    request_id = request_id_from(opts)
    with telemetry.span("stream", _span_metadata(engine, request, opts, request_id)) as span:
        prepared = prepare(engine, request, opts, request_id)
        span.stop_metadata["response"] = None
        _annotate(span, prepared.request, prepared.call, prepared.adapter)
    events = _async.drive(prepared.plan, prepared.event_filter)
    return AsyncEventStream(
        events,
        lambda: StreamCollector(request_id=request_id),
        _finish(prepared.model_ref),
        request_id,
        prepared.plan,
    )


async def agenerate(engine: Any, request: Any, *, streaming: bool = True, **opts: Any) -> Response:
    """The async twin of ``generate``."""
    from . import _async

    request_id = request_id_from(opts)
    opts["request_id"] = request_id
    with telemetry.span("generate", _span_metadata(engine, request, opts, request_id)) as span:
        if streaming:
            stream = await astream_generate(engine, request, **opts)
            response = await stream.collect()
        else:
            adapter, final, call, model_ref = prepare_generate(engine, request, opts, request_id)
            _annotate(span, final, call, adapter)
            plan = adapter.generate(final, call)  # the adapter's own pre-flight raises here
            try:
                response = await _async.run(plan)
            except ConfigurationError:
                raise  # a programmer error (a bad option or script) is never data
            except AllmError as exc:
                response = _failed(exc, request_id)
            response = _with_costs(replace(response, request_id=request_id), model_ref)
        span.stop_metadata["response"] = response
    return response


def unwrap(response: Response) -> str:
    """The response's text, or raise: the folded error, or ``NonStopFinishError``."""
    reason = response.finish_reason
    if reason is FinishReason.ERROR:
        error = response.metadata.get("error")
        if isinstance(error, BaseException):
            raise error
        raise NonStopFinishError("non_stop_finish", finish_reason="error", cause=error)
    if reason is not FinishReason.STOP:
        raise NonStopFinishError(
            "non_stop_finish", finish_reason=None if reason is None else reason.value
        )
    text = response.text
    if text is None:
        message = response.message
        if message is not None and isinstance(message.content, tuple):
            raise NonStopFinishError("structured_content", finish_reason="stop")
        raise NonStopFinishError("empty_stop_response", finish_reason="stop")
    return text
