"""One call over an engine and its fallbacks, each attempt under its middleware and limits.

The first engine is planned now (its pre-flight raises). A fallback is planned only when it is
needed, with its own engine: its own adapter, adapter options and key, never the first one's.
The switch happens only while nothing reached the consumer: the attempt's leading
``MessageStarted`` is held back, and an ``ErrorEvent`` with a reason in ``fallback_on`` before
anything else moves on to the next engine. Once any other event passed, a failure is data.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .. import telemetry
from ..adapters import TRANSPORT_KEYS
from ..data.models import ModelRef
from ..data.response import Response
from ..effects import Effect
from ..engine import Engine
from ..errors import AllmError, ConfigurationError
from ..events import ErrorEvent, Event, MessageStarted
from ..middleware import MiddlewareContext, wrap_plan
from .runner import CallPlan, Prepared, generate_plan, plan_call, stream_plan, with_costs

__all__ = ["AttemptLog", "finish_response", "prepare", "prepare_generate"]

# What belongs to the first engine only: a fallback has its own model, key and settings.
_FIRST_ONLY = frozenset({"model", "api_key", "adapter_opts", *TRANSPORT_KEYS})


@dataclass(slots=True)
class AttemptLog:
    """Which engines were tried and how each ended; the costs follow the one that answered."""

    record: bool
    entries: list[dict[str, str]] = field(default_factory=list)
    model_ref: ModelRef | None = None

    def add(self, model: str, outcome: str) -> None:
        self.entries.append({"model": model, "outcome": outcome})

    def finish(self, response: Response) -> Response:
        """The response priced by the answering model, with ``metadata["attempts"]``."""
        response = with_costs(response, self.model_ref)
        if not self.record:
            return response
        attempts = [dict(entry) for entry in self.entries]
        return replace(response, metadata={**response.metadata, "attempts": attempts})


def finish_response(response: Response, prepared: Prepared) -> Response:
    """A folded response of ``prepared``: priced, and with its attempts when it has fallbacks."""
    log = prepared.log
    if isinstance(log, AttemptLog):
        return log.finish(response)
    return with_costs(response, prepared.model_ref)


def _fallback_engine(first: Engine, index: int, model: str) -> Engine:
    # A model string keeps the first engine's defaults, but none of its adapter settings.
    return Engine(
        model=model,
        tools=first.tools,
        params=first.params,
        provider_options=first.provider_options,  # scoped by provider: safe on any fallback
        context=first.context,
        retry=first.retry,
        metadata=first.metadata,
        middleware=first.middleware,
        id=f"{first.id}.fallback{index}",
    )


def _candidates(engine: Engine, opts: Mapping[str, Any]) -> deque[tuple[Engine, dict[str, Any]]]:
    rest = {key: value for key, value in opts.items() if key not in _FIRST_ONLY}
    found: deque[tuple[Engine, dict[str, Any]]] = deque()
    for index, item in enumerate(engine.fallbacks):
        candidate = item if isinstance(item, Engine) else _fallback_engine(engine, index, item)
        found.append((candidate, rest))
    return found


def _label(planned: CallPlan) -> str:
    provider = getattr(planned.adapter, "name", None) or type(planned.adapter).__name__
    return f"{provider}:{planned.request.model}"


@dataclass(slots=True)
class _Attempt:
    label: str
    model_ref: ModelRef | None
    plan: Any


def _attempt(
    engine: Engine, request: Any, opts: Mapping[str, Any], request_id: str, capability: str
) -> tuple[CallPlan, _Attempt]:
    planned = plan_call(engine, request, opts, request_id, capability)
    if capability == "stream":
        ctx = MiddlewareContext(
            request_id, engine, getattr(planned.adapter, "name", None), planned.request.model
        )
        plan: Any = stream_plan(
            engine, planned, opts, lambda opened: wrap_plan(opened, engine.middleware, ctx)
        )
    else:
        plan = generate_plan(engine, planned.adapter, planned.request, planned.call, opts)
    if engine.limits is not None:  # the limiter's modules load only for an engine with limits
        from .limiting import estimate_tokens, limited, limiter_of

        limiter = limiter_of(engine, planned.adapter, planned.call.api_key)
        if limiter is not None:
            plan = limited(plan, limiter, request_id, estimate_tokens(planned.request))
    return planned, _Attempt(_label(planned), planned.model_ref, plan)


def _switched(request_id: str, failed: str, reason: str, number: int) -> None:
    telemetry.execute(
        "allm.fallback",
        {"system_time": time.time_ns()},
        {"request_id": request_id, "model": failed, "reason": reason, "attempt": number},
    )


class _Route:
    """The candidates still untried, planned one at a time."""

    def __init__(
        self,
        engine: Engine,
        request: Any,
        opts: Mapping[str, Any],
        request_id: str,
        capability: str,
        log: AttemptLog,
    ) -> None:
        self.pending = _candidates(engine, opts)
        self.reasons = engine.fallback_reasons(opts)
        self.request = request
        self.request_id = request_id
        self.capability = capability
        self.log = log

    def switch(self, current: _Attempt, reason: str) -> tuple[bool, _Attempt | None]:
        """Whether ``reason`` moves on (then ``current`` is logged), and the next attempt that
        passes its pre-flight, or None when none is left."""
        if not self.pending or reason not in self.reasons:
            return False, None
        self.log.add(current.label, reason)
        _switched(self.request_id, current.label, reason, len(self.log.entries))
        while self.pending:
            engine, opts = self.pending.popleft()
            try:
                _, attempt = _attempt(engine, self.request, opts, self.request_id, self.capability)
            except ConfigurationError:
                raise  # a programmer error is never routed around
            except AllmError as exc:  # a fallback without a key, say: noted, skipped
                model = engine.model if isinstance(engine.model, str) else repr(engine.model)
                self.log.add(model, exc.reason)
                continue
            self.log.model_ref = attempt.model_ref
            return True, attempt
        return True, None


def _stream_route(route: _Route, attempt: _Attempt) -> Generator[Any, Any, None]:
    log = route.log
    while True:
        plan = attempt.plan
        held: list[Event] = []
        delivered = False
        outcome = "ok"
        logged = False
        next_attempt: _Attempt | None = None
        reply: Any = None
        try:
            while True:
                try:
                    item = plan.send(reply)
                except StopIteration:
                    break
                reply = None
                if isinstance(item, Effect):
                    reply = yield item
                    continue
                if isinstance(item, ErrorEvent):
                    outcome = getattr(item.error, "reason", None) or "unknown"
                    if not delivered:
                        logged, next_attempt = route.switch(attempt, outcome)
                        if next_attempt is not None:
                            break
                if not delivered and isinstance(item, MessageStarted):
                    held.append(item)
                    continue
                if not delivered:
                    delivered = True
                    yield from held
                yield item
        finally:
            plan.close()
        if next_attempt is None:
            if not logged:
                log.add(attempt.label, outcome)
            if not delivered:
                yield from held
            return
        attempt = next_attempt


def _generate_route(route: _Route, attempt: _Attempt) -> Generator[Effect, Any, Response]:
    while True:
        try:
            response: Response = yield from attempt.plan
        except ConfigurationError:
            raise
        except AllmError as exc:
            logged, following = route.switch(attempt, exc.reason)
            if following is None:
                if not logged:
                    route.log.add(attempt.label, exc.reason)
                raise
            attempt = following
            continue
        route.log.add(attempt.label, "ok")
        return response


def _check_fallback_on(opts: Mapping[str, Any]) -> None:
    if opts.get("fallback_on") is None:
        return  # nothing to check (the common call)
    from ..engine import fallback_on_problems

    problems = fallback_on_problems(opts.get("fallback_on"), "fallback_on")
    if problems:
        raise ConfigurationError("invalid_option", problems=problems)


def prepare(engine: Any, request: Any, opts: Mapping[str, Any], request_id: str) -> Prepared:
    """Every pre-flight step of a streaming call, and its plan: the first engine's stream,
    routed to the fallbacks while nothing was delivered."""
    _check_fallback_on(opts)
    planned, attempt = _attempt(engine, request, opts, request_id, "stream")
    log = AttemptLog(bool(engine.fallbacks), model_ref=planned.model_ref)
    plan: Iterator[Any] = attempt.plan
    if engine.fallbacks:
        plan = _stream_route(_Route(engine, request, opts, request_id, "stream", log), attempt)
    return Prepared(
        planned.adapter,
        planned.request,
        planned.call,
        plan,
        planned.event_filter,
        planned.model_ref,
        log,
    )


def prepare_generate(
    engine: Any, request: Any, opts: Mapping[str, Any], request_id: str
) -> tuple[CallPlan, Generator[Effect, Any, Response], AttemptLog]:
    """The non-streaming twin of ``prepare``: the plan returns the response or raises."""
    _check_fallback_on(opts)
    planned, attempt = _attempt(engine, request, opts, request_id, "generate")
    log = AttemptLog(bool(engine.fallbacks), model_ref=planned.model_ref)
    plan = attempt.plan
    if engine.fallbacks:
        plan = _generate_route(_Route(engine, request, opts, request_id, "generate", log), attempt)
    return planned, plan, log
