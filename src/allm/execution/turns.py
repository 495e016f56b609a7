"""One model turn of a chat loop: what is sent (history reducers) and how (``prepare_step``).

The loop keeps the whole thread. Before each turn the ``history`` reducer picks the messages to
send, then ``prepare_step(StepContext)`` may override the model, the tools, the tool choice or
the messages for that turn only.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import fields, replace
from typing import Any

from ..data.messages import Message
from ..data.request import Request
from ..data.response import Usage
from ..data.results import StepResult, Thread
from ..data.server_tools import ProviderTool
from ..data.steps import StepContext, StepOverrides
from ..data.tools import Tool
from ..effects import Effect, relay
from ..errors import ConfigurationError
from .attempts import prepare
from .chat_run import ChatRun
from .compact import wire_tools
from .runner import Prepared

__all__ = ["fold_plan", "needs_history_plan", "open_turn", "reduce_plan", "usage_sum"]

_COUNTS = tuple(f.name for f in fields(Usage) if f.name not in ("tool_usage", "extra"))


def usage_sum(steps: Sequence[StepResult]) -> Usage | None:
    """The steps' usage added up (a count no step reported stays ``None``)."""
    usages = [step.response.usage for step in steps if step.response.usage is not None]
    if not usages:
        return None
    totals: dict[str, Any] = {}
    for name in _COUNTS:
        values = [getattr(usage, name) for usage in usages if getattr(usage, name) is not None]
        totals[name] = sum(values) if values else None
    return Usage(**totals)


def fold_plan(plan: Iterator[Any], apply: Callable[[Any], Any]) -> Generator[Effect, Any, None]:
    """Run a nested plan for its result only: effects go out, events go to ``apply``."""

    def consume(event: Any) -> tuple[()]:
        apply(event)
        return ()

    yield from relay(plan, consume)


def needs_history_plan(run: ChatRun) -> bool:
    """Whether the reducer needs a model call (``summarize``), so turns are planned lazily."""
    return callable(getattr(run.history, "reduce_plan", None))


def reduce_plan(
    run: ChatRun, thread: Thread, memo: dict[str, str]
) -> Generator[Effect, Any, tuple[Message, ...]]:
    """The messages the reducer sends this turn, running its model call when it has one."""
    if needs_history_plan(run):
        reduced: tuple[Message, ...] = yield from run.history.reduce_plan(
            thread.messages, run.request_id, memo
        )
        return reduced
    return _reduce(run, thread)


def _reduce(run: ChatRun, thread: Thread) -> tuple[Message, ...]:
    if run.history is None:
        return thread.messages
    return tuple(run.history.reduce(thread.messages))


def _overrides(run: ChatRun, context: StepContext) -> StepOverrides | None:
    if run.prepare_step is None:
        return None
    found = run.prepare_step(context)
    if found is not None and not isinstance(found, StepOverrides):
        raise ConfigurationError(
            "invalid_option",
            problems=[f"prepare_step must return None or allm.StepOverrides, got {found!r}"],
        )
    return found


def _check(overrides: StepOverrides) -> list[str]:
    problems: list[str] = []
    if overrides.tools is not None and not all(
        isinstance(t, Tool | ProviderTool) for t in overrides.tools
    ):
        problems.append("StepOverrides.tools must hold Tool values")
    if overrides.messages is not None and not all(
        isinstance(m, Message) for m in overrides.messages
    ):
        problems.append("StepOverrides.messages must hold Message values")
    return problems


def open_turn(
    run: ChatRun,
    thread: Thread,
    turn: int,
    steps: Sequence[StepResult],
    messages: tuple[Message, ...] | None = None,
) -> tuple[ChatRun, Prepared]:
    """The turn's run (tools overridden for it) and its prepared model call."""
    sent = _reduce(run, thread) if messages is None else messages
    overrides = _overrides(
        run, StepContext(turn, thread, steps[-1] if steps else None, usage_sum(steps))
    )
    opts = {**run.step_opts, "request_id": run.request_id}
    if overrides is not None:
        problems = _check(overrides)
        if problems:
            raise ConfigurationError("invalid_option", problems=problems)
        if overrides.messages is not None:
            sent = overrides.messages
        if overrides.tools is not None:  # the turn's tools only, the engine's included
            run = replace(run, tools=overrides.tools, engine=replace(run.engine, tools=()))
        if overrides.model is not None:
            opts["model"] = overrides.model
        if overrides.tool_choice is not None:
            opts["tool_choice"] = overrides.tool_choice
    request = Request(messages=sent, tools=wire_tools(run.tools))
    return run, prepare(run.engine, request, opts, run.request_id)
