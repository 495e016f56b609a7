"""What the surfaces beside chat share (embeddings, moderation): picking the adapter from an
engine slot or a ``"provider:id"`` model, splitting call keywords, the adapter ``Call``, one
batch's retry loop, and running batches concurrently with their order kept.

A surface adapter never does I/O itself: for one batch it returns a plan (a generator of effects
whose return value is the batch's answer, or which raises the ``AdapterError`` it ended with),
exactly as image adapters do. One attempt per plan; the retry loop lives here.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Generator, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Generic, TypeGuard, TypeVar

from .. import telemetry, validate
from .._hooks import apply_override, record_request
from ..adapters import TRANSPORT_KEYS, Call, registered_names, resolve_adapter
from ..data.models import ModelRef
from ..effects import Effect
from ..engine import Engine, new_id
from ..errors import AdapterError, AllmError, ConfigurationError, EngineError, FieldError
from ..retry import Ok, Outcome, Retry, RetryPolicy, policy_from, retrying, widened
from .runner import engine_opts_for, settings_for

__all__ = [
    "CONTROL_KEYS",
    "RETRY_REASONS",
    "Surface",
    "SurfaceCall",
    "SurfaceJob",
    "mapping_fields",
    "positive_int",
    "run_batches",
    "run_batches_async",
    "split_opts",
]

T = TypeVar("T")

RETRY_REASONS = ("rate_limited", "provider_unavailable", "timeout", "network_error")
CONTROL_KEYS = frozenset(
    {"request_id", "api_key", "adapter_opts", "retry", "telemetry_metadata", "max_concurrency"}
)
DEFAULT_CONCURRENCY = 4


def positive_int(value: Any) -> TypeGuard[int]:
    """Whether ``value`` is an int above zero (a bool is not)."""
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def mapping_fields(
    fields: Mapping[str, Any], errors: list[FieldError], params: Mapping[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """``options`` and ``metadata`` from the call's fields (copies), each checked to be a map;
    ``options`` and the provider ``params`` (both sent in the body) checked to be JSON."""
    found: dict[str, dict[str, Any]] = {}
    for key in ("options", "metadata"):
        value = fields.get(key, {})
        if not isinstance(value, Mapping):
            errors.append(((key,), "not_a_map"))
        else:
            found[key] = dict(value)
    errors.extend(validate.errors_json(found.get("options", {}), ("options",)))
    errors.extend(validate.errors_json(dict(params or {}), ("params",)))
    return found


def split_opts(
    opts: Mapping[str, Any], fields: frozenset[str]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """``(request fields, call control, provider parameters)``; transport keys are control."""
    found: dict[str, Any] = {}
    control: dict[str, Any] = {}
    params: dict[str, Any] = {}
    for key, value in opts.items():
        if key in fields:
            found[key] = value
        elif key in CONTROL_KEYS or key in TRANSPORT_KEYS:
            control[key] = value
        else:
            params[key] = value
    return found, control, params


@dataclass(frozen=True, slots=True)
class Surface:
    """One surface: its engine slots, the adapter-name suffix and the method its adapters have."""

    name: str  # the telemetry span: "embed", "moderate"
    adapter_slot: str  # "embedding_adapter"
    model_slot: str  # "embedding_model"
    suffix: str  # "_embeddings": "openai:..." picks "openai_embeddings"
    method: str  # "embed"
    missing_reason: str  # EngineError reason when the engine names no adapter
    example: str  # a registered name, for the error message


def _split_model(model: Any) -> tuple[str | None, Any]:
    if isinstance(model, ModelRef):
        return model.provider, model.id
    if isinstance(model, str):
        head, sep, rest = model.partition(":")
        if sep and head and rest:
            return head, rest
    return None, model


def _adapter_name(surface: Surface, provider: str) -> str | None:
    names = registered_names()
    for candidate in (provider + surface.suffix, provider):
        if candidate in names and candidate.endswith(surface.suffix):
            return candidate
    return None


@dataclass
class SurfaceCall:
    """One surface call after pre-flight: the adapter, the model id to send, the ``Call`` every
    batch shares, and the retry policy (widened with ``RETRY_REASONS``)."""

    engine: Engine
    adapter: Any
    model: str | None
    model_ref: ModelRef | None
    call: Call
    policy: RetryPolicy
    max_concurrency: int

    @classmethod
    def resolve(
        cls, surface: Surface, engine: Any, model: Any, control: Mapping[str, Any]
    ) -> SurfaceCall:
        """Every check before the adapter's own: engine, adapter, options, model, retry."""
        engine = apply_override(engine)
        if not isinstance(engine, Engine):
            raise ConfigurationError(
                "invalid_option", problems=[f"engine must be an Engine, got {engine!r}"]
            )
        problems: list[str] = []
        request_id = control.get("request_id")
        if request_id is not None and (not isinstance(request_id, str) or not request_id):
            problems.append("request_id must be a non-empty str")
        for key in ("adapter_opts", "telemetry_metadata"):
            value = control.get(key)
            if value is not None and not isinstance(value, Mapping):
                problems.append(f"{key} must be a mapping, got {value!r}")
        # call keyword > engine params > default, as for the chat loop's tools
        limit = control.get(
            "max_concurrency", engine.params.get("max_concurrency", DEFAULT_CONCURRENCY)
        )
        if not positive_int(limit):
            problems.append(f"max_concurrency must be a positive int, got {limit!r}")
        if problems:
            raise ConfigurationError("invalid_option", problems=problems)
        if model is None:
            model = getattr(engine, surface.model_slot)
        adapter, model_id = cls._adapter(surface, engine, model)
        if model_id is None:
            model_id = getattr(adapter, "default_model", None)
        retry = control.get("retry")
        policy = policy_from(engine.retry if retry is None else retry)
        slots = [(getattr(engine, surface.adapter_slot), getattr(engine, surface.model_slot))]
        adapter_opts = dict(engine_opts_for(engine, adapter, slots))
        adapter_opts.update(control.get("adapter_opts") or {})
        for key in TRANSPORT_KEYS:
            if key in control:
                adapter_opts[key] = control[key]
        adapter_opts.setdefault("cursor_key", engine.id)
        call = Call(
            request_id=request_id or new_id(),
            engine=engine,
            adapter_opts=adapter_opts,
            api_key=control.get("api_key") or None,
            retry=None,
            provider_settings=settings_for(adapter),
        )
        from ..catalog import resolve_model_ref

        ref = model if isinstance(model, ModelRef) else None
        if ref is None and isinstance(model_id, str):
            # The catalog knows the model under the provider the reference names, if any.
            named = _split_model(model)[0] if model_id != model else None
            provider = named.removesuffix(surface.suffix) if named else None
            ref = resolve_model_ref(model_id, provider or getattr(adapter, "name", None))
        return cls(
            engine,
            adapter,
            model_id if isinstance(model_id, str) else None,
            ref,
            call,
            widened(policy, RETRY_REASONS),
            limit,
        )

    @staticmethod
    def _adapter(surface: Surface, engine: Engine, model: Any) -> tuple[Any, Any]:
        provider, model_id = _split_model(model)
        slot = getattr(engine, surface.adapter_slot)
        if slot is None:
            name = None if provider is None else _adapter_name(surface, provider)
            if name is None:
                raise EngineError(
                    surface.missing_reason,
                    f"the engine has no {surface.adapter_slot}; set "
                    f"Engine({surface.adapter_slot}={surface.example!r}) (a name, a class or an "
                    f"instance) or a 'provider:id' {surface.model_slot}"
                    + ("" if provider is None else f" (no adapter serves {provider!r})"),
                    metadata={"model": str(model)} if model is not None else {},
                )
            slot = name
        adapter = resolve_adapter(slot)
        if not callable(getattr(adapter, surface.method, None)):
            raise EngineError(
                "invalid_engine",
                f"{surface.adapter_slot} {adapter!r} has no {surface.method}() method",
            )
        own = {getattr(adapter, "name", None), getattr(adapter, "key_provider", None)}
        if provider is not None and (provider in own or _adapter_name(surface, provider)):
            return adapter, model_id
        return adapter, model

    def plan(
        self, request: Any, make: Callable[[Any, Call], Generator[Effect, Any, T]]
    ) -> Generator[Effect, Any, T]:
        """One batch: ``make(request, call)`` runs the adapter's pre-flight now (raising); the
        returned plan retries the batch under the policy and returns its answer or raises."""
        first = make(request, self.call)
        record_request(request)
        return self._attempts(request, first, make)

    def _attempts(
        self,
        request: Any,
        first: Generator[Effect, Any, T],
        make: Callable[[Any, Call], Generator[Effect, Any, T]],
    ) -> Generator[Effect, Any, T]:
        def attempt(number: int) -> Generator[Effect, Any, Outcome[T]]:
            plan = first if number == 1 else make(request, self.call)
            try:
                value = yield from plan
            except AdapterError as exc:
                return Retry(exc, exc.retry_after_ms)
            return Ok(value)

        meta = {"provider": getattr(self.adapter, "name", None), "request_id": self.call.request_id}
        outcome = yield from retrying(self.policy, meta, attempt)
        if isinstance(outcome, Ok):
            return outcome.value
        raise outcome.error


