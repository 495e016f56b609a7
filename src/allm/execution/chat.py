"""Layer C with tools: ``step`` / ``stream_step`` / ``chat`` / ``stream`` and their async twins.

One step is a model call plus the tools it asked for; a chat is steps until a terminal condition.
Both are written once, as plans (generators of events and effects) that the sync and the async
drivers run. ``step`` folds ``stream_step`` and ``chat`` folds ``stream``: the two paths agree.

Terminal conditions after each step, first match wins: ask_user, tool_error, a handler's halt,
per-tool manual calls, whole-loop manual mode, a stop/length/content_filter finish (completed),
an error finish, ``halt_when``, ``max_turns``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .. import telemetry
from ..collector import StreamCollector
from ..config import get_settings
from ..data.messages import Message, Role
from ..data.request import Request
from ..data.response import FinishReason, Response
from ..data.results import ChatResult, HaltReason, StepResult, Thread
from ..effects import Effect, relay
from ..errors import AllmError, EngineError
from ..events import ChatCompleted, ErrorEvent, StepCompleted, is_usage_chunk
from ..tooling import ToolContext
from .attempts import finish_response
from .chat_run import DEFAULT_NUDGE, ChatRun, _as_thread, list_mcp_tools, resolve_run
from .compact import wire_tools
from .runner import (
    EventFilter,
    Prepared,
    annotate,
    plan_call,
    request_id_from,
    typed_output_mode,
)
from .streams import AsyncEventStream, EventStream
from .tool_runner import RunTools, ToolJob, settle
from .turns import needs_history_plan, open_turn, reduce_plan

if TYPE_CHECKING:
    from .options import ChatOptions, Unpack
__all__ = [
    "DEFAULT_NUDGE",
    "achat",
    "astep",
    "astream",
    "astream_step",
    "chat",
    "step",
    "stream",
    "stream_step",
]

_NO_FILTER = EventFilter(None, frozenset())
_COMPLETED = frozenset({FinishReason.STOP, FinishReason.LENGTH, FinishReason.CONTENT_FILTER})


_Turn = tuple[ChatRun, Prepared]


def _prepare_step(
    run: ChatRun, thread: Thread, turn: int = 1, steps: Sequence[StepResult] = ()
) -> _Turn | None:
    """The first turn, planned now (its pre-flight raises); ``None`` when the history reducer
    needs a model call first: then only the pre-flight runs now and the turn is planned lazily."""
    if needs_history_plan(run):
        request = Request(messages=thread.messages, tools=wire_tools(run.tools))
        plan_call(run.engine, request, {**run.step_opts}, run.request_id, "stream")
        return None
    return open_turn(run, thread, turn, steps)


def _lazy_turn(
    run: ChatRun, thread: Thread, turn: int, steps: Sequence[StepResult], memo: dict[str, str]
) -> Generator[Any, Any, _Turn]:
    messages = yield from reduce_plan(run, thread, memo)
    return open_turn(run, thread, turn, steps, messages)


def _relay(
    plan: Iterator[Any], observe: Callable[[Any], Any] | None = None
) -> Generator[Any, Any, Any]:
    """Pass a nested plan's events and effects through (effect results go back in), letting
    ``observe`` see each event; close the plan exactly once; return its return value."""

    def passed(event: Any) -> tuple[Any]:
        if observe is not None:
            observe(event)
        return (event,)

    return (yield from relay(plan, passed))


def _assistant_message(response: Response) -> Message:
    metadata: dict[str, Any] = {
        "finish_reason": None if response.finish_reason is None else response.finish_reason.value
    }
    if blocks := response.metadata.get("reasoning_blocks"):
        metadata["reasoning_blocks"] = blocks
    if response.server_tool_calls:  # kept, so the next turn can send them back
        metadata["server_tool_calls"] = response.server_tool_calls
    return Message(
        Role.ASSISTANT,
        response.output_text or "",
        tool_calls=response.tool_calls,
        metadata=metadata,
    )


def step_plan(run: ChatRun, thread: Thread, prepared: Prepared) -> Generator[Any, Any, None]:
    """One step: the model call (its events folded and passed on), then the tools it asked for."""
    span = telemetry.span(
        "step",
        {"request_id": run.request_id, "engine": run.engine, "model": prepared.request.model},
    )
    span.__enter__()
    annotate(span, prepared.request, prepared.call, prepared.adapter)
    try:
        yield from _step_body(run, thread, prepared, span)
    except GeneratorExit:
        span.stop_metadata["step_result"] = None
        span.__exit__(None, None, None)
        raise
    except BaseException as exc:
        span.__exit__(type(exc), exc, exc.__traceback__)
        raise
    else:
        span.__exit__(None, None, None)


def _step_body(
    run: ChatRun, thread: Thread, prepared: Prepared, span: telemetry.Span
) -> Generator[Any, Any, None]:
    collector = StreamCollector(thread, request_id=run.request_id)
    on_event, drop = prepared.event_filter.on_event, prepared.event_filter.drop
    plan = prepared.plan
    reply: Any = None
    try:
        while True:
            try:
                item = plan.send(reply)  # type: ignore[attr-defined]
            except StopIteration:
                break
            reply = None
            if isinstance(item, Effect):
                reply = yield item
                continue
            if on_event is not None:
                on_event(item)
            collector.apply(item)  # the step folds everything, whatever the consumer filters
            if type(item) not in drop or is_usage_chunk(item):
                yield item
    finally:
        plan.close()  # type: ignore[attr-defined]

    response = finish_response(collector.to_response(), prepared)
    new_thread = thread.add_message(_assistant_message(response))
    manual_calls: tuple[Any, ...] = ()
    calls = response.tool_calls
    if response.finish_reason is FinishReason.TOOL_CALLS and calls and run.mode == "auto":
        by_name = run.tools_by_name
        unknown = [call.name for call in calls if call.name not in by_name]
        if unknown:
            error = EngineError(
                "unknown_tool",
                f"the model called unknown tool {unknown[0]!r}",
                metadata={"tool_name": unknown[0]},
            )
            yield ErrorEvent(error)
            response = replace(
                response,
                finish_reason=FinishReason.ERROR,
                metadata={**response.metadata, "error": error},
            )
            yield _completed(collector, span, StepCompleted(response, new_thread, run.mode, ()))
            return
        auto = [call for call in calls if not by_name[call.name].manual]
        manual = [call for call in calls if by_name[call.name].manual]
        halted = False
        if auto:
            jobs = tuple(
                ToolJob(
                    by_name[call.name],
                    call,
                    ToolContext(
                        run.context,
                        run.session_id,
                        run.request_id,
                        call,
                        run.engine,
                        run.tool_timeout,
                    ),
                    run.executor,
                    prepared.request.model,
                )
                for call in auto
            )
            limit = run.max_concurrency or max(1, min(len(jobs), 2 * (os.cpu_count() or 1)))
            outcomes = yield RunTools(jobs, limit, run.tool_timeout)
            messages = []
            for call, outcome in zip(auto, outcomes, strict=True):
                settled = settle(call, outcome, run.encoder.encode, run.on_tool_error)
                for event in settled.events:
                    collector.apply(event)
                    yield event
                messages.append(settled.message)
                halted = halted or settled.halt is not None
            new_thread = new_thread.add_messages(messages)
        if manual and not halted:
            manual_calls = tuple(manual)
    yield _completed(collector, span, StepCompleted(response, new_thread, run.mode, manual_calls))


def _completed(
    collector: StreamCollector, span: telemetry.Span, event: StepCompleted
) -> StepCompleted:
    # The step's own collector saw every event of the step, so it builds the step's result.
    collector.apply(event)
    span.stop_metadata["step_result"] = collector.steps[-1]
    return event


def _terminal(run: ChatRun, result: StepResult, index: int) -> tuple[str, dict[str, Any]] | None:
    metadata = result.metadata
    halted = metadata.get("halted_reason")
    if halted == HaltReason.ASK_USER:
        return HaltReason.ASK_USER.value, {
            "pending_question": metadata.get("pending_question"),
            "pending_tool_call_id": metadata.get("pending_tool_call_id"),
            "ask_user_opts": metadata.get("ask_user_opts", {}),
        }
    if halted == HaltReason.TOOL_ERROR:
        extra = {"halt_tool_call_id": metadata.get("halt_tool_call_id")}
        if "on_tool_error_exception" in metadata:
            extra["on_tool_error_exception"] = metadata["on_tool_error_exception"]
        return HaltReason.TOOL_ERROR.value, extra
    if halted is not None:
        return str(halted), {
            "halt_tool_call_id": metadata.get("halt_tool_call_id"),
            "halt_result": metadata.get("halt_result"),
        }
    if metadata.get("manual_tool_calls"):
        return HaltReason.MANUAL_TOOL_CALLS.value, {
            "manual_turn_index": index,
            "manual_tool_calls": metadata["manual_tool_calls"],
        }
    if metadata.get("mode") == "manual":
        return HaltReason.MANUAL_TOOL_CALLS.value, {"manual_turn_index": index}
    finish = result.response.finish_reason
    if finish in _COMPLETED:
        return HaltReason.COMPLETED.value, {}
    if finish is FinishReason.ERROR:
        return HaltReason.ERROR.value, {"error": result.response.metadata.get("error")}
    if run.halt_when is not None and run.halt_when(result):
        return HaltReason.HALT_WHEN.value, {"halt_when_step_index": index}
    if index + 1 >= run.max_turns:
        return HaltReason.MAX_TURNS.value, {"max_turns": run.max_turns}
    return None


def chat_plan(run: ChatRun, thread: Thread, first: _Turn | None) -> Generator[Any, Any, ChatResult]:
    """Steps until a terminal condition, then one ``ChatCompleted``. Returns the result too."""
    collector = StreamCollector(thread, request_id=run.request_id)
    reason: str = HaltReason.COMPLETED.value
    metadata: dict[str, Any] = {}
    memo: dict[str, str] = {}
    for index in range(run.max_turns):
        if index == 0 and first is not None:
            step_run, prepared = first
        else:
            try:
                step_run, prepared = yield from _lazy_turn(
                    run, thread, index + 1, collector.steps, memo
                )
            except AllmError as exc:  # a later step failed pre-flight: data, not an exception
                event = ErrorEvent(exc)
                collector.apply(event)
                yield event
                reason, metadata = HaltReason.ERROR.value, {"error": exc}
                break
        yield from _relay(step_plan(step_run, thread, prepared), collector.apply)
        result = collector.steps[-1]
        thread = result.thread
        decision = _terminal(run, result, index)
        if decision is not None:
            reason, metadata = decision
            break
    pending_question: str | None = None
    pending_id: str | None = None
    if reason == HaltReason.ASK_USER:
        pending_question = metadata["pending_question"]
        pending_id = metadata["pending_tool_call_id"]
        question = Message(
            Role.ASSISTANT,
            pending_question or "",
            metadata={"ask_user": True, "tool_call_id": pending_id},
        )
        thread = thread.add_message(question)
    chat_result = ChatResult(
        thread=thread,
        final_response=collector.steps[-1].response if collector.steps else None,
        steps=tuple(collector.steps),
        halted_reason=reason,
        pending_question=pending_question,
        pending_tool_call_id=pending_id,
        metadata=metadata,
    )
    return chat_result


def _chat_stream_plan(
    run: ChatRun, thread: Thread, first: _Turn | None
) -> Generator[Any, Any, None]:
    result = yield from _relay(chat_plan(run, thread, first))
    yield ChatCompleted(result)


def _finalize_plan(run: ChatRun, thread: Thread, first: _Turn | None) -> Generator[Any, Any, None]:
    """Two passes: the tool loop without the format, then one call with the format and no tools."""
    first_pass = yield from _relay(chat_plan(run, thread, first))
    steps = first_pass.steps
    marker = {"pass_1_halted": first_pass.halted_reason}
    if first_pass.halted_reason not in ("completed", "max_turns", "halt_when"):
        yield ChatCompleted(
            replace(first_pass, metadata={**first_pass.metadata, "structured_finalize": marker})
        )
        return
    thread = first_pass.thread
    if run.nudge:
        thread = thread.add_message(Message(Role.USER, run.nudge))
    second_run = replace(
        run,
        engine=replace(run.engine, tools=()),
        tools=(),
        max_turns=1,
        step_opts={**run.step_opts, "response_format": run.response_format},
    )
    try:
        second_first = _prepare_step(second_run, thread, len(steps) + 1, steps)
    except AllmError as exc:
        metadata = {**first_pass.metadata, "structured_finalize": {**marker, "pass_2_error": exc}}
        yield ChatCompleted(replace(first_pass, metadata=metadata))
        return
    second = yield from _relay(chat_plan(second_run, thread, second_first))
    merged = replace(
        second,
        steps=(*steps, *second.steps),
        metadata={**second.metadata, "structured_finalize": marker},
    )
    yield ChatCompleted(merged)


def _single_step(run: ChatRun, thread: Thread, first: _Turn | None) -> Generator[Any, Any, None]:
    if first is None:
        first = yield from _lazy_turn(run, thread, 1, (), {})
    yield from step_plan(first[0], thread, first[1])


def _needs_finalize(run: ChatRun, adapter: Any, model: Any) -> bool:
    if run.response_format is None:
        return False
    if run.structured_finalize:
        return True
    mode = typed_output_mode(run.engine, adapter, run.response_format, model)
    if mode is not None:  # a typed output: tool mode ends the loop itself, the others finalize
        return bool(run.tools) and mode != "tool"
    probe = getattr(adapter, "requires_structured_finalize", None)
    if not callable(probe):
        return False
    request = Request(
        messages=(Message(Role.USER, ""),), tools=run.tools, response_format=run.response_format
    )
    return bool(probe(request))


def _open(
    engine: Any, thread_or_messages: Any, opts: Mapping[str, Any], *, sync_api: bool, chat: bool
) -> tuple[ChatRun, Iterator[Any], Callable[[StreamCollector], Any], Thread]:
    run = resolve_run(engine, opts, sync_api=sync_api)
    thread = _as_thread(thread_or_messages)
    if chat:
        probe_adapter = model = None
        if run.response_format is not None:
            from .runner import resolve_engine_adapter

            model = opts.get("model") or run.engine.model
            probe_adapter, _ = resolve_engine_adapter(run.engine, model)
        if _needs_finalize(run, probe_adapter, model):
            run = replace(
                run,
                step_opts={**run.step_opts, "response_format": None, "structured_finalize": False},
            )
            first = _prepare_step(run, thread)
            return run, _finalize_plan(run, thread, first), _chat_projection, thread
        if run.response_format is not None:
            run = replace(run, step_opts={**run.step_opts, "response_format": run.response_format})
        first = _prepare_step(run, thread)
        return run, _chat_stream_plan(run, thread, first), _chat_projection, thread
    if run.response_format is not None:
        run = replace(run, step_opts={**run.step_opts, "response_format": run.response_format})
    first = _prepare_step(run, thread)
    return run, _single_step(run, thread, first), _step_projection, thread


def _chat_projection(collector: StreamCollector) -> ChatResult:
    return collector.to_chat_result()


def _step_projection(collector: StreamCollector) -> StepResult:
    return collector.steps[-1] if collector.steps else collector.to_step_result()


def _raise_unknown_tool(result: StepResult) -> StepResult:
    error = result.response.metadata.get("error")
    if isinstance(error, EngineError) and error.reason == "unknown_tool":
        raise error
    return result


def _chat_span_meta(engine: Any, opts: Mapping[str, Any]) -> dict[str, Any]:
    model = opts.get("model") or getattr(engine, "model", None)
    model = model or get_settings().params.get("model")
    return {"request_id": opts["request_id"], "engine": engine, "model": model}


# -- the sync API -----------------------------------------------------------------------------


def stream_step(
    engine: Any, thread_or_messages: Any, **opts: Unpack[ChatOptions]
) -> EventStream[StepResult]:
    """Stream one step: the model call's events, each tool's events, then ``StepCompleted``.

    The options of ``step``; ``collect()`` gives the ``StepResult``.
    """
    from . import _sync

    run, plan, project, thread = _open(engine, thread_or_messages, opts, sync_api=True, chat=False)
    return EventStream(
        _sync.drive(plan, _NO_FILTER),
        lambda: StreamCollector(thread, request_id=run.request_id),
        project,
        run.request_id,
    )


def step(engine: Any, thread_or_messages: Any, **opts: Unpack[ChatOptions]) -> StepResult:
    """One model call plus the tools it asked for. An unknown tool raises ``EngineError``.

    Takes the same arguments and options as ``chat`` (``mode``, ``on_tool_error``,
    ``tool_timeout``, ``max_concurrency``, ``context`` and the options of ``generate``); there is
    no loop, so ``max_turns`` and ``halt_when`` do not apply.
    """
    return _raise_unknown_tool(stream_step(engine, thread_or_messages, **opts).collect())


def stream(
    engine: Any, thread_or_messages: Any, **opts: Unpack[ChatOptions]
) -> EventStream[ChatResult]:
    """Stream a whole chat loop: step streams back to back, then one ``ChatCompleted``.

    Takes the same arguments and options as ``chat`` (``mode``, ``max_turns``, ``halt_when``,
    ``on_tool_error``, ``tool_timeout``, ``max_concurrency``, ``structured_finalize``,
    ``context`` and the options of ``generate``); ``collect()`` gives the ``ChatResult``.
    """
    from . import _sync

    opts.setdefault("request_id", request_id_from(opts))
    with telemetry.span("chat", _chat_span_meta(engine, opts)) as span:
        run, plan, project, thread = _open(
            engine, thread_or_messages, opts, sync_api=True, chat=True
        )
        span.stop_metadata["chat_result"] = None
    return EventStream(
        _sync.drive(plan, _NO_FILTER),
        lambda: StreamCollector(thread, request_id=run.request_id),
        project,
        run.request_id,
    )


def chat(engine: Any, thread_or_messages: Any, **opts: Unpack[ChatOptions]) -> ChatResult:
    """Run the tool loop to a terminal condition; the fold of ``stream``.

    Model calls and tool calls alternate until the model answers without tools (``completed``),
    or ``max_turns``, an ``AskUser``, a ``Halt``, a tool error under ``on_tool_error="halt"``,
    manual tool calls, ``halt_when`` or an error stops the loop (``result.halted_reason``).

    Args:
        engine: The ``allm.Engine`` to run with (adapter, model, tools, params, retry policy).
        thread_or_messages: A ``Thread`` or a list of ``Message`` values.
        **opts: The options of ``generate`` and the chat options (below).

    Keyword Args:
        mode (str): ``"auto"`` runs tool calls; ``"manual"`` hands them back to the caller.
        max_turns (int): The most model calls (default 8).
        halt_when (Callable[[StepResult], bool]): Stop after the step it returns True for.
        on_tool_error (str | Callable): ``"continue"`` (default: the model sees the error),
            ``"halt"``, or ``fn(tool_call, error)`` returning ``("continue", value)`` or ``"halt"``.
        tool_timeout (float): Seconds a tool call may run (default 30).
        max_concurrency (int): Tool calls run at once.
        structured_finalize (bool): Ask once more for the ``response_format`` when tools are done.
        structured_finalize_nudge (str): The message that asks for it.
        context (dict): Handed to tool handlers as ``ctx.context``, over the engine's.
        tool_executor (ToolExecutor): Runs the tool handlers, instead of the engine's.
        tool_result_encoder (ToolResultEncoder): Turns tool results into message text.
        model (str): And every other option of ``generate`` (temperature, max_tokens, tools,
            tool_choice, response_format, api_key, request_id, adapter_opts, transport settings).

    Returns:
        The ``ChatResult``: the whole thread, the final response, every step.
    """
    from . import _sync

    opts.setdefault("request_id", request_id_from(opts))
    with telemetry.span("chat", _chat_span_meta(engine, opts)) as span:
        run, plan, project, thread = _open(
            engine, thread_or_messages, opts, sync_api=True, chat=True
        )
        collector = StreamCollector(thread, request_id=run.request_id)
        collector.apply_all(_sync.drive(plan, _NO_FILTER))
        result: ChatResult = project(collector)
        span.stop_metadata["chat_result"] = result
    return result


# -- the async API ----------------------------------------------------------------------------


async def astream_step(
    engine: Any, thread_or_messages: Any, **opts: Unpack[ChatOptions]
) -> AsyncEventStream[StepResult]:
    """The async twin of ``stream_step``: the same arguments and options (see ``stream_step``)."""
    from . import _async

    await list_mcp_tools(engine, opts)
    run, plan, project, thread = _open(engine, thread_or_messages, opts, sync_api=False, chat=False)
    return AsyncEventStream(
        _async.drive(plan, _NO_FILTER),
        lambda: StreamCollector(thread, request_id=run.request_id),
        project,
        run.request_id,
        plan,
    )


async def astep(engine: Any, thread_or_messages: Any, **opts: Unpack[ChatOptions]) -> StepResult:
    """The async twin of ``step``: the same arguments and options (see ``step``)."""
    events = await astream_step(engine, thread_or_messages, **opts)
    return _raise_unknown_tool(await events.collect())


async def astream(
    engine: Any, thread_or_messages: Any, **opts: Unpack[ChatOptions]
) -> AsyncEventStream[ChatResult]:
    """The async twin of ``stream``: the same arguments and options (see ``stream``)."""
    from . import _async

    opts.setdefault("request_id", request_id_from(opts))
    with telemetry.span("chat", _chat_span_meta(engine, opts)) as span:
        await list_mcp_tools(engine, opts)
        run, plan, project, thread = _open(
            engine, thread_or_messages, opts, sync_api=False, chat=True
        )
        span.stop_metadata["chat_result"] = None
    return AsyncEventStream(
        _async.drive(plan, _NO_FILTER),
        lambda: StreamCollector(thread, request_id=run.request_id),
        project,
        run.request_id,
        plan,
    )


async def achat(engine: Any, thread_or_messages: Any, **opts: Unpack[ChatOptions]) -> ChatResult:
    """The async twin of ``chat``: the same arguments and options (see ``chat``)."""
    from . import _async

    opts.setdefault("request_id", request_id_from(opts))
    with telemetry.span("chat", _chat_span_meta(engine, opts)) as span:
        await list_mcp_tools(engine, opts)
        run, plan, project, thread = _open(
            engine, thread_or_messages, opts, sync_api=False, chat=True
        )
        collector = StreamCollector(thread, request_id=run.request_id)
        apply = collector.apply
        async for event in _async.drive(plan, _NO_FILTER):
            apply(event)
        result: ChatResult = project(collector)
        span.stop_metadata["chat_result"] = result
    return result
