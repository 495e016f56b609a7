"""The stream runner's pure part: every pre-flight check and option resolution, no I/O.

``plan_call`` turns ``(engine, request, **opts)`` into a ``CallPlan``: the adapter, the final
request, the adapter's ``Call`` and the stream filter (``attempts.prepare`` opens its stream). Anything wrong
raises here, before a stream exists. The sync and async drivers only run what it returns.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from .. import telemetry, validate
from .._hooks import apply_override, record_request
from ..adapters import TRANSPORT_KEYS, Call
from ..adapters.options import scoped_options
from ..catalog import apply_costs, check_capabilities, resolve_model_ref
from ..config import get_settings
from ..data.messages import Message
from ..data.models import ModelRef
from ..data.request import Request
from ..data.response import Response
from ..effects import Effect
from ..engine import ENGINE_FIELD_KEYS, Engine, new_id
from ..errors import ConfigurationError, EngineError, ValidationError
from ..events import Event, RawChunk, TextDelta, ToolCallDelta
from ..middleware import MiddlewareContext, transform_request
from ..model_refs import model_ref_problem, split_model_ref
from ..output import OutputSpec, as_spec, output_retries, resolve, resolve_mode
from ..registry import registered_names, resolve_adapter
from ..retry import policy_from
from .options import merged_provider_options

__all__ = [
    "ORCHESTRATION_KEYS",
    "REQUEST_FIELD_KEYS",
    "STREAM_KEYS",
    "CallPlan",
    "EventFilter",
    "Prepared",
    "generate_plan",
    "stream_plan",
    "annotate",
    "engine_opts_for",
    "model_ref_problem",
    "plan_call",
    "resolve_engine_adapter",
    "settings_for",
    "span_metadata",
    "split_model_ref",
    "with_costs",
]

_log = logging.getLogger("allm")

STREAM_KEYS = frozenset({"emit_text_deltas", "emit_tool_deltas", "include_raw_chunks", "on_event"})
# Chat-loop options: meaningless for one request, and a function would break a JSON body.
ORCHESTRATION_KEYS = frozenset(
    {
        "mode",
        "max_turns",
        "halt_when",
        "on_tool_error",
        "tool_timeout",
        "max_concurrency",
        "structured_finalize_nudge",
        "tool_executor",
        "tool_result_encoder",
        "context",
        "session_id",
        "prepare_step",
        "history",
    }
)
# The neutral fields every wire translates or refuses (docs/requests.md).
NEUTRAL_KEYS = (
    "stop",
    "top_p",
    "seed",
    "parallel_tool_calls",
    "logprobs",
    "reasoning",
    "prompt_cache",
)
# Call keywords that override the request's own fields (call keyword > request field > engine).
REQUEST_FIELD_KEYS = frozenset(
    {
        "model",
        "tools",
        "tool_choice",
        "temperature",
        "max_tokens",
        "response_format",
        "structured_finalize",
        *NEUTRAL_KEYS,
    }
)
_CONTROL_KEYS = frozenset(
    {"request_id", "api_key", "adapter_opts", "streaming", "fallback_on", "provider_options"}
)
OUTPUT_KEYS = frozenset({"output_retries"})
# Keys that never reach the body as provider parameters, whatever set them.
_NOT_PARAMS = REQUEST_FIELD_KEYS | ORCHESTRATION_KEYS | STREAM_KEYS | OUTPUT_KEYS


@dataclass(frozen=True, slots=True)
class EventFilter:
    """What reaches the consumer: ``on_event`` sees every adapter event, then ``drop`` applies.

    A dropped ``RawChunk`` that carries usage is let through anyway, so a fold always has usage.
    """

    on_event: Callable[[Event], Any] | None = None
    drop: frozenset[type[Any]] = frozenset({RawChunk})

    @classmethod
    def from_opts(cls, opts: Mapping[str, Any], problems: list[str]) -> EventFilter:
        drop: set[type[Any]] = set()
        for key, event_type, default in (
            ("emit_text_deltas", TextDelta, True),
            ("emit_tool_deltas", ToolCallDelta, True),
            ("include_raw_chunks", RawChunk, False),
        ):
            value = opts.get(key, default)
            if not isinstance(value, bool):
                problems.append(f"{key} must be a bool, got {value!r}")
            elif not value:
                drop.add(event_type)
        on_event = opts.get("on_event")
        if on_event is not None and not callable(on_event):
            problems.append(f"on_event must be callable, got {on_event!r}")
            on_event = None
        return cls(on_event, frozenset(drop))


@dataclass(frozen=True, slots=True)
class CallPlan:
    """A call that passed resolution and pre-flight: the adapter, the final request, the call."""

    adapter: Any
    request: Request
    call: Call
    event_filter: EventFilter
    model_ref: ModelRef | None


@dataclass(frozen=True, slots=True)
class Prepared:
    """A call that passed pre-flight: run ``plan`` through a driver with ``event_filter``."""

    adapter: Any
    request: Request
    call: Call
    plan: Iterator[Event | Effect]
    event_filter: EventFilter
    model_ref: ModelRef | None
    log: Any = None  # the attempts of an engine with fallbacks (``attempts.AttemptLog``)


def _coerce_request(request: Any) -> Request:
    if isinstance(request, Request):
        return request
    if (
        isinstance(request, Sequence)
        and not isinstance(request, str | bytes)
        and all(isinstance(item, Message) for item in request)
    ):
        return Request(messages=tuple(request))
    raise ValidationError(
        "invalid_request",
        f"expected a Request or a list of Messages, got {type(request).__name__}",
        errors=[((), "not_a_request")],
    )


def _named_provider(model: Any) -> str | None:
    """The provider a reference names, registered or not (``"acme"`` for ``"acme:m"``)."""
    if isinstance(model, ModelRef):
        return model.provider
    if isinstance(model, tuple):
        return str(model[0])
    if isinstance(model, str):
        head, colon, _ = model.partition(":")
        if colon:
            return head
        _, at, tail = model.rpartition("@")
        if at:
            return tail
    return None


def resolve_engine_adapter(engine: Engine, model: Any) -> tuple[Any, Any]:
    """The adapter object and the model id to send, from the engine and the resolved model.

    A malformed reference is a ``ValidationError`` naming it. With no adapter on the engine the
    reference must name a registered provider; otherwise ``EngineError("missing_adapter")`` says
    which value named which provider.
    """
    problem = model_ref_problem(model, strict=engine.adapter is None)
    if problem is not None:
        raise ValidationError(
            "invalid_request",
            f"malformed model reference {model!r}: {problem}",
            errors=[(("model",), "malformed_model_reference")],
            metadata={"model": model},
        )
    provider, model_id = split_model_ref(model)
    if engine.adapter is None:
        names = sorted(registered_names())
        named = _named_provider(model)
        if provider is None and named is None:
            raise EngineError(
                "missing_adapter",
                f"the engine has no adapter and model {model!r} names no provider; set "
                "Engine(adapter=...) or use a 'provider:id' model",
                metadata={"model": model},
            )
        if provider is None or provider not in names:
            unknown = provider if provider is not None else named
            raise EngineError(
                "missing_adapter",
                f"model {model!r} names provider {unknown!r}, which has no adapter, and the engine "
                f"names none; registered providers: {', '.join(names)}",
                metadata={"model": model, "provider": unknown, "registered": names},
            )
        return resolve_adapter(provider), model_id
    adapter = resolve_adapter(engine.adapter)
    if provider is None:
        return adapter, model
    if provider == getattr(adapter, "name", None):
        return adapter, model_id
    if getattr(adapter, "stand_in", False) or provider not in registered_names():
        return adapter, model  # the Fake plays every provider; an unknown prefix may be an id
    return resolve_adapter(provider), model_id  # the reference picks its own provider


def engine_opts_for(
    engine: Engine, adapter: Any, slots: Sequence[tuple[Any, Any]] = ()
) -> Mapping[str, Any]:
    """The engine's ``adapter_opts`` if they belong to ``adapter``, else nothing.

    They belong to the adapter the engine names (the same object, or the same provider name),
    else to the provider the engine's model selects; for a surface beside chat, when the engine
    names neither, to the surface's own ``(adapter, model)`` ``slots`` likewise; an engine that
    names no provider at all leaves them to whichever adapter the call's model selects. A
    stand-in (the fakes) always reads them. So a call whose model picks another provider never
    carries the engine's ``base_url``, ``headers`` or clients there, nor that provider's key to
    the engine's host.
    """
    if getattr(adapter, "stand_in", False):
        return engine.adapter_opts
    owner = _owner(engine.adapter, engine.model)
    for slot_adapter, slot_model in slots:
        if owner is None:
            owner = _owner(slot_adapter, slot_model)
    if owner is None:
        return engine.adapter_opts
    name = getattr(adapter, "name", None)
    if isinstance(owner, str):
        return engine.adapter_opts if owner == name else {}
    owns = owner is adapter or (name is not None and getattr(owner, "name", None) == name)
    return engine.adapter_opts if owns else {}


def _owner(adapter: Any, model: Any) -> Any:
    """The adapter object named, else the registered provider the model selects, else None."""
    if adapter is not None:
        return resolve_adapter(adapter)
    provider, _ = split_model_ref(model)
    return provider if provider in registered_names() else None


def settings_for(adapter: Any) -> Mapping[str, Any]:
    """The ``allm.configure(providers=...)`` entry of ``adapter``'s provider, or nothing."""
    name = getattr(adapter, "name", None)
    return get_settings().providers.get(name, {}) if isinstance(name, str) else {}