class SurfaceJob(Generic[T]):
    """One call of a surface between its arguments and its answer. A subclass resolves
    ``surface`` and ``control`` and counts its inputs, then supplies ``plans()`` (every
    request's plan, the adapter pre-flights run there) and ``combine(parts, span)``."""

    name: str
    surface: SurfaceCall
    control: Mapping[str, Any]
    input_count: int

    def plans(self) -> list[Generator[Effect, Any, Any]]:  # pragma: no cover - overridden
        """Every request's plan."""
        raise NotImplementedError

    def combine(self, parts: list[Any], span: telemetry.Span) -> T:  # pragma: no cover
        """The requests' answers as the call's response (stop metadata set)."""
        raise NotImplementedError

    def span_metadata(self) -> dict[str, Any]:
        """What the call's span starts with (the caller's ``telemetry_metadata`` first)."""
        extra = self.control.get("telemetry_metadata")
        base = dict(extra) if isinstance(extra, Mapping) else {}
        base.update(
            request_id=self.surface.call.request_id,
            engine=self.surface.engine,
            model=self.surface.model,
            provider=getattr(self.surface.adapter, "name", None),
            input_count=self.input_count,
        )
        return base

    @staticmethod
    def failed(span: telemetry.Span, error: AllmError) -> None:
        """A failed call still ends its span with ``stop`` (``error`` set, no response)."""
        span.stop_metadata.update(response=None, error=error)

    def run(self) -> T:
        """The call through the blocking driver, inside its span; an ``AllmError`` is raised
        after the span ended."""
        error: AllmError | None = None
        with telemetry.span(self.name, self.span_metadata()) as span:
            try:
                response = self.combine(
                    run_batches(self.plans(), self.surface.max_concurrency), span
                )
            except AllmError as exc:
                self.failed(span, exc)
                error = exc
        if error is not None:
            raise error
        return response

    async def arun(self) -> T:
        """The async twin of ``run``."""
        error: AllmError | None = None
        with telemetry.span(self.name, self.span_metadata()) as span:
            try:
                parts = await run_batches_async(self.plans(), self.surface.max_concurrency)
                response = self.combine(parts, span)
            except AllmError as exc:
                self.failed(span, exc)
                error = exc
        if error is not None:
            raise error
        return response


