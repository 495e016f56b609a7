"""The OpenTelemetry bridge: allm's spans as GenAI semantic-convention spans, plus the two GenAI
client metrics. Needs ``opentelemetry-api`` (the ``otel`` extra); ``import allm`` never loads it.

    from allm.telemetry import otel
    otel.instrument()                 # the global tracer and meter providers
    otel.instrument(tracer_provider=tp, meter_provider=mp, capture_content=True)
    otel.uninstrument()               # back to no spans and no cost

Which allm span becomes which GenAI span (name, kind, attributes) is listed in
``docs/design/telemetry.md``.

Every span has ``gen_ai.provider.name`` (and the older ``gen_ai.system``) when the provider is
known, ``gen_ai.request.model``, the request parameters (``gen_ai.request.temperature``,
``max_tokens``, ``top_p``, ...), ``gen_ai.response.model`` / ``id`` / ``finish_reasons``, the
token usage (``gen_ai.usage.input_tokens``, ``output_tokens``, ``cache_read.input_tokens``,
``cache_creation.input_tokens``, ``reasoning.output_tokens``), the costs a catalog filled in
(``allm.usage.*_cost``), ``allm.request_id`` and ``allm.span``. A failed call (an exception, or a
response folded with ``finish_reason="error"``) has ``error.type`` (the allm error's reason, or
the exception's class) and an ERROR status. Message content (``gen_ai.input.messages``,
``gen_ai.output.messages``, ``gen_ai.system_instructions``, tool arguments and results) is recorded
only with ``capture_content=True``.

Metrics: ``gen_ai.client.operation.duration`` (seconds) and ``gen_ai.client.token.usage``
(tokens, ``gen_ai.token.type`` input / output), histograms with the conventions' buckets, one
record per model call (``generate``, and each ``step``, timed up to its first tool).

Nesting: a chat span holds its step spans, which hold their tool spans, through explicit parents
captured when each span starts; spans of other libraries made while a ``generate``, a ``chat``
(``chat``/``achat``), a step of such a chat, or a tool runs nest under allm's span too. A streamed
chat (``stream``/``astream``) or step (``stream_step``) runs in the consumer's hands: its step
spans start when the consumer pulls, under whatever span is current there, and hold their tools.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

try:
    from opentelemetry import context as otel_context
    from opentelemetry import metrics as otel_metrics
    from opentelemetry import trace as otel_trace
    from opentelemetry.trace import SpanKind, Status, StatusCode
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "allm.telemetry.otel needs opentelemetry-api: pip install 'allm-py[otel]'"
    ) from exc

from .._version import __version__
from ..data.output import OutputSpec
from ..model_refs import split_model_ref
from . import Span, add_tracer, current_span, remove_tracer
from .otel_surfaces import SURFACE_SPANS, mcp_attributes, surface_attributes

__all__ = ["instrument", "is_instrumented", "uninstrument"]

_SCOPE = "allm"
_SCHEMA_URL = "https://opentelemetry.io/schemas/1.37.0"
_DURATION_BUCKETS = tuple(0.01 * 2**power for power in range(14))  # 0.01, 0.02, ... 81.92
_TOKEN_BUCKETS = tuple(float(4**power) for power in range(14))  # 1, 4, 16, ... 67108864

_OPERATIONS = {
    "generate": "chat",
    "stream": "chat",
    "step": "chat",
    "chat": "invoke_agent",
    "tool": "execute_tool",
    "image": "generate_content",
    "embed": "embeddings",
    "moderate": "moderation",  # no GenAI name exists for it; the conventions allow custom ones
    "synthesize": "text_to_speech",
    "transcribe": "speech_to_text",
    "classify": "classify",  # likewise; its generate span is the model call
    "mcp": "execute_tool",
    "batch": "batch",  # a provider batch job's control call (submit, get, cancel, results)
}
# Model calls and MCP requests are CLIENT spans; the loop, a tool and a classification (around its
# chat) INTERNAL.
_INTERNAL = frozenset({"chat", "tool", "classify"})
_KINDS = {name: SpanKind.INTERNAL if name in _INTERNAL else SpanKind.CLIENT for name in _OPERATIONS}
# allm provider name -> (gen_ai.provider.name, gen_ai.system); others are used as they are.
_PROVIDERS = {
    "openai": ("openai", "openai"),
    "anthropic": ("anthropic", "anthropic"),
    "gemini": ("gcp.gemini", "gemini"),
}
# provider parameters -> (attribute, type)
_PARAMETERS: dict[str, tuple[str, type]] = {
    "top_p": ("gen_ai.request.top_p", float),
    "top_k": ("gen_ai.request.top_k", float),
    "frequency_penalty": ("gen_ai.request.frequency_penalty", float),
    "presence_penalty": ("gen_ai.request.presence_penalty", float),
    "seed": ("gen_ai.request.seed", int),
    "n": ("gen_ai.request.choice.count", int),
}
_USAGE = (
    ("input_tokens", "gen_ai.usage.input_tokens"),
    ("output_tokens", "gen_ai.usage.output_tokens"),
    ("cached_input_tokens", "gen_ai.usage.cache_read.input_tokens"),
    ("cache_write_input_tokens", "gen_ai.usage.cache_creation.input_tokens"),
    ("reasoning_tokens", "gen_ai.usage.reasoning.output_tokens"),
)
_COSTS = (
    ("input_cost", "allm.usage.input_cost"),
    ("output_cost", "allm.usage.output_cost"),
    ("total_cost", "allm.usage.total_cost"),
)


@dataclass(eq=False)
class _State:
    """The bridge's view of one allm span."""

    name: str
    span: Any = None  # the OpenTelemetry span (None for a stream inside a generate)
    token: Any = None  # the context token, when the span was made current
    forward: _State | None = None  # a stream inside a generate reports to the generate
    provider: str | None = None
    request_model: str | None = None
    model_done_ns: int | None = None  # a step's model call ends when its first tool starts
    ended: bool = False