def build_request(engine: Engine, request: Request, opts: Mapping[str, Any], model: Any) -> Request:
    """The request with call keywords over its fields over engine params over settings."""
    settings_params = get_settings().params
    if isinstance(model, ModelRef):
        model = model.id
    elif isinstance(model, tuple) and len(model) == 2:
        model = model[1]  # a (provider, id) pair for another provider's adapter: send the id
    changes: dict[str, Any] = {"model": model}
    for key in ("tool_choice", "temperature", "max_tokens", "response_format", *NEUTRAL_KEYS):
        unset = () if key == "stop" else None
        if key in opts:
            changes[key] = opts[key]
        elif getattr(request, key) == unset:
            for defaults in (engine.params, settings_params):
                if defaults.get(key) is not None:
                    changes[key] = defaults[key]
                    break
    if "structured_finalize" in opts:
        changes["structured_finalize"] = bool(opts["structured_finalize"])
    base_tools = request.tools or engine.tools
    tools = engine.resolve_tools({"tools": opts.get("tools")}, base=base_tools)
    if tools != request.tools:
        changes["tools"] = tools
    return replace(request, **changes)


def _resolve_adapter(
    engine: Any, request: Any, opts: Mapping[str, Any], capability: str
) -> tuple[Request, Any, Any]:
    """The checks both paths share: an engine, a request, an adapter that has ``capability``."""
    if not isinstance(engine, Engine):
        raise ConfigurationError(
            "invalid_option", problems=[f"engine must be an Engine, got {engine!r}"]
        )
    request = _coerce_request(request)
    model = opts.get("model") or request.model or engine.model or get_settings().params.get("model")
    adapter, model = resolve_engine_adapter(engine, model)
    if not callable(getattr(adapter, capability, None)):
        if capability == "stream":
            reason, message = "missing_stream_adapter", f"adapter {adapter!r} cannot stream"
        else:
            reason = "missing_adapter"
            message = (
                f"adapter {adapter!r} has no non-streaming path; "
                "call generate() without streaming=False"
            )
        raise EngineError(reason, message, provider=getattr(adapter, "name", None))
    return request, adapter, model


