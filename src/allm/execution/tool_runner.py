"""Running one turn's tool calls: the ``RunTools`` effect (concurrency and timeouts, per driver)
and the pure settlement of each outcome into events and a tool message.

Calls run concurrently up to ``max_concurrency``; results are reported in input order, so a step
and the fold of its stream agree exactly, and sync and async agree too. A call that exceeds
``tool_timeout`` becomes ``ToolError("timeout")``; Python cannot stop a thread, so a timed-out
sync handler finishes in the background (in a daemon thread, which never blocks exit).
"""

from __future__ import annotations

import contextvars
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import telemetry
from ..data.messages import Message, Role
from ..data.results import RESERVED_HALT_REASONS
from ..data.tools import AskUser, Halt, Tool, ToolCall, ToolFailure
from ..effects import Effect, Scope
from ..errors import AllmError, ToolError
from ..events import (
    AskUserRequested,
    Event,
    ToolExecutionCompleted,
    ToolExecutionStarted,
    ToolHalt,
    ToolResultEncoded,
)
from ..tooling import (
    ToolContext,
    argument_errors,
    encode_error,
    is_async_callable,
    run_outcome_async,
    run_outcome_sync,
)

__all__ = ["RunTools", "Settled", "ToolJob", "settle"]


@dataclass(frozen=True, slots=True)
class ToolJob:
    """One call to run: the tool, the call, the handler context and the executor."""

    tool: Tool
    call: ToolCall
    ctx: ToolContext
    executor: Any
    model: Any = None

    def _span(self) -> telemetry.Span:
        return telemetry.span(
            "tool",
            {
                "tool": self.tool,
                "tool_call": self.call,
                "engine": self.ctx.engine,
                "model": self.model,
                "request_id": self.ctx.request_id,
            },
        )

    def _rejected(self) -> ToolError | None:
        problems = argument_errors(self.tool, self.call)
        if not problems:
            return None
        return ToolError(
            "invalid_arguments",
            f"invalid arguments for {self.tool.name!r}: " + "; ".join(problems),
            tool_name=self.tool.name,
            tool_call_id=self.call.id,
            metadata={"raw_arguments": self.call.raw_arguments, "problems": problems},
        )

    def call_sync(self) -> Any:
        """Run the call here (a worker thread of the sync driver)."""
        rejected = self._rejected()
        if rejected is not None:
            return rejected
        with self._span() as span:
            outcome = run_outcome_sync(
                self.executor, self.tool, dict(self.call.arguments), self.ctx
            )
            span.stop_metadata["result"] = outcome
        return outcome

    async def call_async(self) -> Any:
        """Run the call on the async driver: async code awaited, sync code in a worker thread."""
        rejected = self._rejected()
        if rejected is not None:
            return rejected
        runs_async = hasattr(self.executor, "aexecute") and (
            self.tool.handler is None or is_async_callable(self.tool.handler)
        )
        sync_execute = getattr(self.executor, "execute", None)
        # An async ``execute``, or no sync one at all (an executor with only ``aexecute``).
        runs_async = runs_async or is_async_callable(sync_execute) or not callable(sync_execute)
        if runs_async:
            with self._span() as span:
                outcome = await run_outcome_async(
                    self.executor, self.tool, dict(self.call.arguments), self.ctx
                )
                span.stop_metadata["result"] = outcome
            return outcome
        import anyio.to_thread

        # A sync handler must not block the event loop; on timeout the thread is abandoned.
        return await anyio.to_thread.run_sync(self.call_sync, abandon_on_cancel=True)

    def timed_out(self, seconds: float) -> ToolError:
        telemetry.execute(
            "allm.tool.exception",
            {"duration": 0},
            {"tool": self.tool, "tool_call": self.call, "kind": "exit", "reason": "timeout"},
        )
        return ToolError(
            "timeout",
            f"tool {self.tool.name!r} ran longer than {seconds:g} s",
            tool_name=self.tool.name,
            tool_call_id=self.call.id,
        )