def _provider_names(provider: str) -> tuple[str, str]:
    """``(gen_ai.provider.name, gen_ai.system)`` for an allm provider name."""
    return _PROVIDERS.get(provider, (provider, provider))


def _number(value: Any, kind: type) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return kind(value)


def _error_type(error: Any) -> str:
    if isinstance(error, str):
        return error
    reason = getattr(error, "reason", None)
    if isinstance(reason, str) and reason and getattr(error, "kind", None) is not None:
        return reason  # an allm error: its closed reason is the low-cardinality identifier
    cls = error if isinstance(error, type) else type(error)
    module = cls.__module__
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"


def _model_name(model: Any) -> str | None:
    if model is None:
        return None
    if isinstance(model, tuple) and len(model) == 2:
        return str(model[1])
    model_id = getattr(model, "id", None)  # a ModelRef
    if isinstance(model_id, str):
        return model_id
    if isinstance(model, str):
        return str(split_model_ref(model)[1])
    return str(model)


def _provider_of(engine: Any, model: Any) -> str | None:
    provider = getattr(model, "provider", None)  # a ModelRef
    if isinstance(provider, str):
        return provider
    adapter = getattr(engine, "adapter", None)
    if isinstance(adapter, str):
        return adapter
    name = getattr(adapter, "name", None)
    if isinstance(name, str):
        return name
    if isinstance(model, tuple) and len(model) == 2:
        return str(model[0])
    if isinstance(model, str):
        return split_model_ref(model)[0]
    return None


def _json(value: Any) -> str:
    return json.dumps(value, default=repr, ensure_ascii=False)


def _parts(message: Any) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    content = message.content
    role = getattr(message.role, "value", message.role)
    if role == "tool":
        return [{"type": "tool_call_response", "id": message.tool_call_id, "response": content}]
    if isinstance(content, str):
        if content:
            parts.append({"type": "text", "content": content})
    else:
        for part in content:
            text = getattr(part, "text", None)
            image = getattr(part, "image", None)
            if isinstance(text, str):
                parts.append({"type": "text", "content": text})
            elif image is not None:
                source = image.source
                if getattr(source, "type", None) == "url":
                    parts.append({"type": "uri", "modality": "image", "uri": source.value})
                else:  # inline bytes stay out of telemetry
                    parts.append(
                        {"type": "blob", "modality": "image", "mime_type": image.mime_type}
                    )
    for call in message.tool_calls:
        parts.append(
            {"type": "tool_call", "id": call.id, "name": call.name, "arguments": call.arguments}
        )
    return parts