def plan_call(
    engine: Any, request: Any, opts: Mapping[str, Any], request_id: str, capability: str
) -> CallPlan:
    """The one place a call is planned: engine and request checked, the adapter chosen (it must
    have ``capability``, ``"stream"`` or ``"generate"``), stream options read (streaming only),
    the final request built and validated against the catalog, the ``Call`` assembled. Raises on
    the first failing stage; nothing is sent."""
    engine = apply_override(engine)
    request, adapter, model = _resolve_adapter(engine, request, opts, capability)
    event_filter = EventFilter()
    if capability == "stream":
        problems: list[str] = []
        event_filter = EventFilter.from_opts(opts, problems)
        if problems:
            raise ConfigurationError("invalid_option", problems=problems)
    final, call, model_ref = _resolve_call(engine, adapter, request, opts, request_id, model)
    record_request(final)
    return CallPlan(adapter, final, call, event_filter, model_ref)


def stream_plan(
    engine: Engine,
    planned: CallPlan,
    opts: Mapping[str, Any],
    wrap: Callable[[Iterator[Event | Effect]], Iterator[Event | Effect]],
) -> Iterator[Event | Effect]:
    """The adapter's stream (its own pre-flight raises now), each opened stream passed through
    ``wrap`` (the middleware), and wrapped for a typed output, whose re-asks open new ones."""
    adapter, call = planned.adapter, planned.call
    plan = wrap(adapter.stream(planned.request, call))
    spec = planned.request.response_format
    if isinstance(spec, OutputSpec):
        from ..output.plan import typed_stream

        def start(again: Request) -> Iterator[Event | Effect]:
            return wrap(adapter.stream(again, call))

        plan = typed_stream(plan, start, planned.request, spec, output_retries_from(engine, opts))
    return plan


