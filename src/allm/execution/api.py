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
from ..collector import StreamCollector
from ..data.response import FinishReason, Response
from ..data.results import ChatResult, StepResult
from ..errors import AllmError, ConfigurationError, NonStopFinishError
from . import _sync
from .attempts import AttemptLog, finish_response, prepare, prepare_generate
from .runner import Prepared, annotate, request_id_from, span_metadata
from .streams import AsyncEventStream, EventStream

__all__ = ["agenerate", "astream_generate", "generate", "stream_generate", "unwrap"]


def _finish(prepared: Prepared) -> Callable[[StreamCollector], Response]:
    def project(collector: StreamCollector) -> Response:
        return finish_response(collector.to_response(), prepared)

    return project


def _failed(error: AllmError, request_id: str) -> Response:
    return Response(
        request_id=request_id,
        output_text="",
        finish_reason=FinishReason.ERROR,
        metadata={"error": error},
    )


def _whole(response: Response, request_id: str, log: AttemptLog) -> Response:
    return log.finish(replace(response, request_id=request_id))


def stream_generate(engine: Any, request: Any, **opts: Any) -> EventStream[Response]:
    """Stream one model call as events. Pre-flight failures raise here; nothing is sent yet."""
    request_id = request_id_from(opts)
    with telemetry.span("stream", span_metadata(engine, request, opts, request_id)) as span:
        prepared = prepare(engine, request, opts, request_id)
        span.stop_metadata["response"] = None
        annotate(span, prepared.request, prepared.call, prepared.adapter)
    events = _sync.drive(prepared.plan, prepared.event_filter)
    return EventStream(
        events,
        lambda: StreamCollector(request_id=request_id),
        _finish(prepared),
        request_id,
    )


def generate(engine: Any, request: Any, *, streaming: bool = True, **opts: Any) -> Response:
    """One model call, folded into a ``Response``.

    ``streaming=False`` takes the adapter's non-streaming path (one request, retried under the
    engine's policy); its failures are data too.
    """
    request_id = request_id_from(opts)
    opts["request_id"] = request_id
    with telemetry.span("generate", span_metadata(engine, request, opts, request_id)) as span:
        if streaming:
            response = stream_generate(engine, request, **opts).collect()
        else:
            # the adapter's own pre-flight raises here
            planned, plan, log = prepare_generate(engine, request, opts, request_id)
            annotate(span, planned.request, planned.call, planned.adapter)
            try:
                response = _sync.run(plan)
            except ConfigurationError:
                raise  # a programmer error (a bad option or script) is never data
            except AllmError as exc:
                response = _failed(exc, request_id)
            response = _whole(response, request_id, log)
        span.stop_metadata["response"] = response
    return response


async def astream_generate(engine: Any, request: Any, **opts: Any) -> AsyncEventStream[Response]:
    """The async twin of ``stream_generate``."""
    from . import _async

    request_id = request_id_from(opts)
    with telemetry.span("stream", span_metadata(engine, request, opts, request_id)) as span:
        prepared = prepare(engine, request, opts, request_id)
        span.stop_metadata["response"] = None
        annotate(span, prepared.request, prepared.call, prepared.adapter)
    events = _async.drive(prepared.plan, prepared.event_filter)
    return AsyncEventStream(
        events,
        lambda: StreamCollector(request_id=request_id),
        _finish(prepared),
        request_id,
        prepared.plan,
    )


async def agenerate(engine: Any, request: Any, *, streaming: bool = True, **opts: Any) -> Response:
    """The async twin of ``generate``."""
    from . import _async

    request_id = request_id_from(opts)
    opts["request_id"] = request_id
    with telemetry.span("generate", span_metadata(engine, request, opts, request_id)) as span:
        if streaming:
            stream = await astream_generate(engine, request, **opts)
            response = await stream.collect()
        else:
            # the adapter's own pre-flight raises here
            planned, plan, log = prepare_generate(engine, request, opts, request_id)
            annotate(span, planned.request, planned.call, planned.adapter)
            try:
                response = await _async.run(plan)
            except ConfigurationError:
                raise  # a programmer error (a bad option or script) is never data
            except AllmError as exc:
                response = _failed(exc, request_id)
            response = _whole(response, request_id, log)
        span.stop_metadata["response"] = response
    return response


def unwrap(result: Response | StepResult | ChatResult) -> str:
    """The response's text, or raise: the folded error, or ``NonStopFinishError``.

    A ``StepResult`` unwraps its ``response``, a ``ChatResult`` its ``final_response``; a chat
    that halted on an error raises that error even when its last response did not fail.
    """
    if isinstance(result, ChatResult):
        error = result.metadata.get("error")
        if isinstance(error, AllmError) and result.halted_reason == "error":
            raise error
        response = result.final_response or Response()
    elif isinstance(result, StepResult):
        response = result.response
    else:
        response = result
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