def _input_messages(messages: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    system: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    for message in messages:
        role = getattr(message.role, "value", message.role)
        if role == "system":
            system.extend(_parts(message))
        else:
            history.append({"role": role, "parts": _parts(message)})
    return system, history


def _output_messages(response: Any) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    if response.reasoning:
        parts.append({"type": "reasoning", "content": response.reasoning})
    if response.output_text:
        parts.append({"type": "text", "content": response.output_text})
    for call in response.tool_calls:
        parts.append(
            {"type": "tool_call", "id": call.id, "name": call.name, "arguments": call.arguments}
        )
    finish = getattr(response.finish_reason, "value", response.finish_reason)
    return [{"role": "assistant", "parts": parts, "finish_reason": finish}]


class _Bridge:
    """A telemetry tracer turning allm spans into OpenTelemetry spans and metrics."""

    def __init__(self, tracer: Any, meter: Any, capture_content: bool) -> None:
        self.tracer = tracer
        self.capture = capture_content
        self.duration = meter.create_histogram(
            "gen_ai.client.operation.duration",
            unit="s",
            description="GenAI operation duration.",
            explicit_bucket_boundaries_advisory=_DURATION_BUCKETS,
        )
        self.tokens = meter.create_histogram(
            "gen_ai.client.token.usage",
            unit="{token}",
            description="Number of input and output tokens used.",
            explicit_bucket_boundaries_advisory=_TOKEN_BUCKETS,
        )
        self._lock = threading.Lock()
        self._tools: dict[int, _State] = {}

    # -- where a span hangs ------------------------------------------------------------------

    def _state_of(self, span: Span | None) -> _State | None:
        while span is not None:
            state = span.tracer_state(self)
            if isinstance(state, _State) and state.span is not None and not state.ended:
                return state
            span = span.parent
        return None

    # -- the tracer protocol -----------------------------------------------------------------

    def start_span(self, span: Span) -> _State:
        name = span.name
        parent = self._state_of(span.parent)
        if name == "stream" and parent is not None and parent.name == "generate":
            return _State(name, forward=parent)  # the same request as the generate's
        metadata = span.metadata
        operation = _OPERATIONS[name]
        attributes: dict[str, Any] = {"gen_ai.operation.name": operation, "allm.span": name}
        request_id = metadata.get("request_id")
        if request_id is not None:
            attributes["allm.request_id"] = str(request_id)
        state = _State(name)
        call = metadata.get("tool_call")
        if name == "tool":
            tool = metadata.get("tool")
            tool_name = getattr(tool, "name", None) or getattr(call, "name", None) or "tool"
            attributes["gen_ai.tool.name"] = tool_name
            attributes["gen_ai.tool.type"] = "function"
            call_id = getattr(call, "id", None)
            if call_id:
                attributes["gen_ai.tool.call.id"] = str(call_id)
            description = getattr(tool, "description", None)
            if description:
                attributes["gen_ai.tool.description"] = str(description)
            if self.capture and call is not None:
                attributes["gen_ai.tool.call.arguments"] = _json(call.arguments)
            title = f"execute_tool {tool_name}"
        elif name == "mcp":
            title = mcp_attributes(attributes, metadata)
        else:
            model = metadata.get("model")
            state.request_model = _model_name(model)
            state.provider = metadata.get("provider") or _provider_of(metadata.get("engine"), model)
            self._provider_attributes(attributes, state.provider)
            if state.request_model:
                attributes["gen_ai.request.model"] = state.request_model
            title = operation
            if name != "chat" and state.request_model:
                title = f"{operation} {state.request_model}"
        context = None if parent is None else otel_trace.set_span_in_context(parent.span)
        state.span = self.tracer.start_span(
            title, context=context, kind=_KINDS[name], attributes=attributes
        )
        # Make the span current for other libraries only where it surely ends in this context,
        # in order: every span but a step, and a step inside a running (non-streamed) chat.
        if name != "step" or (
            parent is not None and parent.name == "chat" and parent.token is not None
        ):
            state.token = otel_context.attach(otel_trace.set_span_in_context(state.span))
        if name == "tool":
            if parent is not None and parent.name == "step" and parent.model_done_ns is None:
                parent.model_done_ns = time.monotonic_ns()
            if call is not None:
                with self._lock:
                    self._tools[id(call)] = state
        return state

    def end_span(self, span: Span, state: _State, error: BaseException | None) -> None:
        if state.forward is not None:
            return  # its annotations went to the generate span (see allm.telemetry.Span)
        try:
            with self._lock:
                if state.ended:
                    return
                state.ended = True
                key = id(span.metadata.get("tool_call"))
                if span.name == "tool" and self._tools.get(key) is state:
                    del self._tools[key]
            self._finish(span, state, error)
        finally:
            if state.token is not None:
                otel_context.detach(state.token)

    # -- plain events: retries, timed-out tools ------------------------------------------------

    def on_event(
        self, name: str, measurements: Mapping[str, Any], metadata: Mapping[str, Any]
    ) -> None:
        if name == "allm.adapter.retry":
            state = self._state_of(current_span())
            if state is not None:
                state.span.add_event(
                    "allm.adapter.retry",
                    {
                        "allm.retry.attempt": int(metadata.get("attempt") or 0),
                        "allm.retry.delay_ms": float(metadata.get("delay_ms") or 0),
                        "allm.retry.reason": str(metadata.get("reason")),
                    },
                )
            return
        if name == "allm.tool.exception" and metadata.get("kind") == "exit":
            # A tool that ran past its timeout: its worker may still be running; the span ends now.
            with self._lock:
                state = self._tools.pop(id(metadata.get("tool_call")), None)
                if state is None or state.ended:
                    return
                state.ended = True
            reason = str(metadata.get("reason"))
            state.span.set_attribute("error.type", reason)
            state.span.set_status(Status(StatusCode.ERROR, reason))
            state.span.end()

    # -- attributes ----------------------------------------------------------------------------

    @staticmethod
    def _provider_attributes(attributes: dict[str, Any], provider: str | None) -> None:
        if provider:
            name, system = _provider_names(provider)
            attributes["gen_ai.provider.name"] = name
            attributes["gen_ai.system"] = system

    def _apply_request(self, state: _State, annotations: Mapping[str, Any]) -> None:
        provider = annotations.get("provider")
        if isinstance(provider, str) and provider:
            state.provider = provider
        request = annotations.get("request")
        model = getattr(request, "model", None)
        if isinstance(model, str) and model:
            state.request_model = _model_name(model)
        if not state.span.is_recording():
            return  # the metrics still need the provider and the model; the span needs nothing
        attributes: dict[str, Any] = {}
        if state.provider:
            self._provider_attributes(attributes, state.provider)
        if request is not None:
            if isinstance(model, str) and model:
                attributes["gen_ai.request.model"] = state.request_model
                if state.name != "chat":
                    state.span.update_name(f"{_OPERATIONS[state.name]} {state.request_model}")
            temperature = _number(request.temperature, float)
            if temperature is not None:
                attributes["gen_ai.request.temperature"] = temperature
            max_tokens = _number(request.max_tokens, int)
            if max_tokens is not None:
                attributes["gen_ai.request.max_tokens"] = max_tokens
            response_format = request.response_format
            if (
                isinstance(response_format, Mapping)
                and response_format.get("type") in ("json_schema", "json_object")
            ) or isinstance(response_format, OutputSpec):
                attributes["gen_ai.output.type"] = "json"
            if self.capture:
                system, history = _input_messages(request.messages)
                attributes["gen_ai.input.messages"] = _json(history)
                if system:
                    attributes["gen_ai.system_instructions"] = _json(system)
        params = dict(annotations.get("params") or {})
        for name in ("top_p", "seed", "stop"):  # the neutral request fields (W1)
            value = getattr(request, name, None)
            if value not in (None, ()):
                params[name] = value
        for key in params.keys() & _PARAMETERS.keys():
            attribute, kind = _PARAMETERS[key]
            value = _number(params[key], kind)
            if value is not None:
                attributes[attribute] = value
        stop = params.get("stop")
        if isinstance(stop, str):
            attributes["gen_ai.request.stop_sequences"] = (stop,)
        elif isinstance(stop, list | tuple) and all(isinstance(item, str) for item in stop):
            attributes["gen_ai.request.stop_sequences"] = tuple(stop)
        if attributes:
            state.span.set_attributes(attributes)

    def _response_attributes(self, response: Any, with_usage: bool = True) -> dict[str, Any]:
        attributes: dict[str, Any] = {}
        if response.id:
            attributes["gen_ai.response.id"] = str(response.id)
        if response.model:
            attributes["gen_ai.response.model"] = str(response.model)
        finish = response.finish_reason
        if finish is not None:
            attributes["gen_ai.response.finish_reasons"] = (getattr(finish, "value", finish),)
        if with_usage:
            attributes.update(self._usage_attributes([response.usage]))
        if self.capture:
            attributes["gen_ai.output.messages"] = _json(_output_messages(response))
        return attributes

    @staticmethod
    def _usage_attributes(usages: list[Any]) -> dict[str, Any]:
        attributes: dict[str, Any] = {}
        for field_name, attribute in (*_USAGE, *_COSTS):
            values = [getattr(usage, field_name, None) for usage in usages]
            known = [value for value in values if value is not None]
            if known:
                attributes[attribute] = sum(known)
        return attributes

    # -- the end of a span -------------------------------------------------------------------

    def _finish(self, span: Span, state: _State, error: BaseException | None) -> None:
        otel_span = state.span
        recording = otel_span.is_recording()
        self._apply_request(state, span.annotations)
        stop = span.stop_metadata
        error_type: str | None = None
        response = None
        if span.name in ("generate", "stream", "image"):
            response = stop.get("response")
        elif span.name == "step":
            response = getattr(stop.get("step_result"), "response", None)
        if response is not None and hasattr(response, "finish_reason"):
            if recording:
                otel_span.set_attributes(self._response_attributes(response))
            if getattr(response.finish_reason, "value", None) == "error":
                error_type = _error_type(response.metadata.get("error") or "error")
        result = stop.get("chat_result")
        if span.name == "chat" and result is not None:
            if recording:
                attributes = self._usage_attributes([step.response.usage for step in result.steps])
                if result.final_response is not None:
                    final = self._response_attributes(result.final_response, with_usage=False)
                    attributes.update(final)
                attributes["allm.chat.halted_reason"] = str(result.halted_reason)
                attributes["allm.chat.steps"] = len(result.steps)
                otel_span.set_attributes(attributes)
            if result.halted_reason == "error":
                error_type = _error_type(result.metadata.get("error") or "error")
        if span.name in SURFACE_SPANS:
            failure = stop.get("error")  # these calls report their failure as stop metadata
            if failure is not None:
                error_type = _error_type(failure)
            if recording:
                otel_span.set_attributes(
                    surface_attributes(
                        span.name, span.metadata, stop, self._usage_attributes, self.capture
                    )
                )
        if span.name == "mcp" and stop.get("error") is not None:
            error_type = _error_type(stop["error"])  # an MCP request reports its failure as data
        if span.name == "tool" and "result" in stop:
            outcome = stop["result"]
            if getattr(outcome, "kind", None) == "tool":  # a ToolError
                error_type = _error_type(outcome)
            elif type(outcome).__name__ == "ToolFailure":
                error_type = "tool_failure"
            elif self.capture and recording:
                otel_span.set_attribute("gen_ai.tool.call.result", _json(outcome))
        if error is not None:
            error_type = _error_type(error)
            if recording:
                otel_span.record_exception(error)
        if error_type is not None and recording:
            otel_span.set_attribute("error.type", error_type)
            otel_span.set_status(Status(StatusCode.ERROR, error_type))
        otel_span.end()
        if span.name in ("generate", "step", "embed", "moderate", "synthesize", "transcribe"):
            self._record_metrics(span, state, stop.get("response") or response, error_type)

    def _record_metrics(
        self, span: Span, state: _State, response: Any, error_type: str | None
    ) -> None:
        attributes: dict[str, Any] = {"gen_ai.operation.name": _OPERATIONS[span.name]}
        if state.provider:
            attributes["gen_ai.provider.name"] = _provider_names(state.provider)[0]
        if state.request_model:
            attributes["gen_ai.request.model"] = state.request_model
        if response is not None and getattr(response, "model", None):
            attributes["gen_ai.response.model"] = str(response.model)
        if error_type is not None:
            attributes["error.type"] = error_type
        if state.model_done_ns is not None:
            seconds = max(state.model_done_ns - span.start_ns, 0) / 1e9
        else:
            seconds = span.duration or 0.0
        self.duration.record(seconds, attributes)
        usage = getattr(response, "usage", None)
        for kind, count in (
            ("input", getattr(usage, "input_tokens", None)),
            ("output", getattr(usage, "output_tokens", None)),
        ):
            if isinstance(count, int):
                self.tokens.record(count, {**attributes, "gen_ai.token.type": kind})


_lock = threading.Lock()
_bridge: _Bridge | None = None


def instrument(
    tracer_provider: Any = None, meter_provider: Any = None, capture_content: bool = False
) -> None:
    """Emit OpenTelemetry spans and metrics for every allm call from now on.

    ``tracer_provider`` / ``meter_provider`` default to the global ones. Message content (inputs,
    outputs, tool arguments and results) is recorded only with ``capture_content=True``. Calling
    it again replaces the previous instrumentation.
    """
    global _bridge
    tracer = otel_trace.get_tracer(
        _SCOPE, __version__, tracer_provider=tracer_provider, schema_url=_SCHEMA_URL
    )
    meter = otel_metrics.get_meter(
        _SCOPE, __version__, meter_provider=meter_provider, schema_url=_SCHEMA_URL
    )
    bridge = _Bridge(tracer, meter, bool(capture_content))
    with _lock:
        _uninstrument_locked()
        add_tracer(bridge)
        _bridge = bridge


def _uninstrument_locked() -> None:
    global _bridge
    if _bridge is not None:
        remove_tracer(_bridge)
        _bridge = None


def uninstrument() -> None:
    """Stop emitting spans and metrics. Spans already started still end normally."""
    with _lock:
        _uninstrument_locked()


def is_instrumented() -> bool:
    """Whether ``instrument`` is in force."""
    return _bridge is not None