def generate_plan(
    engine: Engine, adapter: Any, final: Request, call: Call, opts: Mapping[str, Any]
) -> Any:
    """The non-streaming plan: the adapter's, wrapped for a typed output (its checks raise now)."""
    plan = adapter.generate(final, call)
    spec = final.response_format
    if not isinstance(spec, OutputSpec):
        return plan
    from ..output.plan import typed_generate

    def start(again: Request) -> Any:
        return adapter.generate(again, call)

    return typed_generate(plan, start, final, spec, output_retries_from(engine, opts))


def typed_output_mode(engine: Engine, adapter: Any, response_format: Any, model: Any) -> str | None:
    """The mode a typed ``response_format`` would run in on ``adapter`` (None: not typed)."""
    spec = as_spec(response_format)
    if spec is None:
        return None
    provider, model_id = split_model_ref(model)
    ref = _catalog_entry(model, model_id, provider or getattr(adapter, "name", None))
    return resolve_mode(spec, adapter, ref)


def output_retries_from(engine: Engine, opts: Mapping[str, Any]) -> int:
    """How many times an invalid typed answer is re-asked (call keyword > engine > 1)."""
    return output_retries(opts.get("output_retries", engine.params.get("output_retries")))


def span_metadata(
    engine: Any, request: Any, opts: Mapping[str, Any], request_id: str
) -> dict[str, Any]:
    """What a call's telemetry span starts with, before the plan exists."""
    model = opts.get("model") or getattr(request, "model", None) or getattr(engine, "model", None)
    model = model or get_settings().params.get("model")
    return {"request_id": request_id, "engine": engine, "model": model}


def annotate(span: telemetry.Span, request: Any, call: Any, adapter: Any) -> None:
    """Tell tracers (the OpenTelemetry bridge) the final request, its parameters and provider."""
    if span.observed:
        params = {**call.params, **call.provider_options} if call.provider_options else call.params
        span.annotate(request=request, params=params, provider=getattr(adapter, "name", None))


def with_costs(response: Response, model_ref: ModelRef | None) -> Response:
    """The response with its usage priced from the catalog entry, when there is one."""
    usage = apply_costs(response.usage, model_ref)
    return response if usage is response.usage else replace(response, usage=usage)