def run_batches(plans: Sequence[Generator[Effect, Any, T]], limit: int) -> list[T]:
    """Run every plan (at most ``limit`` at a time, in worker threads); answers in plan order.
    The first failure cancels the plans not yet started and is raised."""
    from . import _sync

    if len(plans) <= 1 or limit == 1:
        return [_sync.run(plan) for plan in plans]
    workers = min(limit, len(plans))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="allm-batch") as pool:
        # Each worker runs in a copy of this context: telemetry spans and capture blocks see it.
        futures: list[Future[T]] = [
            pool.submit(contextvars.copy_context().run, _sync.run, plan) for plan in plans
        ]
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        for future in pending:
            future.cancel()
        for future in futures:
            if future in done and future.exception() is not None:
                raise future.exception()  # type: ignore[misc]
        return [future.result() for future in futures]


async def run_batches_async(plans: Sequence[Generator[Effect, Any, T]], limit: int) -> list[T]:
    """The async twin of ``run_batches``: tasks under a capacity limit, answers in plan order."""
    import anyio

    from . import _async

    if len(plans) <= 1 or limit == 1:
        return [await _async.run(plan) for plan in plans]
    results: list[Any] = [None] * len(plans)
    failures: list[BaseException] = []
    limiter = anyio.CapacityLimiter(limit)

    async def one(index: int, plan: Generator[Effect, Any, T]) -> None:
        async with limiter:
            if failures:
                plan.close()
                return
            try:
                results[index] = await _async.run(plan)
            except Exception as exc:
                failures.append(exc)
                group.cancel_scope.cancel()

    async with anyio.create_task_group() as group:
        for index, plan in enumerate(plans):
            group.start_soon(one, index, plan)
    if failures:
        raise failures[0]
    return results