@dataclass(frozen=True, slots=True)
class RunTools(Effect):
    """Run ``jobs`` concurrently; the result is their outcomes in input order."""

    jobs: tuple[ToolJob, ...]
    max_concurrency: int
    timeout: float | None

    def run_sync(self, scope: Scope) -> list[Any]:
        jobs, limit, timeout = self.jobs, self.max_concurrency, self.timeout
        results: list[Any] = [None] * len(jobs)
        finished: queue.SimpleQueue[tuple[int, bool, Any]] = queue.SimpleQueue()
        running: dict[int, float] = {}
        next_index = 0

        def work(index: int) -> None:
            try:
                finished.put((index, True, jobs[index].call_sync()))
            except BaseException as exc:  # surfaced in the driver's thread below
                finished.put((index, False, exc))

        def start_more() -> None:
            nonlocal next_index
            while next_index < len(jobs) and len(running) < limit:
                index, next_index = next_index, next_index + 1
                context = contextvars.copy_context()
                worker = threading.Thread(target=context.run, args=(work, index), daemon=True)
                running[index] = time.monotonic()
                worker.start()

        start_more()
        while running:
            wait = None
            if timeout is not None:
                wait = max(0.0, min(running.values()) + timeout - time.monotonic())
            try:
                index, ok, value = finished.get(timeout=wait)
            except queue.Empty:
                now = time.monotonic()
                for index, started in list(running.items()):
                    if timeout is not None and now - started >= timeout:
                        results[index] = jobs[index].timed_out(timeout)
                        del running[index]
            else:
                if index in running:  # a late answer from a timed-out call is dropped
                    del running[index]
                    if not ok:
                        raise value
                    results[index] = value
            start_more()
        return results

    async def run_async(self, scope: Scope) -> list[Any]:
        import anyio

        jobs, timeout = self.jobs, self.timeout
        results: list[Any] = [None] * len(jobs)
        limiter = anyio.Semaphore(self.max_concurrency)
        failures: list[Exception] = []

        async def one(index: int) -> None:
            async with limiter:
                with anyio.move_on_after(timeout) as scope:
                    try:
                        results[index] = await jobs[index].call_async()
                    except Exception as exc:  # raised as itself below, not in an ExceptionGroup
                        failures.append(exc)
                        group.cancel_scope.cancel()
                        return
                if scope.cancelled_caught:
                    results[index] = jobs[index].timed_out(timeout or 0)

        async with anyio.create_task_group() as group:
            for index in range(len(jobs)):
                group.start_soon(one, index)
        if failures:
            raise failures[0]
        return results


@dataclass(frozen=True, slots=True)
class Settled:
    """One call's outcome, settled: the events to emit, its tool message, and any halt."""

    events: tuple[Event, ...]
    message: Message
    halt: dict[str, Any] | None


def _policy_halt(
    call: ToolCall, error: Any, content: str, exception: BaseException | None = None
) -> tuple[Event, dict[str, Any]]:
    metadata: dict[str, Any] = {"halted_reason": "tool_error", "halt_tool_call_id": call.id}
    result: Any = error
    if exception is not None:
        metadata["on_tool_error_exception"] = exception
        result = {"error": error, "on_tool_error_exception": exception}
    return ToolHalt(call.id, "tool_error", result, content), metadata


def settle(
    call: ToolCall,
    outcome: Any,
    encode: Callable[[Any], str],
    on_tool_error: Any,
) -> Settled:
    """Turn one outcome into its events (started, completed, then encoded / ask / halt)."""
    head: tuple[Event, ...] = (
        ToolExecutionStarted(call.id, call.name, call.arguments),
        ToolExecutionCompleted(call.id, call.name, outcome),
    )

    def tool_message(content: str) -> Message:
        return Message(Role.TOOL, content, tool_call_id=call.id)

    if isinstance(outcome, AskUser):
        event: Event = AskUserRequested(call.id, call.name, outcome.question, dict(outcome.opts))
        halt = {
            "halted_reason": "ask_user",
            "pending_tool_call_id": call.id,
            "pending_question": outcome.question,
            "ask_user_opts": dict(outcome.opts),
        }
        return Settled((*head, event), tool_message("<awaiting user response>"), halt)
    error: AllmError | None = None
    if isinstance(outcome, Halt):
        if outcome.reason in RESERVED_HALT_REASONS or not isinstance(outcome.reason, str):
            error = ToolError(
                "invalid_return",
                f"tool {call.name!r} halted with reserved reason {outcome.reason!r}",
                tool_name=call.name,
                tool_call_id=call.id,
                metadata={"reserved_halt_atom": outcome.reason},
            )
        else:
            try:
                content = encode(outcome.result)
            except Exception as exc:
                error = _encoding_failed(call, exc)
            else:
                halt = {
                    "halted_reason": outcome.reason,
                    "halt_tool_call_id": call.id,
                    "halt_result": outcome.result,
                }
                event = ToolHalt(call.id, outcome.reason, outcome.result, content)
                return Settled((*head, event), tool_message(content), halt)
    elif isinstance(outcome, AllmError):
        error = outcome
    elif isinstance(outcome, ToolFailure):
        error = None
    else:
        try:
            content = encode(outcome)
        except Exception as exc:
            error = _encoding_failed(call, exc)
        else:
            return Settled(
                (*head, ToolResultEncoded(call.id, content)), tool_message(content), None
            )
    failure: Any = outcome if error is None else error
    return _apply_policy(call, failure, encode, on_tool_error, head, tool_message)