def _catalog_entry(model: Any, sent: Any, adapter_name: str | None) -> ModelRef | None:
    """The catalog's view of the model: a ``ModelRef`` as given; a reference naming a provider
    (``"openai:gpt-4.1"`` on another provider's adapter) under that provider; else the id sent
    under the adapter's name."""
    if isinstance(model, ModelRef):
        return resolve_model_ref(model, adapter_name)
    provider, model_id = split_model_ref(model)
    if provider is not None and isinstance(model_id, str):
        return resolve_model_ref(model_id, provider)
    return resolve_model_ref(sent, adapter_name)


def _resolve_call(
    engine: Engine,
    adapter: Any,
    request: Request,
    opts: Mapping[str, Any],
    request_id: str,
    model: Any,
) -> tuple[Request, Call, ModelRef | None]:
    final = build_request(engine, request, opts, model)
    if engine.middleware:
        ctx = MiddlewareContext(request_id, engine, getattr(adapter, "name", None), final.model)
        final = transform_request(engine.middleware, final, ctx)
    model_ref = _catalog_entry(model, final.model, getattr(adapter, "name", None))
    output_retries_from(engine, opts)
    validate.request(final)
    final, _ = resolve(final, adapter, model_ref)
    check_capabilities(final, model_ref)
    needs_finalize = getattr(adapter, "requires_structured_finalize", None)
    if callable(needs_finalize) and not final.structured_finalize and needs_finalize(final):
        final = replace(final, structured_finalize=True)
    stripped = sorted(key for key in opts if key in ORCHESTRATION_KEYS)
    if stripped:
        _log.debug("request %s: ignoring chat-loop options %s", request_id, stripped)
    adapter_opts = dict(engine_opts_for(engine, adapter))
    call_adapter_opts = opts.get("adapter_opts")
    if call_adapter_opts:
        adapter_opts.update(call_adapter_opts)
    for key in TRANSPORT_KEYS:
        if key in opts:
            adapter_opts[key] = opts[key]
    adapter_opts.setdefault("cursor_key", engine.id)
    params = dict(get_settings().params)
    params.update(engine.resolve_params({}))
    for key, value in opts.items():
        if key in ENGINE_FIELD_KEYS or key in REQUEST_FIELD_KEYS or key in STREAM_KEYS:
            continue
        if key in ORCHESTRATION_KEYS or key in _CONTROL_KEYS or key in TRANSPORT_KEYS:
            continue
        if key in OUTPUT_KEYS:
            continue
        params[key] = value
    if params:
        for key in _NOT_PARAMS.intersection(params):
            del params[key]
    by_name = merged_provider_options(
        (
            ("Engine.provider_options", engine.provider_options),
            ("Request.provider_options", final.provider_options),
            ("provider_options", opts.get("provider_options")),
        ),
        registered_names(),
    )
    if by_name != final.provider_options:
        final = replace(final, provider_options=by_name)
    fragment = scoped_options(adapter, by_name)  # this provider's entries; the rest are ignored
    # Params and provider options go into the request body: each must be JSON, found now rather
    # than as a TypeError halfway through building the body.
    json_errors = validate.errors_json(params, ("params",))
    json_errors += validate.errors_json(by_name, ("provider_options",))
    if json_errors:
        raise ValidationError("invalid_request", errors=json_errors)
    call = Call(
        request_id=request_id,
        engine=engine,
        params=params,
        provider_options=fragment,
        adapter_opts=adapter_opts,
        api_key=opts.get("api_key") or None,
        retry=policy_from(opts["retry"]) if "retry" in opts else engine.retry_policy(),
        provider_settings=settings_for(adapter),
        raw_chunks=opts.get("include_raw_chunks") is True,
    )
    return final, call, model_ref


def request_id_from(opts: Mapping[str, Any]) -> str:
    """The caller's ``request_id``, or a fresh one."""
    given = opts.get("request_id")
    if given is None:
        return new_id()
    if not isinstance(given, str) or not given:
        raise ConfigurationError("invalid_option", problems=["request_id must be a non-empty str"])
    return given
