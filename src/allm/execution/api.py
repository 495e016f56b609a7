"""Layer C for single requests: ``generate`` / ``stream_generate`` and their async twins.

``generate`` is the fold of ``stream_generate`` through the ``StreamCollector``. A pre-flight
failure raises from the call; a failure after the stream opened is data: an ``ErrorEvent`` in the
stream and ``finish_reason == "error"`` with the error in ``metadata["error"]`` after the fold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .. import telemetry
from ..collector import StreamCollector
from ..data.response import FinishReason, Response
from ..data.results import ChatResult, StepResult
from ..errors import AllmError, ConfigurationError, NonStopFinishError
from . import _sync
from .attempts import AttemptLog, finish_response, prepare, prepare_generate
from .options import CALL_OPTION_KEYS, check_options
from .runner import Prepared, annotate, request_id_from, span_metadata
from .streams import AsyncEventStream, EventStream

if TYPE_CHECKING:
    from .options import CallOptions, Unpack

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
    if response.request_id != request_id:  # the adapter's plan already set it, as a rule
        response = replace(response, request_id=request_id)
    return log.finish(response)


def stream_generate(
    engine: Any, request: Any, **opts: Unpack[CallOptions]
) -> EventStream[Response]:
    """Stream one model call as events. Pre-flight failures raise here; nothing is sent yet.

    The stream is lazy (the request goes out when the first event is pulled), iterable, a
    context manager, and ``collect()`` folds what is left into a ``Response``.

    Args:
        engine: The ``allm.Engine`` to run with (adapter, model, tools, params, retry policy).
        request: A ``Request``, or a list of ``Message`` values.
        **opts: Call options (below); each wins over the request's field and the engine.

    Keyword Args:
        emit_text_deltas (bool): Pass ``TextDelta`` events to the consumer (default True).
        emit_tool_deltas (bool): Pass ``ToolCallDelta`` events (default True).
        include_raw_chunks (bool): Pass ``RawChunk`` events, each provider event among them
            (default False; usage always passes).
        on_event (Callable[[Event], None]): Sees every adapter event, before the filters.
        model (str): And every call option of ``generate`` (temperature, max_tokens, tools,
            tool_choice, response_format, logprobs, api_key, request_id, adapter_opts, base_url,
            headers, timeout, stream_timeout, http_client, provider_options).

    Returns:
        An ``EventStream`` of ``allm.events`` values.
    """
    check_options(opts, CALL_OPTION_KEYS)
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


def generate(
    engine: Any, request: Any, *, streaming: bool = True, **opts: Unpack[CallOptions]
) -> Response:
    """One model call, folded into a ``Response``.

    ``streaming=False`` takes the adapter's non-streaming path (one request, retried under the
    engine's policy); its failures are data too.

    A pre-flight problem (no adapter, an invalid request, a missing key) raises before any I/O. A
    failure after the request went out is data: ``finish_reason == "error"``, the error in
    ``metadata["error"]``, everything received before it kept; ``allm.unwrap`` raises it.

    Args:
        engine: The ``allm.Engine`` to run with (adapter, model, tools, params, retry policy).
        request: A ``Request``, or a list of ``Message`` values.
        streaming: ``False`` for the adapter's non-streaming path.
        **opts: Call options (below); each wins over the request's field and the engine.

    Keyword Args:
        model (str): ``"provider:id"`` (``"openai:gpt-4o-mini"``) or an id for the engine's adapter.
        temperature (float): Sampling temperature.
        max_tokens (int): The most output tokens.
        tools (list[Tool]): Tools the model may call, instead of the engine's.
        tool_choice (str | dict): ``"auto"``, ``"none"``, ``"required"`` or one named tool.
        response_format (dict): ``allm.json_schema(...)`` or ``{"type": "json_object"}``.
        logprobs (bool | int): Token log probabilities in ``Response.logprobs`` (an int: that
            many alternatives per token too); refused where the wire has none.
        api_key (str): The key for this call only; never stored, logged or shown.
        request_id (str): The call's id in the response and in telemetry.
        adapter_opts (dict): Adapter options for this call, over the engine's.
        base_url (str): The HTTP adapters' endpoint for this call.
        headers (dict): Extra request headers.
        timeout (float): Connect and read timeout, seconds.
        stream_timeout (float): The longest silence between two chunks, seconds (default 60).
        http_client (httpx.Client): A client to use instead of the adapter's pooled one.
        async_http_client (httpx.AsyncClient): The same, for the async API.
        emit_text_deltas (bool): Pass ``TextDelta`` events to the consumer (default True).
        emit_tool_deltas (bool): Pass ``ToolCallDelta`` events (default True).
        include_raw_chunks (bool): Pass ``RawChunk`` events (default False; usage always passes).
        on_event (Callable[[Event], None]): Sees every adapter event, before the filters.

    Every keyword is one of ``allm.CallOptions`` (an unknown one raises
    ``ConfigurationError("unknown_option")``); provider body parameters go in
    ``provider_options={"openai": {...}}``.

    Returns:
        The ``Response``: text, tool calls, finish reason, usage (with costs when a catalog is
        configured).
    """
    check_options(opts, CALL_OPTION_KEYS)
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


async def astream_generate(
    engine: Any, request: Any, **opts: Unpack[CallOptions]
) -> AsyncEventStream[Response]:
    """The async twin of ``stream_generate``: the same arguments and options; ``async for``.

    Args:
        engine: The ``allm.Engine`` to run with.
        request: A ``Request``, or a list of ``Message`` values.
        **opts: The options of ``stream_generate`` (model, temperature, max_tokens, tools,
            tool_choice, response_format, api_key, request_id, adapter_opts, the transport
            settings, the stream filters and ``on_event``).
    """
    from . import _async

    check_options(opts, CALL_OPTION_KEYS)
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


async def agenerate(
    engine: Any, request: Any, *, streaming: bool = True, **opts: Unpack[CallOptions]
) -> Response:
    """The async twin of ``generate``: the same arguments and options.

    Args:
        engine: The ``allm.Engine`` to run with.
        request: A ``Request``, or a list of ``Message`` values.
        streaming: ``False`` for the adapter's non-streaming path.
        **opts: The options of ``generate`` (model, temperature, max_tokens, tools,
            tool_choice, response_format, api_key, request_id, adapter_opts, the transport
            settings, the stream filters and ``on_event``).
    """
    from . import _async

    check_options(opts, CALL_OPTION_KEYS)
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