def _encoding_failed(call: ToolCall, exc: Exception) -> ToolError:
    return ToolError(
        "encoding_failed",
        f"result of {call.name!r} could not be encoded: {exc}",
        tool_name=call.name,
        tool_call_id=call.id,
        cause=exc,
    )


def _encode_failure(failure: Any, encode: Callable[[Any], str]) -> str:
    if isinstance(failure, ToolError) and failure.reason == "encoding_failed":
        return encode_error(failure)  # the user's encoder is what failed: never call it again
    try:
        return encode(failure if isinstance(failure, ToolFailure) else ToolFailure(_text(failure)))
    except Exception:
        return (
            encode_error(failure) if isinstance(failure, AllmError) else '{"error":"unencodable"}'
        )


def _text(failure: Any) -> Any:
    return failure.message if isinstance(failure, AllmError) else failure


def _apply_policy(
    call: ToolCall,
    failure: Any,
    encode: Callable[[Any], str],
    on_tool_error: Any,
    head: tuple[Event, ...],
    tool_message: Callable[[str], Message],
) -> Settled:
    content = _encode_failure(failure, encode)
    # A reported ToolFailure reaches the policy as it is; a crash, timeout, ... as a ToolError.
    error = failure
    if on_tool_error == "continue":
        return Settled((*head, ToolResultEncoded(call.id, content)), tool_message(content), None)
    if on_tool_error == "halt":
        event, halt = _policy_halt(call, error, content)
        return Settled((*head, event), tool_message(content), halt)
    try:
        decision = on_tool_error(call, error)
    except Exception as exc:
        lifted = ToolError(
            "invalid_return",
            f"on_tool_error raised {type(exc).__name__}: {exc}",
            tool_name=call.name,
            tool_call_id=call.id,
            cause=exc,
        )
        event, halt = _policy_halt(call, lifted, content, exc)
        return Settled((*head, event), tool_message(content), halt)
    if decision == "halt":
        event, halt = _policy_halt(call, error, content)
        return Settled((*head, event), tool_message(content), halt)
    if isinstance(decision, tuple) and len(decision) == 2 and decision[0] == "continue":
        try:
            replacement = encode(decision[1])
        except Exception as exc:
            replacement = encode_error(_encoding_failed(call, exc))
        event = ToolResultEncoded(call.id, replacement)
        return Settled((*head, event), tool_message(replacement), None)
    invalid = ToolError(
        "invalid_return",
        f'on_tool_error must return ("continue", value) or "halt", got {decision!r}',
        tool_name=call.name,
        tool_call_id=call.id,
    )
    event, halt = _policy_halt(call, invalid, content)
    return Settled((*head, event), tool_message(content), halt)


def validate_on_tool_error(value: Any) -> list[str]:
    """Problems with an ``on_tool_error`` setting."""
    if value in ("continue", "halt"):
        return []
    if callable(value):
        import inspect

        try:
            parameters = [
                p
                for p in inspect.signature(value).parameters.values()
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            ]
        except (TypeError, ValueError):
            return []
        if len(parameters) != 2:
            return ["on_tool_error callable must take (tool_call, error)"]
        return []
    return [f'on_tool_error must be "continue", "halt" or a callable, got {value!r}']
